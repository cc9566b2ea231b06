"""The classification objective of K networks at once (logits [K, B, classes], labels [B])."""

from __future__ import annotations

import tensorflow as tf


def cross_entropy(logits, labels) -> tf.Tensor:
    """Mean cross-entropy over the K networks and the batch."""
    labels = tf.broadcast_to(tf.cast(labels, tf.int32)[None, :], tf.shape(logits)[:2])
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))


def mean_accuracy(logits, labels) -> tf.Tensor:
    """Accuracy of each network, averaged over the K networks."""
    predicted = tf.argmax(logits, axis=-1, output_type=tf.int32)
    return tf.reduce_mean(tf.cast(predicted == tf.cast(labels, tf.int32)[None, :], tf.float32))


def ensemble_accuracy(logits, labels) -> tf.Tensor:
    """Accuracy of the K networks' averaged probabilities."""
    probabilities = tf.reduce_mean(tf.nn.softmax(logits), axis=0)
    correct = tf.argmax(probabilities, -1, output_type=tf.int32) == tf.cast(labels, tf.int32)
    return tf.reduce_mean(tf.cast(correct, tf.float32))
