"""Diversity of sampled networks modulo the target's symmetries (Deutsch et al., 2018).

Leaky ReLU and max pooling are positively homogeneous: multiplying a hidden unit's
incoming weights and bias by c > 0 and its outgoing weights by 1/c leaves the
network's function unchanged. The L2 norms of the paper's Table 1 can therefore vary
a lot between networks that compute the same thing. `canonical_weights` picks one
representative per scaling orbit (every hidden unit's incoming weights + bias scaled
to unit norm, the scale pushed into the next layer), so distances between canonical
weights measure differences that change the function. Unit permutations are not
removed: a smooth generator does not produce them.

The same nearest-neighbour statistic serves as a training term (`repulsion`: minus
the mean log distance of each network to its nearest neighbour, the k-NN entropy
estimate up to constants) and as a metric (`symmetry_aware_diversity`). `ambiguity`
is the function-space alternative: how much the K networks' averaged prediction beats
their mean cross-entropy.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from hypergan_tf.metrics import l2_norm_stats
from hypergan_tf.target import TargetSpec

EPSILON = 1e-8


def canonical_weights(target: TargetSpec, weights: dict) -> dict[str, tf.Tensor]:
    """Weights with a leading network axis K -> the same networks, scale symmetry fixed.

    Returns {"<layer>": [K, fan_in * out + out]}: each layer's kernel and bias
    flattened per network. The logits layer keeps its scale (softmax is not
    scale-invariant) but absorbs the scales of the units feeding it.
    """
    canonical = {}
    incoming_scale = None  # [K, units of the previous layer]
    previous = None
    for layer in target.layers:
        kernel = tf.convert_to_tensor(weights[f"{layer.name}/kernel"], tf.float32)
        bias = tf.convert_to_tensor(weights[f"{layer.name}/bias"], tf.float32)
        if incoming_scale is not None:
            if layer.kind == "conv":
                kernel = kernel * incoming_scale[:, None, None, :, None]
            else:
                # A dense layer after a conv reads features flattened channel-last, so
                # the channel scales repeat once per spatial position.
                repeats = layer.in_units // previous.out_units
                kernel = kernel * tf.tile(incoming_scale, [1, repeats])[:, :, None]
        num_networks = tf.shape(kernel)[0]
        flat = tf.concat([tf.reshape(kernel, [num_networks, -1, layer.out_units]), bias[:, None, :]], axis=1)
        if layer.activation:
            norms = tf.norm(flat, axis=1) + EPSILON  # [K, out]
            flat = flat / norms[:, None, :]
            incoming_scale = norms
        canonical[layer.name] = tf.reshape(flat, [num_networks, -1])
        previous = layer
    return canonical


def nearest_neighbour_distances(features: tf.Tensor, epsilon: float = EPSILON) -> tf.Tensor:
    """[K, D] -> [K]: each row's Euclidean distance to its nearest other row.

    `epsilon` keeps the square root's gradient finite for training; a metric passes 0
    (and float64 features, so nothing is rounded away near 0)."""
    squared = tf.reduce_sum(tf.square(features), axis=1)
    pairwise = squared[:, None] + squared[None, :] - 2.0 * tf.matmul(features, features, transpose_b=True)
    pairwise = tf.maximum(pairwise, 0.0) + tf.linalg.diag(tf.fill(tf.shape(squared), tf.constant(np.inf, features.dtype)))
    return tf.sqrt(tf.reduce_min(pairwise, axis=1) + epsilon)


def repulsion(features: tf.Tensor) -> tf.Tensor:
    """Minus the mean log nearest-neighbour distance of K samples [K, D].

    Minimising it maximises the Kozachenko-Leonenko entropy estimate (up to constants
    and the dimension factor). Its gradient grows as networks get closer, so it pushes
    hardest exactly when the sampler starts to collapse.
    """
    return -tf.reduce_mean(tf.math.log(nearest_neighbour_distances(features)))


def weight_repulsion(target: TargetSpec, weights: dict) -> tf.Tensor:
    """Repulsion of the canonical weights, averaged over layers."""
    return tf.add_n([repulsion(features) for features in canonical_weights(target, weights).values()]) / len(target.layers)


def ambiguity(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """Diversity in function space: mean member cross-entropy minus the cross-entropy of
    the members' averaged prediction, on the batch (logits [K, B, C], labels [B]).

    It is >= 0 (Jensen), 0 only when the K networks predict alike, and it is exactly
    what makes the ensemble better than its members: CE(ensemble) = mean CE - ambiguity.
    Rewarding it (negative correlation learning) lets a network be wrong where the
    others are right, which is the kind of diversity an ensemble gains from; weight
    distances, even modulo symmetries, need not change any prediction.
    """
    labels = tf.cast(labels, tf.int32)
    members = tf.nn.sparse_softmax_cross_entropy_with_logits(tf.broadcast_to(labels[None, :], tf.shape(logits)[:2]), logits)
    log_mean = tf.reduce_logsumexp(tf.nn.log_softmax(logits), axis=0) - tf.math.log(tf.cast(tf.shape(logits)[0], tf.float32))
    ensemble = -tf.gather(log_mean, labels, axis=1, batch_dims=1)
    return tf.reduce_mean(members) - tf.reduce_mean(ensemble)


PROBES_PER_STEP = 32  # between-class inputs for the "probes" term: one extra forward pass


def between_class_probes(images: tf.Tensor, count: int = PROBES_PER_STEP) -> tf.Tensor:
    """`count` inputs with no right answer: each image of the batch blended half-and-half
    with the image at the mirrored position (mostly of another class)."""
    count = tf.minimum(count, tf.shape(images)[0])
    return 0.5 * (images[:count] + tf.reverse(images, [0])[:count])


def prediction_repulsion(logits: tf.Tensor) -> tf.Tensor:
    """Repulsion of the K networks' predicted probabilities on probe inputs [K, P, C]:
    distances are in probability space, so they are bounded and count only changes of
    prediction (not of logits that softmax squashes)."""
    probabilities = tf.nn.softmax(logits)
    size = tf.cast(tf.shape(logits)[1], tf.float32)
    return repulsion(tf.reshape(probabilities, [tf.shape(logits)[0], -1]) / tf.sqrt(size))


def error_repulsion(logits: tf.Tensor, labels: tf.Tensor) -> tf.Tensor:
    """Repulsion of the K networks' distributions over the *wrong* classes [K, B, C]:
    softmax of the logits with the true class left out (as ADP, Pang et al. 2019).

    Pushing the full probabilities apart is cheapest by making some networks less sure
    of the right class, which costs accuracy. This term cannot see the right class's
    probability, so the networks stay free to agree on the answer and are pushed to
    differ in what they would confuse it with: different decision boundaries, so
    different mistakes on unseen inputs."""
    true_class = tf.one_hot(tf.cast(labels, tf.int32), tf.shape(logits)[-1], on_value=True, off_value=False)[None]
    return prediction_repulsion(tf.where(true_class, tf.constant(-1e9, logits.dtype), logits))


def pairwise_disagreement(logits) -> tf.Tensor:
    """Fraction of inputs on which two of the K networks disagree, averaged over pairs
    (logits [K, B, C]; the TensorFlow twin of metrics.pairwise_disagreement)."""
    num_networks = tf.cast(tf.shape(logits)[0], tf.float32)
    votes = tf.one_hot(tf.argmax(logits, axis=-1), tf.shape(logits)[-1])  # [K, B, C]
    counts = tf.reduce_sum(votes, axis=0)  # [B, C]
    agreeing = tf.reduce_sum(counts * (counts - 1.0), axis=-1) / 2.0
    return 1.0 - tf.reduce_mean(agreeing) / tf.maximum(num_networks * (num_networks - 1.0) / 2.0, 1.0)


def symmetry_aware_diversity(target: TargetSpec, weights: dict[str, np.ndarray]) -> dict[str, float]:
    """Per layer: mean nearest-neighbour distance between networks' canonical weights,
    relative to their root-mean-square norm (0 = identical networks; scale-free, so
    layers and models compare)."""
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
