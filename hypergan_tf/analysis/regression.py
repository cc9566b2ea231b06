"""`evaluate_regression(sampler, data)`: the ensemble of sampled regression networks on
the test split, inside and outside the range the training inputs came from.

The JSON it returns (what `evaluate` writes for a regression run; lengths in the
units of the targets, NLL in nats)::

    {"dataset": "toy-cubic", "task": "regression", "num_test_examples": 241,
     "num_networks": 100, "seed": 12345, "likelihood": "gaussian", "noise_std": 3.0,
     "training_range": [-4.0, 4.0],
     "inside":  {"num_examples": .., "rmse": .., "rmse_mean_network": .., "rmse_to_truth": ..,
                 "nll": .., "std_networks": .., "std_predictive": ..},
     "outside": {... the same keys},
     "all":     {... the same keys},
     "std_ratio_outside_inside": {"networks": .., "predictive": ..}}

- `rmse`: of the ensemble mean (the networks' average output) against the test targets
  (which carry the data's noise); `rmse_mean_network`: each network's RMSE, averaged;
  `rmse_to_truth`: the ensemble mean against the noise-free function, when the data set
  knows it (generated sets), else absent;
- `nll`: the predictive negative log-likelihood of the targets under the mixture of the
  networks' Gaussians N(f_k(x), noise_std^2) (the likelihood's fixed noise std);
- `std_networks`: the standard deviation of the sampled networks' outputs at each test
  input (the model's uncertainty), averaged over the inputs of the region;
  `std_predictive`: sqrt(std_networks^2 + noise_std^2) at each input, averaged: the
  predictive std of the Gaussian likelihood, noise included;
- `std_ratio_outside_inside`: outside over inside, for both.

"inside" is the interval the training inputs were drawn from (`Dataset.input_range`),
else the span of the training inputs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hypergan_tf.analysis.predict import predict_logits
from hypergan_tf.atomic import save_figure
from hypergan_tf.data import Dataset
from hypergan_tf.errors import HyperganError
from hypergan_tf.samplers import NETWORK_SEED, WeightSampler

PLOTTED_NETWORKS = 10  # thin lines of single sampled networks in the plot


def training_range(data: Dataset) -> tuple[float, float]:
    if data.input_range is not None:
        return tuple(float(v) for v in data.input_range)
    if data.train_images is None:
        raise HyperganError(f"dataset {data.name} has no training inputs to tell inside from outside the training range")
    return float(data.train_images.min()), float(data.train_images.max())


def region_statistics(outputs: np.ndarray, targets: np.ndarray, noise_std: float, truth: np.ndarray | None = None) -> dict:
    """outputs [networks, N] and targets [N] of one region -> its evaluation dict."""
    mean = outputs.mean(axis=0)
    std = outputs.std(axis=0)
    log_densities = -0.5 * ((targets[None] - outputs) / noise_std) ** 2 - np.log(noise_std) - 0.5 * np.log(2 * np.pi)
    peak = log_densities.max(axis=0)
    log_mixture = peak + np.log(np.mean(np.exp(log_densities - peak), axis=0))
    result = {
        "num_examples": int(len(targets)),
        "rmse": float(np.sqrt(np.mean((mean - targets) ** 2))),
        "rmse_mean_network": float(np.mean(np.sqrt(np.mean((outputs - targets[None]) ** 2, axis=1)))),
        "nll": float(-np.mean(log_mixture)),
        "std_networks": float(std.mean()),
        "std_predictive": float(np.sqrt(std**2 + noise_std**2).mean()),
    }
    if truth is not None:
        result["rmse_to_truth"] = float(np.sqrt(np.mean((mean - truth) ** 2)))
    return result


def evaluate_regression(model: WeightSampler, data: Dataset, num_networks: int = 100, seed: int = NETWORK_SEED,
                        progress=None, plot: str | Path | None = None) -> dict:
    """Sample `num_networks` networks (at most as many as the sampler has) and score their
    ensemble on `data`'s test split, inside and outside the training range."""
    if data.image_shape != (1,):
        raise HyperganError(f"regression evaluation needs one input per example; {data.name} has inputs of shape {data.image_shape}")
    if num_networks < 1:
        raise HyperganError("--num-networks must be at least 1")
    n = model.networks_available(num_networks)
    weights = model.sample_networks(n, seed)
    outputs = predict_logits(model, data.test_images, weights, progress=progress)[..., 0]  # raw outputs [n, N]
    x, targets = data.test_images[:, 0].astype(np.float64), data.test_labels.astype(np.float64)
    truth = None if data.truth is None else data.truth(x)
    noise_std = model.likelihood.noise_std
    low, high = training_range(data)
    inside = (x >= low) & (x <= high)
    regions = {"inside": inside, "outside": ~inside, "all": np.ones_like(inside)}
    result = {"dataset": data.name, "task": data.task, "num_test_examples": int(len(targets)), "num_networks": n, "seed": seed,
              "likelihood": model.likelihood.name, "noise_std": noise_std, "training_range": [low, high]}
    for name, mask in regions.items():
        if not mask.any():
            raise HyperganError(f"the test split of {data.name} has no input {name} the training range [{low:g}, {high:g}]")
        result[name] = region_statistics(outputs[:, mask], targets[mask], noise_std, None if truth is None else truth[mask])
    result["std_ratio_outside_inside"] = {
        key: result["outside"][f"std_{key}"] / result["inside"][f"std_{key}"] for key in ("networks", "predictive")}
    if plot is not None:
        plot_regression(x, outputs, data, (low, high), noise_std, Path(plot), model.describe())
    return result


def plot_regression(x: np.ndarray, outputs: np.ndarray, data: Dataset, train_range, noise_std: float, path: Path,
                    sampler: str = "sampled networks") -> None:
    """The training points, the true function, a few sampled networks, and the networks'
    mean with +-2 std bands (of the networks; and with the noise std added)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    order = np.argsort(x)
    x, outputs = x[order], outputs[:, order]
    mean, std = outputs.mean(axis=0), outputs.std(axis=0)
    predictive = np.sqrt(std**2 + noise_std**2)
    figure, axis = plt.subplots(figsize=(7, 4.5))
    axis.fill_between(x, mean - 2 * predictive, mean + 2 * predictive, color="tab:blue", alpha=0.12,
                      label=f"+-2 predictive std (noise {noise_std:g} included)")
    axis.fill_between(x, mean - 2 * std, mean + 2 * std, color="tab:blue", alpha=0.3, label="+-2 std of the networks")
    for row in outputs[:PLOTTED_NETWORKS]:
        axis.plot(x, row, color="tab:blue", linewidth=0.5, alpha=0.5)
    axis.plot(x, mean, color="tab:blue", linewidth=2, label=f"mean of {len(outputs)} sampled networks")
    if data.truth is not None:
        axis.plot(x, data.truth(x), "k--", linewidth=1, label="true function")
    if data.train_images is not None:
        axis.plot(data.train_images[:, 0], data.train_labels, "o", color="tab:red", markersize=4, label="training points")
    for edge in train_range:
        axis.axvline(edge, color="grey", linestyle=":", linewidth=1)
    span = np.abs(data.test_labels).max() * 1.3
    axis.set(xlabel="x", ylabel="y", ylim=(-span, span), title=f"{data.name}, {sampler}: the networks' mean +-2 std")
    axis.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    save_figure(figure, path)
