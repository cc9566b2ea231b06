"""Diversity terms: what pushes the K networks of a training step apart (a registry).

Each term is a function of one step's `StepOutputs` (the K networks' logits on the
batch, the labels, the images, the weights and the sampler) returning a scalar that is
lower when the networks are more diverse; the generators' loss adds
`diversity_weight` times it. `DIVERSITY_TERMS` is the registry that the configuration,
the command line (choices and help) and the training step all read: a new term is one
decorated function here.

The terms share one statistic with the diversity metric (analysis/diversity.py):
`repulsion`, minus the mean log distance of each network to its nearest neighbour (the
Kozachenko-Leonenko entropy estimate up to constants, as in Deutsch et al., 2018), in
weight space modulo scaling (targets/symmetry.py) or in prediction space. `ambiguity`
is the function-space alternative: how much the K networks' averaged prediction beats
their mean cross-entropy.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np
import tensorflow as tf

from hypergan_tf.targets.spec import TargetSpec
from hypergan_tf.targets.symmetry import EPSILON, canonical_weights


@dataclasses.dataclass(frozen=True)
class StepOutputs:
    """What a diversity term may look at in one training step."""

    logits: tf.Tensor  # [K, B, classes]: the outputs (a regression network's: [K, B, 1])
    labels: tf.Tensor  # [B]: the targets
    images: tf.Tensor  # [B, *input_shape], pixels in [0, 1]
    weights: dict  # the K networks' weights, [K, ...]
    classify: Callable  # (images, weights) -> logits [K, B', classes]
    target: object  # the TargetSpec


@dataclasses.dataclass(frozen=True)
class DiversityTerm:
    name: str
    help: str  # one clause for the CLI's --diversity help
    loss: Callable[[StepOutputs], tf.Tensor]
    tasks: tuple[str, ...] = ("classification",)  # the data sets' tasks it fits (the others read class probabilities)
    reads_outputs: bool = True  # a function of the batch's logits alone (what --diversity-scale relative rescales)


DIVERSITY_TERMS: dict[str, DiversityTerm] = {}


# How diversity_weight sets the term's strength (config.TrainConfig.diversity_scale).
DIVERSITY_SCALES = ("absolute", "relative")


def register(name: str, help: str, tasks: tuple[str, ...] = ("classification",), reads_outputs: bool = True):
    """Decorator: add a diversity term (a function of StepOutputs) to the registry."""

    def add(loss):
        DIVERSITY_TERMS[name] = DiversityTerm(name, help, loss, tasks, reads_outputs)
        return loss

    return add


def diversity_loss(name: str, outputs: StepOutputs) -> tf.Tensor:
    if name not in DIVERSITY_TERMS:
        raise ValueError(f"unknown diversity term {name!r}; choose one of: {', '.join(DIVERSITY_TERMS)}")
    return DIVERSITY_TERMS[name].loss(outputs)


def gradient_norm_ratio(tape: tf.GradientTape, numerator: tf.Tensor, denominator: tf.Tensor, outputs: tf.Tensor) -> tf.Tensor:
    """||d numerator / d outputs|| / ||d denominator / d outputs||, from a persistent `tape`
    that watched `outputs`; 0 when the denominator's gradient is 0, and at most
    MAX_GRADIENT_RATIO (a likelihood whose gradient underflows to 0 on a batch the networks
    fit exactly must not make it infinite). With the likelihood as numerator and the
    diversity term as denominator it is the factor that gives the term's gradient at the
    outputs the likelihood's norm (`--diversity-scale relative`). A constant: no gradient
    flows through it."""
    top, bottom = tf.norm(tape.gradient(numerator, outputs)), tf.norm(tape.gradient(denominator, outputs))
    return tf.stop_gradient(tf.minimum(tf.math.divide_no_nan(top, bottom), MAX_GRADIENT_RATIO))


MAX_GRADIENT_RATIO = 1e6


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


def mean_log_probabilities(logits: tf.Tensor) -> tf.Tensor:
    """log of the K networks' mean predicted distribution: logits [K, B, C] -> [B, C]."""
    return tf.reduce_logsumexp(tf.nn.log_softmax(logits), axis=0) - tf.math.log(tf.cast(tf.shape(logits)[0], logits.dtype))


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
    ensemble = -tf.gather(mean_log_probabilities(logits), labels, axis=1, batch_dims=1)
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


# ---- the registry, in the order the CLI lists it ---------------------------------------
@register("predictions", "repulsion of the networks' predictions on the batch")
def _predictions(step: StepOutputs) -> tf.Tensor:
    return prediction_repulsion(step.logits)


@register("errors", "repulsion of their distributions over the wrong classes on the batch (default)")
def _errors(step: StepOutputs) -> tf.Tensor:
    return error_repulsion(step.logits, step.labels)


@register("probes", "repulsion of their predictions on between-class probe inputs", reads_outputs=False)
def _probes(step: StepOutputs) -> tf.Tensor:
    return prediction_repulsion(step.classify(between_class_probes(step.images), step.weights))


@register("weights", "repulsion of their weights modulo scaling", tasks=("classification", "regression"), reads_outputs=False)
def _weights(step: StepOutputs) -> tf.Tensor:
    return weight_repulsion(step.target, step.weights)


@register("function", "minus their ambiguity (ensemble vs member cross-entropy) on the batch")
def _function(step: StepOutputs) -> tf.Tensor:
    return -ambiguity(step.logits, step.labels)
