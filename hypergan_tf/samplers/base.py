"""The weight-sampler interface: what every analysis, summary and export uses of a model.

A weight sampler produces target networks (`TargetSpec` weights with a leading network
axis) and classifies images with them. HyperGAN draws them from noise, a random-start
ensemble has a fixed set of members, MC dropout draws dropout masks, the static
hypernetwork produces one network. Code outside `samplers/` uses only what this class
declares; it never asks which kind of sampler it holds.

Training hooks (`from_train_config`, `compile_from_config`, `prepare_training`,
`finish_training`) let `training/` build and fit any sampler from a `TrainConfig`
without branching on the method.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING

import keras
import numpy as np
import tensorflow as tf

from hypergan_tf.errors import HyperganError
from hypergan_tf.objectives.likelihood import Likelihood, get_likelihood
from hypergan_tf.optimizers import FusedAdam
from hypergan_tf.resources import check_memory, training_bytes_per_network
from hypergan_tf.targets import TargetSpec, standardise

if TYPE_CHECKING:
    from hypergan_tf.config import TrainConfig

# Seed of the networks that evaluate, export and sample draw by default: the same
# networks everywhere, so an export's ensemble is the one `evaluate` scored.
NETWORK_SEED = 12345


def fixed_noise(num_networks: int, noise_dim: int, seed: int = NETWORK_SEED) -> np.ndarray:
    """The same networks for the same seed, independent of TensorFlow's RNG state; the
    first n rows are the same whatever `num_networks` is."""
    return np.random.default_rng(seed).standard_normal((num_networks, noise_dim)).astype(np.float32)


class WeightSampler(keras.Model, metaclass=abc.ABCMeta):
    """Base class of every model that produces target networks.

    Subclasses set `target`, `input_mean`, `input_std` and implement `network_weights`;
    a sampler with a latent space also sets `noise_dim` and implements
    `weights_from_noise`.
    """

    target: TargetSpec
    input_mean: float = 0.0
    input_std: float = 1.0
    noise_dim: int | None = None  # size of the latent space; None: the networks do not come from noise
    max_networks: int | None = None  # distinct networks it can give; None: as many as asked
    likelihood: Likelihood  # what training minimises and its logs score (set by `use_likelihood`)
    # How `training/` fits it: a key of training.TRAINERS ("gradient": Keras fit with the hooks
    # below; "evolution": neuroevolution, training/evolution.py).
    training: str = "gradient"

    # ---- sampling -------------------------------------------------------------
    @abc.abstractmethod
    def network_weights(self, num_networks: int, seed: int = NETWORK_SEED) -> dict[str, tf.Tensor]:
        """`num_networks` networks drawn from `seed` (the same ones for the same seed), as
        tensors [n, *param_shape] keyed "<layer>/<kernel|bias>"."""

    def sample_networks(self, num_networks: int, seed: int = NETWORK_SEED, chunk: int = 100) -> dict[str, np.ndarray]:
        """`network_weights` as NumPy arrays, computed `chunk` networks at a time where the
        networks come from noise (memory), checked against `max_networks`."""
        parts: dict[str, list] = {}
        for _, weights in self.iter_networks(num_networks, seed, chunk):
            for name, value in weights.items():
                parts.setdefault(name, []).append(value)
        return {name: np.concatenate(values) for name, values in parts.items()}

    def iter_networks(self, num_networks: int, seed: int = NETWORK_SEED, chunk: int = 100):
        """The networks of `sample_networks(num_networks, seed)` as (index of the first,
        NumPy weights) pieces of at most `chunk` networks where they come from noise, so a
        caller that writes them out holds one piece at a time."""
        self.check_count(num_networks)
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise HyperganError(f"the seed of sampled networks must be a non-negative integer (got {seed!r})")
        if self.noise_dim is None:
            yield 0, {name: value.numpy() for name, value in self.network_weights(num_networks, seed).items()}
            return
        noise = self.arrange_noise(fixed_noise(num_networks, self.noise_dim, seed))
        for start in range(0, num_networks, chunk):
            yield start, {name: value.numpy() for name, value in self.weights_from_noise(tf.constant(noise[start : start + chunk])).items()}

    def arrange_noise(self, noise: np.ndarray) -> np.ndarray:
        """The noise of the networks of a seed, as this sampler draws them from fixed_noise's
        rows (a mixture's round-robin modes, HyperGAN.stratify); most samplers: unchanged."""
        return noise

    def check_count(self, num_networks: int) -> None:
        """A clear error when more networks are asked for than this sampler has."""
        if num_networks < 1:
            raise HyperganError("ask for at least 1 network")
        if self.max_networks is not None and num_networks > self.max_networks:
            raise HyperganError(f"this {self.describe()} has {self.max_networks} distinct network(s); ask for at most {self.max_networks}")

    def weights_from_noise(self, noise: tf.Tensor) -> dict[str, tf.Tensor]:
        """noise [n, noise_dim] -> weights [n, ...] (samplers with a latent space only)."""
        raise HyperganError(f"this {self.describe()} has no latent space: its networks do not come from noise")

    def networks_available(self, requested: int) -> int:
        """`requested`, capped at the distinct networks this sampler has."""
        return requested if self.max_networks is None else min(requested, self.max_networks)

    # How training steps run the target networks (set by compile_from_config): their number
    # format (--precision) and the groups whose forward pass backward passes recompute
    # (--recompute N; 0: none; TargetSpec.forward).
    # Evaluation, analysis and export always compute in float32 from the float32 weights.
    training_precision = "float32"
    training_recompute = 0

    def classify(self, images, weights, precision: str = "float32", recompute: int = 0, inference: bool = True) -> tf.Tensor:
        """Pixels in [0, 1], [B, *input_shape] -> logits of every network [K, B, classes]
        (float32, whatever `precision` the networks computed in; TargetSpec.forward).
        `inference`: computed as fastest when no backward pass follows (evaluation, export);
        training steps and callers that differentiate the logits (attacks) pass False."""
        return self.target.forward(standardise(images, self.input_mean, self.input_std), weights, precision, recompute, inference)

    def training_classify(self, images, weights) -> tf.Tensor:
        """`classify` as the run's training steps compute it (--precision, --recompute),
        for a backward pass."""
        return self.classify(images, weights, self.training_precision, self.training_recompute, inference=False)

    def training_classify_and_features(self, images, weights, layers: tuple[str, ...], examples: int):
        """`training_classify`'s logits and, from the same forward pass, the outputs of
        `layers` on the first `examples` images: {layer: [K, examples, F]} (no --recompute)."""
        return self.target.forward_and_features(standardise(images, self.input_mean, self.input_std), weights,
                                                self.training_precision, layers, examples)

    def take_training_options(self, config: "TrainConfig") -> None:
        """How `training_classify` computes, from the run's configuration."""
        self.training_precision, self.training_recompute = config.resolved_precision(), config.recompute

    def features(self, images, weights) -> dict[str, tf.Tensor]:
        """Pixels in [0, 1] -> every layer's output of every network: {layer: [K, B, F]}."""
        return self.target.features(standardise(images, self.input_mean, self.input_std), weights)

    def latent_histograms(self, num_networks: int, seed: int) -> dict[str, np.ndarray]:
        """Named arrays for TensorBoard histograms of the latent space (none by default)."""
        return {}

    def describe(self) -> str:
        """A short human name, e.g. "HyperGAN" or "random-start ensemble (10 members)"."""
        return type(self).__name__

    def parameter_counts(self) -> dict[str, int]:
        """Trainable parameters of the sampler against those of the network it produces."""
        return {"sampler_trainable": int(sum(np.prod(v.shape) for v in self.trainable_variables)),
                "target_network": int(self.target.num_params)}

    # ---- training hooks ---------------------------------------------------------
    def use_likelihood(self, name: str | None, noise_std: float) -> None:
        """Train with the likelihood `name` (objectives/likelihood.py; None: categorical);
        `log_names` maps "score", "ensemble_score" and "spread" to the names of its logs."""
        self.likelihood = get_likelihood(name, noise_std)
        self.log_names = self.likelihood.log_names()

    def likelihood_config(self) -> dict:
        """The likelihood's part of `get_config`."""
        return {"likelihood": self.likelihood.name, "noise_std": self.likelihood.noise_std}

    @property
    def optimizer_steps(self) -> tf.Variable:
        """Training steps taken: what backups, --steps and the step noise count."""
        return self.optimizer.iterations

    @classmethod
    @abc.abstractmethod
    def from_train_config(cls, config: "TrainConfig", target: TargetSpec, total_steps: int = 1) -> "WeightSampler":
        """A freshly initialised sampler as `config` describes; `total_steps` is the length
        of training (for schedules)."""

    @classmethod
    def trained_networks(cls, config: "TrainConfig") -> tuple[str, int]:
        """How many networks one training step runs, and the option that sets it."""
        return "--networks-per-step", config.networks_per_step

    @classmethod
    def check_config(cls, config: "TrainConfig", target: TargetSpec) -> None:
        """Raise a HyperganError for options that do not fit `target` or this machine's
        memory, before anything is written (subclasses add their own checks)."""
        option, count = cls.trained_networks(config)
        check_memory(option, count, training_bytes_per_network(target, config.batch_size),
                     f"{count:,} networks per training step with their gradients and activations")

    def compile_from_config(self, config: "TrainConfig", total_steps: int) -> None:
        """Compile with the optimizers `config` describes (cosine decay over `total_steps`),
        and take its training options (--precision, --recompute)."""
        self.take_training_options(config)
        self.compile(optimizer=FusedAdam(learning_rate(config, total_steps)))

    def compile(self, optimizer, **kwargs):
        super().compile(optimizer=optimizer, **kwargs)
        # Built here, not lazily inside fit(): under a distribution strategy the optimizer
        # variables must exist before the first traced step.
        self.optimizer.build(self.trainable_variables)

    def prepare_training(self, config: "TrainConfig") -> None:
        """Called once before a fresh (not a resumed) training starts."""

    def finish_training(self) -> None:
        """Called once after the last step, before the final weights are saved."""

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Skipped: every variable exists already (sub-models in __init__, optimizers in
        compile). Under a distribution strategy Keras' symbolic build would reduce a data
        batch across replicas, which fails with MultiWorkerMirroredStrategy (TF 2.21,
        Keras 3.15), and would build slots for an unused default optimizer."""

    def _for_keras(self, logs: dict) -> dict:
        """Keras (3.15) averages a step's logs over workers along axis 0, which a scalar
        lacks: under MultiWorkerMirroredStrategy give each value that axis."""
        if isinstance(self.distribute_strategy, tf.distribute.MultiWorkerMirroredStrategy):
            return {name: tf.reshape(value, [1]) for name, value in logs.items()}
        return logs


def learning_rate(config: "TrainConfig", total_steps: int):
    """The generator/sampler learning rate: constant, or cosine decay to 1% over training."""
    if config.lr_schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(config.g_learning_rate, decay_steps=total_steps, alpha=0.01)
    return config.g_learning_rate
