"""Ensemble metrics on predicted probabilities (NumPy; fractions in [0, 1], NLL in nats).

`probabilities` is [num_networks, num_examples, num_classes] throughout.
"""

from __future__ import annotations

import numpy as np

ECE_BINS = 15


def accuracy(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Accuracy of one prediction [N, C]."""
    return float(np.mean(np.argmax(probabilities, -1) == labels))


def per_network_accuracy(probabilities: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.mean(np.argmax(probabilities, -1) == labels[None, :], axis=1)


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray) -> float:
    picked = probabilities[np.arange(len(labels)), labels]
    return float(-np.mean(np.log(np.clip(picked, 1e-12, 1.0))))


def brier_score(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """Mean over inputs of the squared distance between the prediction and the one-hot label."""
    onehot = np.eye(probabilities.shape[-1])[labels]
    return float(np.mean(np.sum((probabilities - onehot) ** 2, axis=-1)))


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS):
    """Per equal-width confidence bin: (mean confidence, accuracy, count); empty bins left out."""
    confidence = probabilities.max(-1)
    correct = np.argmax(probabilities, -1) == labels
    which = np.clip(np.digitize(confidence, np.linspace(0.0, 1.0, bins + 1)[1:-1], right=True), 0, bins - 1)
    return [(float(confidence[which == b].mean()), float(correct[which == b].mean()), int((which == b).sum()))
            for b in range(bins) if (which == b).any()]


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    """|accuracy - confidence| averaged over equal-width confidence bins, weighted by bin size."""
    return float(sum(count * abs(acc - conf) for conf, acc, count in reliability(probabilities, labels, bins)) / len(labels))


def pairwise_disagreement(probabilities: np.ndarray) -> float:
    """Fraction of inputs on which two networks disagree, averaged over all pairs.

    Counted per input from how many networks vote for each class, so 100 networks
    cost one pass instead of 4,950 pairwise comparisons.
    """
    n, _, classes = probabilities.shape
    if n < 2:
        return 0.0
    votes = np.argmax(probabilities, -1)  # [n, N]
    counts = np.stack([(votes == c).sum(0) for c in range(classes)], -1)  # [N, C]
    agreeing_pairs = (counts * (counts - 1)).sum(-1) / 2
    return float(1.0 - np.mean(agreeing_pairs) / (n * (n - 1) / 2))


def l2_norm_stats(weights: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Per layer: mean and std over networks of the L2 norm of the layer's kernel (paper, Table 1)."""
    result = {}
    for name, kernel in weights.items():
        if not name.endswith("/kernel"):
            continue
        norms = np.linalg.norm(np.reshape(kernel, (kernel.shape[0], -1)), axis=1)
        result[name.split("/")[0]] = {"l2_mean": float(norms.mean()), "l2_std": float(norms.std()), "std_over_mean": float(norms.std() / norms.mean())}
    return result


def l2_std_over_mean(weights: dict[str, np.ndarray]) -> dict[str, float]:
    """Per layer: std / mean over networks of the kernel's L2 norm (the ablations' measure)."""
    return {layer: stats["std_over_mean"] for layer, stats in l2_norm_stats(weights).items()}
