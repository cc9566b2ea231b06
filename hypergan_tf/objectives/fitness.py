"""Fitness of evolved networks (HyperNEAT, training/evolution.py): one score per network
of a population, higher is better, from the logits of all networks on one batch."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def accuracy(logits: tf.Tensor, labels) -> np.ndarray:
    """logits [P, B, C], labels [B] -> the fraction of the batch each network gets right, [P]."""
    predicted = tf.argmax(logits, axis=-1, output_type=tf.int32)
    return tf.reduce_mean(tf.cast(predicted == tf.cast(labels, tf.int32)[None], tf.float32), axis=1).numpy()


def negative_cross_entropy(logits: tf.Tensor, labels) -> np.ndarray:
    """logits [P, B, C], labels [B] -> minus each network's mean cross-entropy on the batch, [P]."""
    labels = tf.broadcast_to(tf.cast(labels, tf.int32)[None], tf.shape(logits)[:2])
    return -tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits), axis=1).numpy()


# --fitness -> the function (TrainConfig.fitness names one of these).
FITNESS = {"accuracy": accuracy, "cross-entropy": negative_cross_entropy}
