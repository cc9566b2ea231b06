"""Ha et al.'s static hypernetwork (HyperNetworks, 2016): kernels generated from small embeddings.

For every generated layer j (kernel of shape [.., N_in, .., N_out] with N_in input
slices) a learned embedding z_j [N_z] goes through a two-layer *linear* hypernetwork
(Ha et al., eq. 2)::

    a_i = W_i z_j + B_i                    W_i [d, N_z], B_i [d],   i = 1 .. N_in
    K_i = <W_out, a_i> + B_out             W_out [d, slice], B_out [slice]
    K_j = (K_1 K_2 ... K_N_in)             the slices stacked along the input axis

The hypernetwork (W_i, B_i, W_out, B_out) is shared by every generated layer of the
same kernel shape; each layer has its own embedding. The other layers' kernels and every
bias are ordinary trained parameters. Trained by cross-entropy alone, it is one
deterministic network: its "ensemble" has one member (`max_networks` = 1).

Ha et al. on MNIST: 99.24% with a 7x7x16x16 layer generated from N_z = 4 by 4,240
hypernetwork parameters (12,544 kernel weights), against 99.28% trained directly.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from hypergan_tf.config import TrainConfig
from hypergan_tf.errors import HyperganError
from hypergan_tf.samplers.base import NETWORK_SEED, WeightSampler
from hypergan_tf.targets import TargetSpec


def default_generated_layers(target: TargetSpec) -> list[str]:
    """Every layer but the first (it reads the pixels) and the last (the logits), as Ha et
    al. generate the inner layers; a one- or two-layer target generates its last layer
    but one, or nothing."""
    return [layer.name for layer in target.layers[1:-1]]


def _layer_list(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _check_layers(names: list[str], target: TargetSpec) -> None:
    unknown = [name for name in names if name not in target.layer_names]
    if unknown:
        raise HyperganError(f"--hyper-layers names {unknown}, which target {target.name} does not have; its layers: {', '.join(target.layer_names)}")


@keras.saving.register_keras_serializable(package="hypergan_tf")
class StaticHypernet(WeightSampler):
    max_networks = 1

    def __init__(self, target: TargetSpec, generated_layers: list[str] | None = None,
                 embedding_dim: int = TrainConfig.embedding_dim, eval_networks: int = 1,
                 input_mean: float = 0.0, input_std: float = 1.0, seed: int = 0, likelihood: str | None = None,
                 noise_std: float = TrainConfig.noise_std, **kwargs):
        super().__init__(**kwargs)
        self.target = target
        self.generated_layers = list(default_generated_layers(target) if generated_layers is None else generated_layers)
        _check_layers(self.generated_layers, target)
        self.embedding_dim = int(embedding_dim)
        if self.embedding_dim < 1:
            raise HyperganError("--embedding-dim must be at least 1")
        self.eval_networks = eval_networks
        self.input_mean, self.input_std = float(input_mean), float(input_std)
        self.seed = int(seed)
        rng_seed = iter(range(seed * 1000, seed * 1000 + 1000))
        normal = lambda std: keras.initializers.RandomNormal(stddev=std, seed=next(rng_seed))  # noqa: E731
        self.direct = {}  # plain parameters: non-generated kernels and every bias, [1, ...]
        self.embeddings = {}  # generated layer -> z_j [N_z]
        self.hypernets = {}  # kernel shape -> (W_in [N_in, d, N_z], B_in [N_in, d], W_out [d, slice], B_out [slice])
        d = n_z = self.embedding_dim
        for layer in target.layers:
            if layer.name in self.generated_layers:
                self.embeddings[layer.name] = self.add_weight(shape=(n_z,), initializer=normal(1.0), name=f"{layer.name}_embedding")
                key = self._key(layer)
                if key not in self.hypernets:
                    n_in = layer.in_units
                    slice_size = math.prod(layer.kernel_shape) // n_in
                    self.hypernets[key] = (
                        self.add_weight(shape=(n_in, d, n_z), initializer=normal(1.0 / math.sqrt(n_z)), name=f"hyper_{key}_w_in"),
                        self.add_weight(shape=(n_in, d), initializer="zeros", name=f"hyper_{key}_b_in"),
                        self.add_weight(shape=(d, slice_size), initializer=normal(1.0 / math.sqrt(d)), name=f"hyper_{key}_w_out"),
                        self.add_weight(shape=(slice_size,), initializer="zeros", name=f"hyper_{key}_b_out"),
                    )
            else:
                self.direct[f"{layer.name}/kernel"] = self.add_weight(
                    shape=(1,) + layer.kernel_shape, initializer=normal(math.sqrt(2.0 / layer.fan_in)), name=f"{layer.name}_kernel")
            self.direct[f"{layer.name}/bias"] = self.add_weight(shape=(1, layer.units), initializer="zeros", name=f"{layer.name}_bias")
        self.use_likelihood(likelihood, noise_std)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in ("target_loss", self.log_names["score"], self.log_names["ensemble_score"])}
        self.built = True

    @staticmethod
    def _key(layer) -> str:
        return "x".join(str(d) for d in layer.kernel_shape)

    def generated_kernel(self, layer) -> tf.Tensor:
        """K_j for one generated layer, [*kernel_shape], at He scale: the hypernetwork's
        output is multiplied by sqrt(2 / fan_in), so its parameters train at unit scale."""
        w_in, b_in, w_out, b_out = self.hypernets[self._key(layer)]
        a = tf.einsum("idz,z->id", w_in, self.embeddings[layer.name]) + b_in  # [N_in, d]
        slices = (tf.matmul(a, w_out) + b_out) * math.sqrt(2.0 / layer.fan_in)  # [N_in, slice]
        shape = list(layer.kernel_shape)
        del shape[layer.kernel_input_axis]
        slices = tf.reshape(slices, [layer.in_units] + shape)
        return tf.experimental.numpy.moveaxis(slices, 0, layer.kernel_input_axis)

    def network(self) -> dict[str, tf.Tensor]:
        """The one network, [1, ...] per parameter."""
        weights = dict(self.direct)
        for layer in self.target.layers:
            if layer.name in self.embeddings:
                weights[f"{layer.name}/kernel"] = self.generated_kernel(layer)[None]
        return weights

    # ---- the sampler interface ---------------------------------------------------------
    @classmethod
    def trained_networks(cls, config: TrainConfig) -> tuple[str, int]:
        return "--method static-hypernet", 1

    @classmethod
    def check_config(cls, config: TrainConfig, target: TargetSpec) -> None:
        super().check_config(config, target)
        if config.hyper_layers is not None:
            _check_layers(_layer_list(config.hyper_layers), target)

    @classmethod
    def from_train_config(cls, config: TrainConfig, target: TargetSpec, total_steps: int = 1) -> "StaticHypernet":
        keras.utils.set_random_seed(config.seed)
        layers = None if config.hyper_layers is None else _layer_list(config.hyper_layers)
        return cls(target, layers, config.embedding_dim, input_mean=config.input_mean or 0.0,
                   input_std=config.input_std or 1.0, seed=config.seed, likelihood=config.likelihood, noise_std=config.noise_std)

    def get_config(self) -> dict:
        return {"name": self.name, "target": self.target.to_config(), "generated_layers": self.generated_layers,
                "embedding_dim": self.embedding_dim, "eval_networks": self.eval_networks, "input_mean": self.input_mean,
                "input_std": self.input_std, "seed": self.seed, **self.likelihood_config()}

    @classmethod
    def from_config(cls, config: dict) -> "StaticHypernet":
        config = dict(config)
        return cls(TargetSpec.from_config(config.pop("target")), **config)

    def describe(self) -> str:
        return "static hypernetwork"

    def network_weights(self, num_networks: int, seed: int = NETWORK_SEED) -> dict[str, tf.Tensor]:
        self.check_count(num_networks)
        return self.network()

    def parameter_counts(self) -> dict[str, int]:
        hyper = sum(int(np.prod(v.shape)) for v in self.embeddings.values()) + sum(
            int(np.prod(v.shape)) for weights in self.hypernets.values() for v in weights)
        direct = sum(int(np.prod(v.shape)) for v in self.direct.values())
        generated = sum(math.prod(layer.kernel_shape) for layer in self.target.layers if layer.name in self.embeddings)
        return {
            **super().parameter_counts(),
            "hypernetwork": hyper,  # embeddings and the shared linear hypernetworks
            "generated_kernel_weights": generated,  # what the hypernetwork produces
            "direct": direct,  # kernels of the other layers and every bias
        }

    # ---- training ----------------------------------------------------------------
    @property
    def metrics(self):
        return list(self.trackers.values())

    def train_step(self, data):
        images, labels = data
        with tf.GradientTape() as tape:
            logits = self.training_classify(images, self.network())
            loss = self.likelihood.loss(logits, labels)
            scaled = loss / self.distribute_strategy.num_replicas_in_sync
        grads = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.trackers["target_loss"].update_state(loss)
        self.trackers[self.log_names["score"]].update_state(self.likelihood.member_score(logits, labels))
        return self._for_keras({name: self.trackers[name].result() for name in ("target_loss", self.log_names["score"])})

    def test_step(self, data):
        images, labels = data
        logits = self.classify(images, self.network())
        score = self.likelihood.member_score(logits, labels)
        self.trackers["target_loss"].update_state(self.likelihood.loss(logits, labels))
        self.trackers[self.log_names["score"]].update_state(score)
        self.trackers[self.log_names["ensemble_score"]].update_state(score)  # an ensemble of one
        return self._for_keras({name: self.trackers[name].result() for name in self.trackers})
