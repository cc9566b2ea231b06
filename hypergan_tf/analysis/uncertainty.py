"""Uncertainty scores of an ensemble and how well they separate two sets of inputs.

`member_probabilities` is [num_networks, num_examples, num_classes]; every score is
per example, higher meaning "less sure". All in nats.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

EPS = 1e-12


def entropy(probabilities: np.ndarray) -> np.ndarray:
    """Entropy of each prediction along the last axis (uniform over C classes: log C)."""
    return -np.sum(probabilities * np.log(probabilities + EPS), axis=-1)


def predictive_entropy(member_probabilities: np.ndarray) -> np.ndarray:
    """Entropy of the ensemble's mean prediction: total uncertainty."""
    return entropy(member_probabilities.mean(axis=0))


def mutual_information(member_probabilities: np.ndarray) -> np.ndarray:
    """Predictive entropy minus the members' mean entropy: the part due to disagreement
    between networks (epistemic); zero when all members predict the same."""
    return predictive_entropy(member_probabilities) - entropy(member_probabilities).mean(axis=0)


def member_variance(member_probabilities: np.ndarray) -> np.ndarray:
    """Variance of the members' probabilities, summed over classes."""
    return member_probabilities.var(axis=0).sum(axis=-1)


SCORES = {"entropy": predictive_entropy, "variance": member_variance, "mutual_information": mutual_information}


def detection(in_scores: np.ndarray, out_scores: np.ndarray) -> dict[str, float]:
    """AUROC and AUPR of telling out-of-distribution inputs (the positives) by a score."""
    labels = np.concatenate([np.zeros(len(in_scores)), np.ones(len(out_scores))])
    scores = np.concatenate([in_scores, out_scores])
    return {"auroc": float(roc_auc_score(labels, scores)), "aupr": float(average_precision_score(labels, scores))}
