"""HyperGAN's adversarial term on the codes (paper, eq. 2): the discriminator tells codes
from samples of the N(0, I) prior; the mixer wants its codes scored as prior samples."""

from __future__ import annotations

import keras
import tensorflow as tf

_bce = keras.losses.BinaryCrossentropy(from_logits=True)


def discriminator_loss(prior_logits, code_logits) -> tf.Tensor:
    return _bce(tf.ones_like(prior_logits), prior_logits) + _bce(tf.zeros_like(code_logits), code_logits)


def adversarial_loss(code_logits) -> tf.Tensor:
    """Non-saturating: -log D(codes)."""
    return _bce(tf.ones_like(code_logits), code_logits)


def discriminator_accuracy(prior_logits, code_logits) -> tf.Tensor:
    correct = tf.concat([tf.cast(prior_logits > 0, tf.float32), tf.cast(code_logits <= 0, tf.float32)], 0)
    return tf.reduce_mean(correct)
