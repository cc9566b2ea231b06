"""`interpolate(sampler, data, ...)`: networks along a path between two networks.

Is the generated set one connected, low-loss region? Two endpoint networks are fixed,
either by two noise vectors (`fixed_noise(1, noise_dim, seed)[0]` for two seeds) or as
networks `i` and `j` of the sample that evaluate draws (seed NETWORK_SEED). Then, at
`points` evenly spaced t in [0, 1]:

- "noise_line":   weights_from_noise((1 - t) a + t b), the straight line in noise space;
- "noise_circle": the great circle from a to b: the direction moves along the arc
  between a/|a| and b/|b| (slerp) while the norm goes linearly from |a| to |b|, so the
  path stays on the shell where Gaussian noise lives (the middle of the line is
  ~30% shorter than a typical noise vector in 256 dimensions);
- "weight_line":  (1 - t) w_a + t w_b, the straight line in weight space between the
  endpoints' weights (linear mode connectivity);
- "baseline_weight_line": the same between two members of another run (a random-start
  ensemble: independently trained networks usually have a loss barrier between them).

Every path's networks are scored as one batch of K networks (`sampler.classify`,
batched over test images). The JSON it returns (fractions in [0, 1], NLL in nats)::

    {"dataset": "mnist", "num_test_examples": 10000, "points": 21, "t": [0.0, 0.05, ..],
     "endpoints": {"from": {"seed": 1}, "to": {"seed": 2}},   # or {"index": 0, "network_seed": 12345}
     "paths": {"noise_line": {"space": "noise", "accuracy": [..], "nll": [..],
                              "worst_accuracy": .., "worst_t": .., "max_nll": ..,
                              "endpoint_accuracy": [.., ..]}, ...},
     "baseline": {"run": "runs/ensemble", "from_index": 0, "to_index": 1}}   # with a baseline run
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import tensorflow as tf

from hypergan_tf.analysis import metrics
from hypergan_tf.analysis.predict import predict_probabilities
from hypergan_tf.atomic import save_figure
from hypergan_tf.data import Dataset
from hypergan_tf.errors import HyperganError
from hypergan_tf.samplers import NETWORK_SEED, WeightSampler, fixed_noise

DEFAULT_POINTS = 21
# Networks x images evaluated in one call (10 networks x 500 images, as predict.py): all of
# a path's networks go in one batch, so the image batch shrinks as the path grows.
NETWORK_IMAGES_PER_CALL = 5000


def line(start: np.ndarray, end: np.ndarray, t: np.ndarray) -> np.ndarray:
    """[n] vectors at [T] times -> [T, n] on the straight line (exact at t = 0 and 1)."""
    t = t[:, None]
    return (1.0 - t) * start[None] + t * end[None]


def great_circle(start: np.ndarray, end: np.ndarray, t: np.ndarray) -> np.ndarray:
    """[n] vectors at [T] times -> [T, n]: the direction moves along the great circle
    between start/|start| and end/|end| (slerp), the norm linearly from |start| to |end|."""
    norms = np.linalg.norm(start), np.linalg.norm(end)
    if min(norms) == 0:
        raise HyperganError("a great circle needs two non-zero noise vectors")
    u, v = start / norms[0], end / norms[1]
    angle = np.arccos(np.clip(np.dot(u, v), -1.0, 1.0))
    if angle < 1e-6:
        directions = line(u, v, t)
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    else:
        t = t[:, None]
        directions = (np.sin((1.0 - t) * angle) * u[None] + np.sin(t * angle) * v[None]) / np.sin(angle)
    t = t.reshape(-1)
    points = (directions * ((1.0 - t) * norms[0] + t * norms[1])[:, None]).astype(start.dtype)
    points[t == 0.0], points[t == 1.0] = start, end  # the endpoints exactly, not up to rounding
    return points


# --path -> the noise-space paths it takes (the weight-space path is always taken).
NOISE_PATHS = {"line": line, "circle": great_circle}
PATH_CHOICES = {"line": ("line",), "circle": ("circle",), "both": ("line", "circle"), "weight": ()}


def weight_line(start: dict[str, np.ndarray], end: dict[str, np.ndarray], t: np.ndarray) -> dict[str, np.ndarray]:
    """Two networks' weights (dicts of [*shape]) -> [T, *shape] on the straight line."""
    return {name: line(start[name].reshape(-1), end[name].reshape(-1), t).reshape((len(t),) + start[name].shape).astype(start[name].dtype)
            for name in start}


