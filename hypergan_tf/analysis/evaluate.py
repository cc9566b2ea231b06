"""`evaluate(sampler, data)`: accuracy of single sampled networks and of ensembles, plus diversity.

This is the evaluation of a classification data set; `EVALUATIONS` maps each task of a
data set (`Dataset.task`) to its evaluation, and `evaluate_task` picks it: a regression
set's is analysis/regression.py (RMSE and predictive std inside and outside the
training range).

The JSON it returns has a fixed shape that other tools read (fractions in [0, 1])::

    {"dataset": "mnist", "num_test_examples": 10000,
     "single_network": {"accuracy_mean": .., "accuracy_std": .., "num_networks": 100},
     "ensembles": {"10": {"accuracy": .., "nll": .., "ece": .., "brier": ..,
                          "accuracy_over_groups": {"mean": .., "std": .., "num_groups": 10}}, ...},
     "diversity": {"pairwise_disagreement": .., "l2_std_over_mean": {"conv1": .., ...},
                   "ensemble_gain": {"10": .., "100": ..},
                   "symmetry_aware": {"conv1": .., ...}}}

`ensemble_gain[n]` is the accuracy of the first n networks' ensemble minus their mean
accuracy. One draw of n networks is noisy (on the one-mode MNIST run, ten disjoint
10-network ensembles differ by 0.03-0.04 points, std), so `accuracy_over_groups` also
scores every disjoint group of n among the sampled networks (present when there are at
least two groups). `symmetry_aware` is diversity.symmetry_aware_diversity (relative
nearest-neighbour distance of the weights modulo per-unit scaling).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hypergan_tf.analysis import metrics
from hypergan_tf.analysis.diversity import symmetry_aware_diversity
from hypergan_tf.analysis.predict import predict_probabilities
from hypergan_tf.analysis.regression import evaluate_regression
from hypergan_tf.atomic import save_figure
from hypergan_tf.data import Dataset
from hypergan_tf.errors import HyperganError
from hypergan_tf.resources import check_memory, prediction_bytes_per_network
from hypergan_tf.samplers import NETWORK_SEED, WeightSampler

DEFAULT_ENSEMBLE_SIZES = (1, 5, 10, 100)


def summarise(probabilities: np.ndarray, labels: np.ndarray, weights: dict[str, np.ndarray], ensemble_sizes, target=None) -> dict:
    """The evaluation dict (minus the dataset fields) from every network's predictions;
    `target` (the TargetSpec) adds the symmetry-aware diversity."""
    single = metrics.per_network_accuracy(probabilities, labels)
    ensembles, gains = {}, {}
    for size in ensemble_sizes:
        if size >= 2:
            gains[str(size)] = metrics.accuracy(probabilities[:size].mean(axis=0), labels) - float(single[:size].mean())
        mean = probabilities[:size].mean(axis=0)
        ensembles[str(size)] = {
            "accuracy": metrics.accuracy(mean, labels),
            "nll": metrics.negative_log_likelihood(mean, labels),
            "ece": metrics.expected_calibration_error(mean, labels),
            "brier": metrics.brier_score(mean, labels),
        }
        num_groups = len(probabilities) // size
        if size >= 2 and num_groups >= 2:
            groups = probabilities[: num_groups * size].reshape((num_groups, size) + probabilities.shape[1:]).mean(axis=1)
            accuracies = metrics.per_network_accuracy(groups, labels)
            ensembles[str(size)]["accuracy_over_groups"] = {"mean": float(accuracies.mean()), "std": float(accuracies.std()), "num_groups": num_groups}
    return {
        "single_network": {
            "accuracy_mean": float(single.mean()),
            "accuracy_std": float(single.std()),
            "num_networks": int(len(single)),
        },
        "ensembles": ensembles,
        "diversity": {
            "pairwise_disagreement": metrics.pairwise_disagreement(probabilities),
            "l2_std_over_mean": metrics.l2_std_over_mean(weights),
            "ensemble_gain": gains,
            **({"symmetry_aware": symmetry_aware_diversity(target, weights)} if target is not None else {}),
        },
    }


def evaluate(
    model: WeightSampler,
    data: Dataset,
    ensemble_sizes=DEFAULT_ENSEMBLE_SIZES,
    num_networks: int = 100,
    seed: int = NETWORK_SEED,
    progress=None,
    reliability_plot: str | Path | None = None,
) -> dict:
    """Sample max(num_networks, largest ensemble) networks and score them on `data`'s test split."""
    if not ensemble_sizes or min(ensemble_sizes) < 1:
        raise HyperganError("--ensemble-sizes must be positive integers, e.g. 1,5,10,100")
    if num_networks < 1:
        raise HyperganError("--num-networks must be at least 1")
    n = model.networks_available(max(num_networks, max(ensemble_sizes)))
    ensemble_sizes = [size for size in ensemble_sizes if size <= n] or [n]  # a random-start ensemble has only its members
    check_memory("--ensemble-sizes" if max(ensemble_sizes) >= num_networks else "--num-networks", n,
                 prediction_bytes_per_network(model.target, len(data.test_labels)),
                 f"the networks' weights and predictions on {len(data.test_labels):,} test images")
    weights = model.sample_networks(n, seed)
    probabilities = predict_probabilities(model, data.test_images, weights, progress=progress)
    if reliability_plot is not None:
        plot_reliability(probabilities[: max(ensemble_sizes)].mean(0), data.test_labels, max(ensemble_sizes), Path(reliability_plot))
    return {
        "dataset": data.name,
        "num_test_examples": int(len(data.test_labels)),
        **summarise(probabilities, data.test_labels, weights, sorted(set(ensemble_sizes)), model.target),
    }


def plot_reliability(probabilities: np.ndarray, labels: np.ndarray, size: int, path: Path) -> None:
    """Reliability diagram of one ensemble: accuracy against confidence per bin."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins = metrics.reliability(probabilities, labels)
    figure, axis = plt.subplots(figsize=(5, 5))
    axis.plot([0, 1], [0, 1], "k:", label="perfect calibration")
    axis.plot([b[0] for b in bins], [b[1] for b in bins], "o-", label=f"{size}-network ensemble")
    axis.set(xlabel="confidence", ylabel="accuracy", title=f"Reliability (ECE {metrics.expected_calibration_error(probabilities, labels):.4f})")
    axis.legend()
    figure.tight_layout()
    save_figure(figure, path)


def _evaluate_regression(model, data, ensemble_sizes, num_networks, seed, progress, plot) -> dict:
    return evaluate_regression(model, data, num_networks, seed, progress, plot)  # one ensemble: all the networks


# Dataset.task -> its evaluation (model, data, ensemble_sizes, num_networks, seed, progress, plot path) -> dict.
EVALUATIONS = {"classification": evaluate, "regression": _evaluate_regression}


def evaluate_task(model: WeightSampler, data: Dataset, ensemble_sizes=DEFAULT_ENSEMBLE_SIZES, num_networks: int = 100,
                  seed: int = NETWORK_SEED, progress=None, plot: str | Path | None = None) -> dict:
    """The evaluation of `data`'s task; `plot` is its figure (reliability diagram, or the
    regression plot: runs/directory.EVALUATION_PLOTS names them)."""
    return EVALUATIONS[data.task](model, data, ensemble_sizes, num_networks, seed, progress, plot)
