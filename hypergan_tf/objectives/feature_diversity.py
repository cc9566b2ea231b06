"""Feature diversity (issue 18): the K networks of a step should compute different
representations, not one representation with different classifiers on top.

Measured (README, Uncertainty away from the data): a HyperGAN's sampled networks have
the same convolutional features up to a rotation and a scale (mean linear CKA between
networks 0.996-1.000 on MNIST and CIFAR-5, against 0.78-0.99 for independently trained
networks), so they differ only near the output and agree on inputs unlike the data.
This term pushes their features apart, per layer of `feature_diversity_layers` (default:
every hidden layer), on the first `feature_diversity_examples` images of the batch, from
the activations the training step's forward pass computes anyway
(TargetSpec.forward_and_features; the extra work is K Gram matrices of E x E per layer):
the generators' loss adds `feature_diversity_weight` times the repulsion of the networks
in linear CKA (Kornblith et al., 2019), minus the mean log distance of each network to
its nearest other one, with distance sqrt(2 (1 - CKA)) (`feature_repulsion`).

CKA is invariant to rotations and isotropic scaling of the features, so the generators
cannot lower it by permuting or rescaling units (what the weights' symmetries allow
for free): only by making the networks compute different functions of the input. The
step logs the mean pairwise CKA (`feature_similarity`, in [0, 1]), which is also what
`hypergan-tf diversity --features` reports (analysis/diversity.py).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from hypergan_tf.errors import HyperganError
from hypergan_tf.objectives.diversity import repulsion


def normalised_grams(features: tf.Tensor, dtype=tf.float32) -> tf.Tensor:
    """features [K, E, F] -> [K, E * E]: each network's Gram matrix of its centred features
    on the E examples, flattened and scaled to unit length (0 for constant features).

    Linear CKA of two networks is the dot product of their rows, and 1 - CKA is half
    their squared distance."""
    x = tf.cast(features, dtype)
    x = x - tf.reduce_mean(x, axis=1, keepdims=True)  # centred features give centred Gram matrices
    gram = tf.matmul(x, x, transpose_b=True)  # [K, E, E]
    flat = tf.reshape(gram, [tf.shape(gram)[0], -1])
    # Floored at the smallest normal number: features constant on the examples give 0, not NaN.
    return flat / tf.sqrt(tf.maximum(tf.reduce_sum(tf.square(flat), axis=1, keepdims=True), np.finfo(x.dtype.as_numpy_dtype).tiny))


def _mean_off_diagonal(grams: tf.Tensor) -> tf.Tensor:
    """Normalised Gram matrices [K, E * E] -> the mean CKA of their pairs (0 for K = 1)."""
    cka = tf.matmul(grams, grams, transpose_b=True)  # [K, K]
    count = tf.cast(tf.shape(cka)[0], cka.dtype)
    return tf.math.divide_no_nan(tf.reduce_sum(cka) - tf.linalg.trace(cka), count * (count - 1.0))


def mean_pairwise_cka(features: tf.Tensor, dtype=tf.float32) -> tf.Tensor:
    """Mean linear CKA over every pair of K networks: features [K, E, F] -> a scalar in [0, 1].

    CKA(i, j) = <G_i, G_j> / (|G_i| |G_j|) with G the E x E Gram matrix of the centred
    features; K = 1 gives 0 (no pair). Computed in `dtype` (float64 for a metric)."""
    return _mean_off_diagonal(normalised_grams(features, dtype))


def feature_repulsion(features: dict[str, tf.Tensor]) -> tuple[tf.Tensor, tf.Tensor]:
    """The term and what the step logs, from one Gram matrix per network and layer
    ({layer: [K, E, F]} -> (repulsion, mean CKA), each averaged over layers).

    The term is minus the mean log distance of each network to its nearest other network
    in CKA, sqrt(2 (1 - CKA)). A penalty on CKA itself does not work: two networks with
    the same features are its maximum, where its gradient vanishes (on MNIST weight 0.3
    left the features at CKA 0.99999). The log distance's gradient instead grows as two
    networks' features converge, as the diversity terms' repulsion does
    (objectives/diversity.py). The mean CKA carries no gradient."""
    grams = [normalised_grams(x) for x in features.values()]
    term = tf.add_n([repulsion(g) for g in grams]) / len(grams)
    similarity = tf.add_n([_mean_off_diagonal(tf.stop_gradient(g)) for g in grams]) / len(grams)
    return term, similarity


def feature_layers(target, names: str | None) -> tuple[str, ...]:
    """The layers the term reads: `names` comma-separated, or every layer but the last
    (the logits, which the diversity term already acts on) when None or empty."""
    if not names:
        return tuple(target.layer_names[:-1]) or tuple(target.layer_names)
    chosen = tuple(name.strip() for name in names.split(",") if name.strip())
    unknown = [name for name in chosen if name not in target.layer_names]
    if unknown or not chosen:
        raise HyperganError(f"--feature-diversity-layers: {', '.join(unknown) or repr(names)} is not a layer of target "
                            f"{target.name}; its layers: {', '.join(target.layer_names)}")
    return chosen