def endpoints_by_index(model: WeightSampler, first: int, second: int, seed: int = NETWORK_SEED):
    """Networks `first` and `second` of the sample `evaluate` draws: (weights a, weights b,
    noise a, noise b), the noise None for a sampler without a latent space."""
    check_indices(model, first, second)
    largest = max(first, second)
    if model.noise_dim is None:
        weights = model.sample_networks(largest + 1, seed)
        return ({k: v[first] for k, v in weights.items()}, {k: v[second] for k, v in weights.items()}, None, None)
    noise = fixed_noise(largest + 1, model.noise_dim, seed)[[first, second]]
    return (*_split(noise_networks(model, noise)), noise[0], noise[1])


def endpoints_by_seed(model: WeightSampler, first: int, second: int):
    """The networks of noise vectors fixed_noise(1, noise_dim, seed)[0] for two seeds."""
    if model.noise_dim is None:
        raise HyperganError(no_latent_space(model))
    noise = np.concatenate([fixed_noise(1, model.noise_dim, first), fixed_noise(1, model.noise_dim, second)])
    return (*_split(noise_networks(model, noise)), noise[0], noise[1])


def noise_networks(model: WeightSampler, noise: np.ndarray) -> dict[str, np.ndarray]:
    """noise [K, noise_dim] -> the K networks' weights [K, ...] as NumPy arrays."""
    return {k: v.numpy() for k, v in model.weights_from_noise(tf.constant(noise)).items()}


def _split(weights: dict[str, np.ndarray]):
    """Weights of two networks [2, ...] -> (first network's, second network's)."""
    return {k: v[0] for k, v in weights.items()}, {k: v[1] for k, v in weights.items()}


def check_indices(model: WeightSampler, first: int, second: int) -> None:
    if min(first, second) < 0:
        raise HyperganError("--from-index and --to-index must be >= 0")
    largest = max(first, second)
    if model.max_networks is not None and largest >= model.max_networks:
        raise HyperganError(f"this {model.describe()} has {model.max_networks} network(s): indices run from 0 to {model.max_networks - 1} (got {largest})")


def no_latent_space(model: WeightSampler) -> str:
    return (f"this {model.describe()} has no latent space, so there is no noise path; use --path weight (the straight "
            "path in weight space between two of its networks, --from-index/--to-index)")


