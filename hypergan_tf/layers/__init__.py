"""Keras layers that are hypernetworks themselves (their weights change with the input)."""

from hypergan_tf.layers.hyper_lstm import HyperLSTMCell

__all__ = ["HyperLSTMCell"]
