"""`ood(sampler, inside, outside)`: how well a run's ensemble flags out-of-distribution inputs.

In-distribution = the run's own test split; out = another data set's test split (e.g.
MNIST -> notMNIST, or cifar5 -> `cifar5-other`, the CIFAR-10 test images of classes 5-9).
Returns (and the CLI writes) JSON with stable keys::

    {"in_dataset": "mnist", "out_dataset": "notmnist", "ensemble_size": 100,
     "num_in": 10000, "num_out": 10000,
     "scores": {"entropy": {"auroc": .., "aupr": .., "mean_in": .., "mean_out": ..},
                "variance": {...}, "mutual_information": {...}},
     "entropy_auroc_by_ensemble_size": {"1": .., "2": .., "5": .., "10": .., "20": .., "50": .., "100": ..}}

(the entropy AUROC of the first n networks, for each n of ENSEMBLE_SIZES below the
ensemble size, and of all of them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hypergan_tf.analysis.predict import predict_probabilities
from hypergan_tf.analysis.uncertainty import SCORES, detection, predictive_entropy
from hypergan_tf.atomic import save_figure
from hypergan_tf.data import Dataset
from hypergan_tf.errors import HyperganError
from hypergan_tf.resources import check_memory, prediction_bytes_per_network
from hypergan_tf.samplers import NETWORK_SEED, WeightSampler


def ood(model: WeightSampler, inside: Dataset, outside: Dataset, ensemble_size: int = 100, seed: int = NETWORK_SEED,
        progress=None, plot: str | Path | None = None) -> dict:
    """Score every test image of `inside` and `outside` by the ensemble's uncertainty."""
    if ensemble_size < 1:
        raise HyperganError("--ensemble-size must be at least 1")
    ensemble_size = model.networks_available(ensemble_size)
    num_images = len(inside.test_labels) + len(outside.test_labels)
    check_memory("--ensemble-size", ensemble_size, prediction_bytes_per_network(model.target, num_images),
                 f"the networks' weights and predictions on {num_images:,} images")
    weights = model.sample_networks(ensemble_size, seed)
    images = np.concatenate([inside.test_images, outside.test_images])
    members = predict_probabilities(model, images, weights, progress=progress)
    split = len(inside.test_labels)
    scores = {}
    for name, score in SCORES.items():
        values = score(members)
        scores[name] = {
            **detection(values[:split], values[split:]),
            "mean_in": float(values[:split].mean()),
            "mean_out": float(values[split:].mean()),
        }
    by_size = {str(n): detection(*np.split(predictive_entropy(members[:n]), [split]))["auroc"]
               for n in ENSEMBLE_SIZES if n < ensemble_size} | {str(ensemble_size): scores["entropy"]["auroc"]}
    if plot is not None:
        entropy = predictive_entropy(members)
        plot_entropy(entropy[:split], entropy[split:], inside.name, outside.name, Path(plot))
    return {
        "in_dataset": inside.name,
        "out_dataset": outside.name,
        "ensemble_size": ensemble_size,
        "num_in": split,
        "num_out": int(len(outside.test_labels)),
        "scores": scores,
        "entropy_auroc_by_ensemble_size": by_size,
    }


# The ensemble sizes (first n of the networks drawn) whose entropy AUROC `ood` also reports.
ENSEMBLE_SIZES = (1, 2, 5, 10, 20, 50)


def entropy_auroc(model: WeightSampler, inside: np.ndarray, outside: np.ndarray, ensemble_size: int = 100, seed: int = NETWORK_SEED) -> float:
    """AUROC of telling `outside` images from `inside` ones by the entropy of the mean
    prediction of `ensemble_size` networks (for generated or validation images: `ood`
    reads test splits)."""
    weights = model.sample_networks(model.networks_available(ensemble_size), seed)
    entropy = predictive_entropy(predict_probabilities(model, np.concatenate([inside, outside]), weights))
    return detection(entropy[: len(inside)], entropy[len(inside):])["auroc"]


def plot_entropy(inside: np.ndarray, outside: np.ndarray, in_name: str, out_name: str, path: Path) -> None:
    """Density and empirical CDF of the predictive entropy, in- vs out-of-distribution."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (density, cdf) = plt.subplots(1, 2, figsize=(10, 4))
    bins = np.linspace(0.0, max(inside.max(), outside.max(), 1e-3), 50)
    for values, label in ((inside, f"{in_name} (in)"), (outside, f"{out_name} (out)")):
        density.hist(values, bins=bins, density=True, histtype="step", linewidth=2, label=label)
        ordered = np.sort(values)
        cdf.plot(ordered, np.arange(1, len(ordered) + 1) / len(ordered), linewidth=2, label=label)
    density.set(xlabel="predictive entropy (nats)", ylabel="density", title="Entropy density")
    cdf.set(xlabel="predictive entropy (nats)", ylabel="fraction of inputs", title="Entropy CDF")
    for axis in (density, cdf):
        axis.legend()
    figure.tight_layout()
    save_figure(figure, path)
