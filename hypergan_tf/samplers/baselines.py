"""The paper's baselines with the same target architecture, as vectorised Keras models.

- `ensemble`: N independently initialised networks (random starts) trained together,
  all on the same batches, as one model (weights with a leading member axis);
- `single`: the same with N = 1;
- `mc-dropout`: one network trained with dropout on the inputs of every layer but the
  first. At test time each member is one dropout mask, fixed for all inputs and drawn
  from the seed: a member is then ordinary weights with some input rows zeroed (and the
  rest scaled by 1 / (1 - rate)), so every analysis, and export, treats it like any
  other ensemble.

They implement the weight-sampler interface (samplers/base.py), so every analysis
and export treats them like a HyperGAN.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from hypergan_tf.config import TrainConfig
from hypergan_tf.errors import HyperganError
from hypergan_tf.samplers.base import NETWORK_SEED, WeightSampler
from hypergan_tf.targets import TargetSpec

METHODS = ("ensemble", "single", "mc-dropout")


@keras.saving.register_keras_serializable(package="hypergan_tf")
class BaselineEnsemble(WeightSampler):
    def __init__(self, target: TargetSpec, method: str, members: int = 10, dropout_rate: float = 0.25,
                 masks_per_step: int = 10, eval_networks: int = 10, input_mean: float = 0.0, input_std: float = 1.0,
                 seed: int = 0, likelihood: str | None = None, noise_std: float = TrainConfig.noise_std, **kwargs):
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
            self.params[f"{layer.name}/bias"] = self.add_weight(shape=(self.members, layer.units), initializer="zeros", name=f"{layer.name}_bias")
        self.use_likelihood(likelihood, noise_std)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in ("target_loss", self.log_names["score"], self.log_names["ensemble_score"])}
        self.built = True

    @classmethod
    def from_train_config(cls, config, target: TargetSpec, total_steps: int = 1) -> "BaselineEnsemble":
        keras.utils.set_random_seed(config.seed)
        return cls(target, config.method, config.members, config.dropout_rate, masks_per_step=config.networks_per_step,
                   eval_networks=config.eval_networks, input_mean=config.input_mean or 0.0,
                   input_std=config.input_std or 1.0, seed=config.seed, likelihood=config.likelihood, noise_std=config.noise_std)

    @classmethod
    def trained_networks(cls, config) -> tuple[str, int]:
        return {"ensemble": ("--members", config.members), "single": ("--method single", 1),
                "mc-dropout": ("--networks-per-step", config.networks_per_step)}[config.method]

    def get_config(self) -> dict:
        return {"name": self.name, "target": self.target.to_config(), "method": self.method, "members": self.members,
                "dropout_rate": self.dropout_rate, "masks_per_step": self.masks_per_step, "eval_networks": self.eval_networks,
                "input_mean": self.input_mean, "input_std": self.input_std, "seed": self.seed,
                **self.likelihood_config()}

    @classmethod
    def from_config(cls, config: dict) -> "BaselineEnsemble":
        config = dict(config)
        return cls(TargetSpec.from_config(config.pop("target")), **config)

    def describe(self) -> str:
        return {"ensemble": f"random-start ensemble ({self.members})", "mc-dropout": "MC dropout", "single": "single network"}[self.method]

    @property
    def metrics(self):
        return list(self.trackers.values())

    @property
    def max_networks(self) -> int | None:
        """How many distinct members exist (None: as many as asked, for dropout masks)."""
        return None if self.method == "mc-dropout" else self.members

    def masked(self, masks: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        """The single network with one dropout mask per member: {layer: [K, in_units]} -> weights [K, ...]."""
        weights = {}
        for layer in self.target.layers:
            kernel = self.params[f"{layer.name}/kernel"]
            if layer.name in masks:
                kernel = layer.scale_inputs(kernel, masks[layer.name] / (1.0 - self.dropout_rate))
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
            logits = self.training_classify(images, weights)
            loss = self.likelihood.loss(logits, labels)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self._track(logits, labels, loss)
        return {name: self.trackers[name].result() for name in ("target_loss", self.log_names["score"])}

    def test_step(self, data):
        images, labels = data
        weights = self._weights(self.networks_available(self.eval_networks), tf.constant([self.seed, 7]))
        logits = self.classify(images, weights)
        self._track(logits, labels, self.likelihood.loss(logits, labels))
        self.trackers[self.log_names["ensemble_score"]].update_state(self.likelihood.ensemble_score(logits, labels))
        return {name: self.trackers[name].result() for name in self.trackers}

    def _track(self, logits, labels, loss):
        self.trackers["target_loss"].update_state(loss)
        self.trackers[self.log_names["score"]].update_state(self.likelihood.member_score(logits, labels))

    def _weights(self, count: int, seed) -> dict[str, tf.Tensor]:
        if self.method == "mc-dropout":
            return self.masked(self.random_masks(count, seed))
        return {name: value[:count] for name, value in self.params.items()}

    def network_weights(self, num_networks: int, seed: int = NETWORK_SEED) -> dict[str, tf.Tensor]:
        """Members 0..n-1 (random starts), or n dropout masks drawn from `seed`."""
        self.check_count(num_networks)
        return self._weights(num_networks, tf.constant([seed % (2**31), 0]))
