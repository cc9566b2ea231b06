"""The likelihood registry: each loss and score equals a hand NumPy computation."""

import numpy as np
import pytest
import tensorflow as tf

from hypergan_tf.errors import HyperganError
from hypergan_tf.objectives.likelihood import LIKELIHOODS, default_likelihood, get_likelihood

RNG = np.random.default_rng(3)
OUTPUTS = RNG.normal(0, 4, (3, 5, 1)).astype(np.float32)  # K = 3 networks, B = 5 inputs, one output
TARGETS = RNG.normal(0, 4, 5).astype(np.float32)


def test_gaussian_loss_is_the_mean_negative_log_density():
    sigma = 2.5
    errors = OUTPUTS[..., 0] - TARGETS[None]
    expected = np.mean(0.5 * (errors / sigma) ** 2 + np.log(sigma) + 0.5 * np.log(2 * np.pi))
    got = get_likelihood("gaussian", sigma).loss(tf.constant(OUTPUTS), tf.constant(TARGETS))
    np.testing.assert_allclose(float(got), expected, rtol=1e-6)


def test_gaussian_scores_are_rmse_of_members_and_of_the_ensemble_mean():
    likelihood = get_likelihood("gaussian", 3.0)
    outputs, targets = tf.constant(OUTPUTS), tf.constant(TARGETS)
    members = np.sqrt(np.mean((OUTPUTS[..., 0] - TARGETS[None]) ** 2, axis=1))
    ensemble = np.sqrt(np.mean((OUTPUTS[..., 0].mean(0) - TARGETS) ** 2))
    np.testing.assert_allclose(float(likelihood.member_score(outputs, targets)), members.mean(), rtol=1e-5)
    np.testing.assert_allclose(float(likelihood.ensemble_score(outputs, targets)), ensemble, rtol=1e-5)
    np.testing.assert_allclose(float(likelihood.spread(outputs)), OUTPUTS[..., 0].std(0).mean(), rtol=1e-5)
    # Lower RMSE is better: the gain of an ensemble that beats its members is positive.
    assert float(likelihood.gain(ensemble, members.mean())) == pytest.approx(members.mean() - ensemble)
    assert members.mean() - ensemble > 0  # Jensen: the mean's error is at most the members' mean error


def test_categorical_loss_is_cross_entropy():
    logits = RNG.normal(0, 2, (2, 4, 3)).astype(np.float32)
    labels = np.array([0, 2, 1, 2], np.int32)
    log_softmax = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -np.mean(log_softmax[:, np.arange(4), labels])
    likelihood = get_likelihood("categorical")
    np.testing.assert_allclose(float(likelihood.loss(tf.constant(logits), tf.constant(labels))), expected, rtol=1e-5)
    accuracy = np.mean(logits.argmax(-1) == labels[None])
    np.testing.assert_allclose(float(likelihood.member_score(tf.constant(logits), tf.constant(labels))), accuracy)
    assert likelihood.log_names() == {"score": "accuracy", "ensemble_score": "ensemble_accuracy", "spread": "disagreement"}


def test_each_task_has_its_likelihood_and_unknown_names_fail_clearly():
    assert default_likelihood("classification") == "categorical" and default_likelihood("regression") == "gaussian"
    assert {cls.task for cls in LIKELIHOODS.values()} == {"classification", "regression"}
    with pytest.raises(HyperganError, match="no likelihood fits the task 'ranking'"):
        default_likelihood("ranking")
    with pytest.raises(HyperganError, match="unknown likelihood 'poisson'; choose one of: categorical, gaussian"):
        get_likelihood("poisson")