def score_path(model: WeightSampler, data: Dataset, weights: dict[str, np.ndarray], t: np.ndarray, space: str, progress=None) -> dict:
    """Accuracy and NLL of each of the path's K networks (weights [K, ...]), all K in one batch."""
    count = len(t)
    probabilities = predict_probabilities(model, data.test_images, weights, network_chunk=count,
                                          image_batch=max(1, NETWORK_IMAGES_PER_CALL // count), progress=progress)
    accuracy = metrics.per_network_accuracy(probabilities, data.test_labels)
    nll = np.array([metrics.negative_log_likelihood(p, data.test_labels) for p in probabilities])
    worst = int(np.argmin(accuracy))
    return {"space": space, "accuracy": accuracy.tolist(), "nll": nll.tolist(),
            "worst_accuracy": float(accuracy[worst]), "worst_t": float(t[worst]), "max_nll": float(nll.max()),
            "endpoint_accuracy": [float(accuracy[0]), float(accuracy[-1])]}


def check_options(model: WeightSampler, points: int, path: str, from_seed: int | None, to_seed: int | None,
                  from_index: int | None, to_index: int | None, baseline: WeightSampler | None = None) -> tuple[bool, tuple[int, int]]:
    """Every check on the options, before any computation: (endpoints given by seed?,
    (first index, second index))."""
    by_seed = from_seed is not None or to_seed is not None
    by_index = from_index is not None or to_index is not None
    if points < 2:
        raise HyperganError(f"--points must be at least 2 (the two endpoints), got {points}")
    if path not in PATH_CHOICES:
        raise HyperganError(f"--path must be one of {', '.join(PATH_CHOICES)} (got {path!r})")
    if by_seed and by_index:
        raise HyperganError("give the endpoints either by --from-seed/--to-seed or by --from-index/--to-index, not both")
    if by_seed and (from_seed is None or to_seed is None):
        raise HyperganError("give both --from-seed and --to-seed")
    if by_seed and min(from_seed, to_seed) < 0:
        raise HyperganError("--from-seed and --to-seed must be >= 0")
    if PATH_CHOICES[path] and model.noise_dim is None:
        raise HyperganError(no_latent_space(model))
    if by_seed and not PATH_CHOICES[path]:
        raise HyperganError("--from-seed/--to-seed pick noise vectors; with --path weight pick networks with --from-index/--to-index")
    indices = (0 if from_index is None else from_index), (1 if to_index is None else to_index)
    for sampler in (model, baseline) if baseline is not None else (model,):
        check_indices(sampler, *indices)
    return by_seed, indices


def interpolate(model: WeightSampler, data: Dataset, points: int = DEFAULT_POINTS, path: str = "both",
                from_seed: int | None = None, to_seed: int | None = None, from_index: int | None = None, to_index: int | None = None,
                baseline: WeightSampler | None = None, baseline_name: str | None = None, progress=None) -> dict:
    """Score the networks along the chosen paths between two endpoint networks (by seed
    or by index: default networks 0 and 1 of the NETWORK_SEED sample) on `data`'s test split."""
    by_seed, (first, second) = check_options(model, points, path, from_seed, to_seed, from_index, to_index, baseline)
    if by_seed:
        endpoint_a, endpoint_b, noise_a, noise_b = endpoints_by_seed(model, from_seed, to_seed)
        described = {"from": {"seed": from_seed}, "to": {"seed": to_seed}}
    else:
        endpoint_a, endpoint_b, noise_a, noise_b = endpoints_by_index(model, first, second)
        described = {"from": {"index": first, "network_seed": NETWORK_SEED}, "to": {"index": second, "network_seed": NETWORK_SEED}}
    if baseline is not None:
        baseline_a, baseline_b, _, _ = endpoints_by_index(baseline, first, second)
    t = np.linspace(0.0, 1.0, points)
    # (name, sampler, the path's networks [points, ...]); scored one path (one batch of K networks) at a time.
    todo = [(f"noise_{name}", model, "noise", lambda name=name: noise_networks(model, NOISE_PATHS[name](noise_a, noise_b, t)))
            for name in PATH_CHOICES[path]]
    todo.append(("weight_line", model, "weight", lambda: weight_line(endpoint_a, endpoint_b, t)))
    if baseline is not None:
        todo.append(("baseline_weight_line", baseline, "weight", lambda: weight_line(baseline_a, baseline_b, t)))
    paths = {}
    for i, (name, sampler, space, networks) in enumerate(todo):
        step = (lambda done, total, i=i: progress(i * total + done, len(todo) * total)) if progress else None
        paths[name] = score_path(sampler, data, networks(), t, space, step)
    result = {"dataset": data.name, "num_test_examples": int(len(data.test_labels)), "points": points, "t": t.tolist(),
              "endpoints": described, "paths": paths}
    if baseline is not None:
        result["baseline"] = {"run": baseline_name, "sampler": baseline.describe(), "from_index": first, "to_index": second}
    return result


PATH_LABELS = {"noise_line": "noise space, straight line", "noise_circle": "noise space, great circle",
               "weight_line": "weight space, straight line", "baseline_weight_line": "weight space, two random-start members"}


def plot_paths(result: dict, path: str | Path) -> None:
    """Test accuracy and NLL along every path against t."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (accuracy, loss) = plt.subplots(1, 2, figsize=(10, 4))
    for name, values in result["paths"].items():
        style = "o-" if values["space"] == "noise" else "s--"
        accuracy.plot(result["t"], 100 * np.array(values["accuracy"]), style, markersize=3, label=PATH_LABELS[name])
        loss.plot(result["t"], values["nll"], style, markersize=3, label=PATH_LABELS[name])
    accuracy.set(xlabel="t (0 = first network, 1 = second)", ylabel="test accuracy (%)", title="Accuracy along the path")
    loss.set(xlabel="t (0 = first network, 1 = second)", ylabel="test NLL (nats)", title="Loss along the path")
    for axis in (accuracy, loss):
        axis.legend(fontsize=8)
        axis.grid(alpha=0.3)
    figure.tight_layout()
    save_figure(figure, path)
