"""The paper's baselines with the same target architecture, as vectorised Keras models.

- `ensemble`: N independently initialised networks (random starts) trained together,
  all on the same batches, as one model (weights with a leading member axis);
- `single`: the same with N = 1;
- `mc-dropout`: one network trained with dropout on the inputs of every layer but the
  first. At test time each member is one dropout mask, fixed for all inputs and drawn
  from the seed: a member is then ordinary weights with some input rows zeroed (and the
  rest scaled by 1 / (1 - rate)), so every analysis, and export, treats it like any
  other ensemble.

They offer what HyperGAN offers to the analysis code: `target`, `classify`,
`sample_networks(n, seed)` and `optimizer_steps`.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from hypergan_tf.errors import HyperganError
from hypergan_tf.target import TargetSpec, standardise

METHODS = ("ensemble", "single", "mc-dropout")


class BaselineEnsemble(keras.Model):
    def __init__(self, target: TargetSpec, method: str, members: int = 10, dropout_rate: float = 0.25,
                 masks_per_step: int = 10, eval_networks: int = 10, input_mean: float = 0.0, input_std: float = 1.0,
                 seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        if method not in METHODS:
            raise HyperganError(f"unknown baseline {method!r}; choose one of: {', '.join(METHODS)}")
        self.target = target
        self.method = method
        self.members = 1 if method in ("single", "mc-dropout") else members
        self.dropout_rate = dropout_rate
        self.masks_per_step = masks_per_step
        self.eval_networks = eval_networks
        self.input_mean, self.input_std = float(input_mean), float(input_std)
        self.seed = int(seed)
        self.params = {}
        for layer in target.layers:
            # He initialisation, independently for every member: the random starts.
            init = keras.initializers.RandomNormal(stddev=math.sqrt(2.0 / layer.fan_in), seed=seed + len(self.params))
            self.params[f"{layer.name}/kernel"] = self.add_weight(shape=(self.members,) + layer.kernel_shape, initializer=init, name=f"{layer.name}_kernel")
            self.params[f"{layer.name}/bias"] = self.add_weight(shape=(self.members, layer.out_units), initializer="zeros", name=f"{layer.name}_bias")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in ("target_loss", "accuracy", "ensemble_accuracy")}
        self.built = True

    @property
    def metrics(self):
        return list(self.trackers.values())

    @property
    def optimizer_steps(self) -> tf.Variable:
        return self.optimizer.iterations

    @property
    def max_networks(self) -> int | None:
        """How many distinct members exist (None: as many as asked, for dropout masks)."""
        return None if self.method == "mc-dropout" else self.members

    def compile(self, optimizer, **kwargs):
        super().compile(optimizer=optimizer, **kwargs)
        self.optimizer.build(self.trainable_variables)  # before fit, as for HyperGAN

    def classify(self, images, weights) -> tf.Tensor:
        """Pixels in [0, 1], [B, H, W, C] -> logits of every member [K, B, classes]."""
        return self.target.forward(standardise(images, self.input_mean, self.input_std), weights)

    def masked(self, masks: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        """The single network with one dropout mask per member: {layer: [K, in_units]} -> weights [K, ...]."""
        weights = {}
        for layer in self.target.layers:
            kernel = self.params[f"{layer.name}/kernel"]
            if layer.name in masks:
                mask = masks[layer.name] / (1.0 - self.dropout_rate)
                shape = [-1, 1, 1, layer.in_units, 1] if layer.kind == "conv" else [-1, layer.in_units, 1]
                kernel = kernel * tf.reshape(mask, shape)
            else:
                kernel = tf.repeat(kernel, tf.shape(next(iter(masks.values())))[0], axis=0)
            weights[f"{layer.name}/kernel"] = kernel
            bias = self.params[f"{layer.name}/bias"]
            weights[f"{layer.name}/bias"] = tf.repeat(bias, tf.shape(kernel)[0], axis=0)
        return weights

    def random_masks(self, count: int, seed) -> dict[str, tf.Tensor]:
        """Bernoulli(1 - rate) keep-masks on the inputs of every layer but the first."""
        return {
            layer.name: tf.cast(tf.random.stateless_uniform([count, layer.in_units], seed=tf.stack([seed[0], seed[1] + i])) >= self.dropout_rate, tf.float32)
            for i, layer in enumerate(self.target.layers) if i > 0
        }

    def train_step(self, data):
        images, labels = data
        step = tf.cast(self.optimizer_steps, tf.int32)
        with tf.GradientTape() as tape:
            if self.method == "mc-dropout":
                weights = self.masked(self.random_masks(self.masks_per_step, tf.stack([tf.constant(self.seed), step * 16])))
            else:
                weights = dict(self.params)
            logits = self.classify(images, weights)
            repeated = tf.broadcast_to(tf.cast(labels, tf.int32)[None, :], tf.shape(logits)[:2])
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(repeated, logits))
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self._track(logits, labels, loss)
        return {name: self.trackers[name].result() for name in ("target_loss", "accuracy")}

    def test_step(self, data):
        images, labels = data
        count = self.eval_networks if self.max_networks is None else min(self.eval_networks, self.max_networks)
        weights = self.network_weights(count, tf.constant([self.seed, 7]))
        logits = self.classify(images, weights)
        repeated = tf.broadcast_to(tf.cast(labels, tf.int32)[None, :], tf.shape(logits)[:2])
        self._track(logits, labels, tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(repeated, logits)))
        mean = tf.reduce_mean(tf.nn.softmax(logits), axis=0)
        correct = tf.argmax(mean, -1, output_type=tf.int32) == tf.cast(labels, tf.int32)
        self.trackers["ensemble_accuracy"].update_state(tf.reduce_mean(tf.cast(correct, tf.float32)))
        return {name: self.trackers[name].result() for name in ("target_loss", "accuracy", "ensemble_accuracy")}

    def _track(self, logits, labels, loss):
        predicted = tf.argmax(logits, -1, output_type=tf.int32)
        self.trackers["target_loss"].update_state(loss)
        self.trackers["accuracy"].update_state(tf.reduce_mean(tf.cast(predicted == tf.cast(labels, tf.int32)[None, :], tf.float32)))

    def network_weights(self, count: int, seed) -> dict[str, tf.Tensor]:
        if self.method == "mc-dropout":
            return self.masked(self.random_masks(count, seed))
        return {name: value[:count] for name, value in self.params.items()}

    def sample_networks(self, num_networks: int, seed: int = 0) -> dict[str, np.ndarray]:
        """Members 0..n-1 (random starts), or n dropout masks drawn from `seed`."""
        if self.max_networks is not None and num_networks > self.max_networks:
            raise HyperganError(f"this {self.method} baseline has {self.max_networks} members; ask for at most {self.max_networks} networks")
        weights = self.network_weights(num_networks, tf.constant([seed % (2**31), 0]))
        return {name: value.numpy() for name, value in weights.items()}
