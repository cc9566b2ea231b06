import itertools

import numpy as np
import pytest

from hypergan_tf.analysis import metrics


def test_accuracy_nll_and_ece_on_a_hand_computed_case():
    probabilities = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.8, 0.2]])
    labels = np.array([0, 1, 1, 0])
    assert metrics.accuracy(probabilities, labels) == 0.75
    assert metrics.negative_log_likelihood(probabilities, labels) == pytest.approx(-np.mean(np.log([0.9, 0.4, 0.7, 0.8])))
    # confidences 0.9, 0.6, 0.7, 0.8 fall in four different bins of 15; only the 0.6 one is wrong
    expected = (abs(1 - 0.9) + abs(0 - 0.6) + abs(1 - 0.7) + abs(1 - 0.8)) / 4
    assert metrics.expected_calibration_error(probabilities, labels) == pytest.approx(expected)


def test_brier_score_on_a_hand_computed_case():
    probabilities = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    # (0 + 0) ; (0.25 + 0.25) ; (1 + 1)
    assert metrics.brier_score(probabilities, np.array([0, 1, 0])) == pytest.approx((0.0 + 0.5 + 2.0) / 3)


def test_perfectly_calibrated_prediction_has_zero_ece():
    probabilities = np.tile([[0.5, 0.5]], (4, 1))
    assert metrics.expected_calibration_error(probabilities, np.array([0, 1, 0, 1])) == pytest.approx(0.0)


def test_pairwise_disagreement_equals_brute_force():
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(4), size=(7, 50))
    votes = probabilities.argmax(-1)
    brute = np.mean([np.mean(votes[i] != votes[j]) for i, j in itertools.combinations(range(7), 2)])
    assert metrics.pairwise_disagreement(probabilities) == pytest.approx(brute)
    assert metrics.pairwise_disagreement(np.repeat(probabilities[:1], 5, 0)) == 0.0


def test_l2_std_over_mean():
    kernels = np.stack([np.full((2, 2), 1.0), np.full((2, 2), 3.0)])  # L2 norms 2 and 6
    result = metrics.l2_std_over_mean({"conv1/kernel": kernels, "conv1/bias": np.zeros((2, 2))})
    assert result == {"conv1": pytest.approx(2.0 / 4.0)}
    stats = metrics.l2_norm_stats({"conv1/kernel": kernels})["conv1"]
    assert stats == {"l2_mean": pytest.approx(4.0), "l2_std": pytest.approx(2.0), "std_over_mean": pytest.approx(0.5)}
