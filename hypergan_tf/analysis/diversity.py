"""Diversity metrics of sampled networks: the paper's L2-norm table and the nearest-
neighbour distance modulo the scaling symmetry (what `diversity` and `evaluate` report)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from hypergan_tf.analysis.metrics import l2_norm_stats
from hypergan_tf.objectives.diversity import nearest_neighbour_distances
from hypergan_tf.targets import TargetSpec
from hypergan_tf.targets.symmetry import canonical_weights


def symmetry_aware_diversity(target: TargetSpec, weights: dict[str, np.ndarray]) -> dict[str, float]:
    """Per layer: mean nearest-neighbour distance between networks' canonical weights,
    relative to their root-mean-square norm (0 = identical networks; scale-free, so
    layers and models compare). Empty for fewer than two networks: no spread to measure."""
    if len(next(iter(weights.values()))) < 2:
        return {}
    result = {}
    for name, features in canonical_weights(target, weights).items():
        features = tf.cast(features, tf.float64)
        rms_norm = tf.sqrt(tf.reduce_mean(tf.reduce_sum(tf.square(features), axis=1)))
        result[name] = float(tf.reduce_mean(nearest_neighbour_distances(features, epsilon=0.0)) / rms_norm)
    return result


def layer_table(target: TargetSpec, weights: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Per layer: the paper's L2-norm statistics plus `symmetry_aware` (what `diversity`
    prints and writes to diversity.json)."""
    layers = l2_norm_stats(weights)
    for layer, value in symmetry_aware_diversity(target, weights).items():
        layers[layer]["symmetry_aware"] = value
    return layers
