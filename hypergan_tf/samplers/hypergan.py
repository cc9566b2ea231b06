"""HyperGAN as a keras.Model: `fit()` trains mixer, generators and discriminator.

One training step (paper, eq. 2):
  1. discriminator: codes of K fresh noise vectors against K samples of N(0, I);
  2. mixer + generators: K networks are generated and all of them see the same data
     batch; loss = mean negative log-likelihood over the K networks (cross-entropy for
     classifiers; the run's likelihood, objectives/likelihood.py)
     + diversity_weight * (a diversity term, objectives/diversity.py)
     + feature_diversity_weight * (repulsion of the networks' features, objectives/feature_diversity.py)
     - off_data_weight * (their uncertainty on inputs away from the data, objectives/off_data.py)
     + beta * (non-saturating adversarial loss of the codes, objectives/adversarial.py).

With `modes` M > 1 the sampler is a mixture of M HyperGANs that share mixer and
generators: each mode also has a full set of target weights of its own, initialised
independently like a freshly initialised network, and a network is the generators'
weights plus its mode's. The mode is a function of the noise (the quantile of its first
coordinate: M equally likely modes), and the samplers here assign modes round-robin
(`stratify`): the i-th of n networks has mode i mod M, so an ensemble of M networks
holds one of each and every step trains every mode (for K >= M).
"""

from __future__ import annotations

from statistics import NormalDist

import keras
import numpy as np
import tensorflow as tf

from hypergan_tf.config import TrainConfig
from hypergan_tf.objectives import adversarial
from hypergan_tf.objectives.diversity import DIVERSITY_TERMS, StepOutputs, diversity_loss, gradient_norm_ratio
from hypergan_tf.objectives.feature_diversity import feature_layers, feature_repulsion
from hypergan_tf.objectives.off_data import off_data_loss
from hypergan_tf.optimizers import FusedAdam
from hypergan_tf.samplers.base import NETWORK_SEED, WeightSampler, fixed_noise, learning_rate
from hypergan_tf.samplers.discriminator import Discriminator, PerLayerDiscriminator
from hypergan_tf.samplers.generators import LayerGenerator
from hypergan_tf.samplers.mixer import Mixer
from hypergan_tf.targets import TargetSpec


def normal_cdf(x: tf.Tensor) -> tf.Tensor:
    """The standard normal distribution function (ndtri's inverse)."""
    return 0.5 * tf.math.erfc(-x / np.sqrt(2.0))


@keras.saving.register_keras_serializable(package="hypergan_tf")
class HyperGAN(WeightSampler):
    """A sampler of target networks, trained adversarially on its codes.

    `mixer` may be None (ablation): each generator then takes its own slice of the
    noise, so noise_dim must equal num_layers * code_dim.
    """

    def __init__(
        self,
        target: TargetSpec,
        mixer: Mixer | None,
        generators: list[LayerGenerator],
        discriminator: Discriminator | PerLayerDiscriminator,
        noise_dim: int = TrainConfig.noise_dim,  # one place for the defaults: config.py
        code_dim: int = TrainConfig.code_dim,
        networks_per_step: int = TrainConfig.networks_per_step,
        eval_networks: int = TrainConfig.eval_networks,
        beta: float = TrainConfig.beta,
        input_mean: float = 0.0,
        input_std: float = 1.0,
        seed: int | None = None,
        diversity: str = TrainConfig.diversity,
        diversity_weight: float = TrainConfig.diversity_weight,
        diversity_scale: str = TrainConfig.diversity_scale,
        diversity_warmup: float = TrainConfig.diversity_warmup,
        diversity_delay: float = TrainConfig.diversity_delay,
        off_data: str = TrainConfig.off_data,
        off_data_objective: str = TrainConfig.off_data_objective,
        off_data_weight: float = TrainConfig.off_data_weight,
        off_data_probes: int = TrainConfig.off_data_probes,
        off_data_networks: int = TrainConfig.off_data_networks,
        feature_diversity_weight: float = TrainConfig.feature_diversity_weight,
        feature_diversity_layers: str | None = TrainConfig.feature_diversity_layers,
        feature_diversity_examples: int = TrainConfig.feature_diversity_examples,
        beta_final: float | None = None,
        schedule_steps: int = 1,
        mixer_noise: float = TrainConfig.mixer_noise,
        likelihood: str | None = None,
        noise_std: float = TrainConfig.noise_std,
        modes: int = TrainConfig.modes,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if mixer is None and noise_dim != len(target.layers) * code_dim:
            raise ValueError("without a mixer, noise_dim must equal num_layers * code_dim")
        self.target = target
        self.mixer = mixer
        self.generators = generators
        self.discriminator = discriminator
        self.noise_dim = int(noise_dim)
        self.code_dim = int(code_dim)
        self.networks_per_step = int(networks_per_step)
        self.eval_networks = int(eval_networks)
        self.beta = float(beta)
        # beta moves linearly from `beta` to `beta_final` over `schedule_steps` steps.
        self.beta_final = self.beta if beta_final is None else float(beta_final)
        self.schedule_steps = max(int(schedule_steps), 1)
        self.mixer_noise = float(mixer_noise)
        self.input_mean = float(input_mean)
        self.input_std = float(input_std)
        self.seed = 0 if seed is None else int(seed)
        self.diversity = diversity
        self.diversity_weight = float(diversity_weight)
        self.diversity_scale = diversity_scale
        self.diversity_warmup = float(diversity_warmup)
        self.diversity_delay = float(diversity_delay)
        self.off_data, self.off_data_objective, self.off_data_weight = off_data, off_data_objective, float(off_data_weight)
        self.off_data_probes, self.off_data_networks = int(off_data_probes), int(off_data_networks)
        self.feature_diversity_weight, self.feature_diversity_layers = float(feature_diversity_weight), feature_diversity_layers or None
        self.feature_diversity_examples = int(feature_diversity_examples)
        self.feature_layer_names = feature_layers(target, self.feature_diversity_layers) if self.feature_diversity_weight > 0 else ()
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.use_likelihood(likelihood, noise_std)
        # The modes' own weights, [M, *param_shape] per parameter: independent initial
        # networks (He-normal kernels at the generators' scale, zero biases).
        self.modes = int(modes)
        self.mode_weights = {}
        if self.modes > 1:
            for layer, generator in zip(target.layers, generators):
                for part, shape, init in (("kernel", layer.kernel_shape, keras.initializers.RandomNormal(stddev=generator.gain)),
                                          ("bias", (layer.units,), "zeros")):
                    self.mode_weights[f"{layer.name}/{part}"] = self.add_weight(
                        shape=(self.modes, *shape), initializer=init, name=f"mode_{layer.name}_{part}")
        self.trackers = {
            name: keras.metrics.Mean(name=name)
            for name in ("target_loss", self.log_names["score"], "g_loss", "d_loss", "d_accuracy", self.log_names["ensemble_score"],
                         "diversity_loss", "diversity_strength", "off_data_uncertainty", "feature_similarity", "ensemble_gain", self.log_names["spread"])
        }
        # Build every sub-model now, so weights can be loaded before any call.
        self.generate(tf.zeros([2, self.noise_dim]))
        self.discriminator(tf.zeros([1, len(generators), self.code_dim]))
        self.built = True

    # ---- construction and configuration -------------------------------------------
    @classmethod
    def from_train_config(cls, config: TrainConfig, target: TargetSpec, total_steps: int = 1) -> "HyperGAN":
        """The HyperGAN that `config` describes, with freshly initialised weights;
        `total_steps` is the length of training (the beta schedule's span)."""
        keras.utils.set_random_seed(config.seed)
        num_layers = len(target.layers)
        mixer = None
        noise_dim = config.noise_dim
        if config.use_mixer:
            mixer = Mixer(num_layers, config.code_dim, config.hidden_units, config.batch_norm, config.batch_norm_affine, name="mixer")
        else:
            noise_dim = num_layers * config.code_dim
        generators = [LayerGenerator.for_layer(layer, config.hidden_units, config.batch_norm, config.batch_norm_affine) for layer in target.layers]
        if config.per_layer_discriminator:
            discriminator = PerLayerDiscriminator(num_layers, config.hidden_units, name="discriminator")
        else:
            discriminator = Discriminator(config.hidden_units, name="discriminator")
        return cls(
            target, mixer, generators, discriminator,
            noise_dim=noise_dim, code_dim=config.code_dim, networks_per_step=config.networks_per_step,
            eval_networks=config.eval_networks, beta=config.beta,
            input_mean=config.input_mean if config.input_mean is not None else 0.0,
            input_std=config.input_std if config.input_std is not None else 1.0,
            seed=config.seed, diversity=config.diversity, diversity_weight=config.diversity_weight,
            diversity_scale=config.diversity_scale, diversity_warmup=config.diversity_warmup,
            diversity_delay=config.diversity_delay,
            off_data=config.off_data, off_data_objective=config.off_data_objective, off_data_weight=config.off_data_weight,
            off_data_probes=config.off_data_probes, off_data_networks=config.off_data_networks,
            feature_diversity_weight=config.feature_diversity_weight, feature_diversity_layers=config.feature_diversity_layers,
            feature_diversity_examples=config.feature_diversity_examples, beta_final=config.beta_final, schedule_steps=total_steps, mixer_noise=config.mixer_noise,
            likelihood=config.likelihood, noise_std=config.noise_std, modes=config.modes,
        )

    def get_config(self) -> dict:
        serialize = keras.saving.serialize_keras_object
        return {
            "name": self.name,
            "target": self.target.to_config(),
            "mixer": None if self.mixer is None else serialize(self.mixer),
            "generators": [serialize(generator) for generator in self.generators],
            "discriminator": serialize(self.discriminator),
            "noise_dim": self.noise_dim, "code_dim": self.code_dim, "networks_per_step": self.networks_per_step,
            "eval_networks": self.eval_networks, "beta": self.beta, "beta_final": self.beta_final,
            "schedule_steps": self.schedule_steps, "mixer_noise": self.mixer_noise, "input_mean": self.input_mean,
            "input_std": self.input_std, "seed": self.seed, "diversity": self.diversity, "diversity_weight": self.diversity_weight,
            "diversity_scale": self.diversity_scale, "diversity_warmup": self.diversity_warmup,
            "diversity_delay": self.diversity_delay,
            "off_data": self.off_data, "off_data_objective": self.off_data_objective, "off_data_weight": self.off_data_weight,
            "off_data_probes": self.off_data_probes, "off_data_networks": self.off_data_networks,
            "feature_diversity_weight": self.feature_diversity_weight, "feature_diversity_layers": self.feature_diversity_layers,
            "feature_diversity_examples": self.feature_diversity_examples, "modes": self.modes, **self.likelihood_config(),
        }

    @classmethod
    def from_config(cls, config: dict) -> "HyperGAN":
        config = dict(config)
        deserialize = keras.saving.deserialize_keras_object
        target = TargetSpec.from_config(config.pop("target"))
        mixer = config.pop("mixer")
        mixer = None if mixer is None else deserialize(mixer)
        generators = [deserialize(generator) for generator in config.pop("generators")]
        discriminator = deserialize(config.pop("discriminator"))
        return cls(target, mixer, generators, discriminator, **config)

    def describe(self) -> str:
        return "HyperGAN" if self.modes == 1 else f"HyperGAN, a mixture of {self.modes} modes"

    @classmethod
    def check_config(cls, config: TrainConfig, target: TargetSpec) -> None:
        super().check_config(config, target)
        if config.feature_diversity_weight > 0:
            feature_layers(target, config.feature_diversity_layers)

    def parameter_counts(self) -> dict[str, int]:
        count = lambda variables: int(sum(np.prod(v.shape) for v in variables))  # noqa: E731
        return {"mixer_and_generators": count(self.generator_variables), "discriminator": count(self.discriminator.trainable_variables),
                "target_network": int(self.target.num_params)}

    def compile(self, g_optimizer, d_optimizer, **kwargs):
        keras.Model.compile(self, **kwargs)
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer
        # Built here, not lazily inside fit(): under a distribution strategy the
        # optimizer variables must exist before the first traced step.
        self.g_optimizer.build(self.generator_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

    def compile_from_config(self, config: TrainConfig, total_steps: int) -> None:
        self.take_training_options(config)
        self.compile(
            g_optimizer=FusedAdam(learning_rate(config, total_steps)),
            d_optimizer=FusedAdam(config.d_learning_rate, beta_1=0.5),
        )

    def prepare_training(self, config: TrainConfig) -> None:
        self.pretrain_mixer(config.mixer_pretrain_steps)

    def finish_training(self) -> None:
        self.recompute_batch_norm_statistics()

    @property
    def metrics(self):
        return list(self.trackers.values())

    @property
    def generator_variables(self) -> list:
        """What the target loss trains: mixer and generators, never the discriminator."""
        variables = [] if self.mixer is None else list(self.mixer.trainable_variables)
        for generator in self.generators:
            variables += generator.trainable_variables
        return variables + list(self.mode_weights.values())

    @property
    def optimizer_steps(self) -> tf.Variable:
        """Training steps taken: what backups, --steps and the step noise count."""
        return self.g_optimizer.iterations

    # ---- sampling -------------------------------------------------------------
    def network_weights(self, num_networks: int, seed: int = NETWORK_SEED) -> dict[str, tf.Tensor]:
        return self.weights_from_noise(self.seeded_noise(num_networks, seed))

    def seeded_noise(self, num_networks: int, seed: int) -> tf.Tensor:
        """The noise of the networks of `seed` (fixed_noise's rows, modes round-robin)."""
        return self.stratify(tf.constant(fixed_noise(num_networks, self.noise_dim, seed)))

    def arrange_noise(self, noise: np.ndarray) -> np.ndarray:
        return self.stratify(tf.constant(noise)).numpy()

    def stratify(self, noise, first=0) -> tf.Tensor:
        """noise [n, noise_dim] with its first coordinate moved so that row i falls in mode
        (first + i) mod M: its quantile u becomes ((first + i) mod M + u) / M, so the
        coordinate stays N(0, 1) over a uniform mode. Unchanged with one mode."""
        if self.modes == 1:
            return noise
        n = tf.shape(noise)[0]
        mode = tf.cast((tf.range(n) + tf.cast(first, tf.int32)) % self.modes, tf.float64)
        quantile = tf.clip_by_value(normal_cdf(tf.cast(noise[:, 0], tf.float64)), 1e-4, 1 - 1e-4)  # away from a mode's edges
        first_coordinate = tf.math.ndtri((mode + quantile) / self.modes)
        return tf.concat([tf.cast(first_coordinate, noise.dtype)[:, None], noise[:, 1:]], axis=1)

    def modes_of(self, noise) -> tf.Tensor:
        """The mode of each noise vector [n] (int32): its first coordinate's quantile, in M equal
        parts, counted as the normal quantiles k / M (k = 1 .. M-1) it reaches (comparisons only,
        which every export format runs)."""
        edges = tf.constant([NormalDist().inv_cdf(k / self.modes) for k in range(1, self.modes)], noise.dtype)
        return tf.reduce_sum(tf.cast(noise[:, :1] >= edges[None, :], tf.int32), axis=1)

    def weights_from_noise(self, noise) -> dict[str, tf.Tensor]:
        return self.generate(noise, training=False)[1]

    def latent_histograms(self, num_networks: int, seed: int) -> dict[str, np.ndarray]:
        codes = self.codes(self.seeded_noise(num_networks, seed)).numpy()
        return {f"codes/{layer.name}": codes[:, i] for i, layer in enumerate(self.target.layers)}

    def sample_noise(self, num_networks: int) -> tf.Tensor:
        """Fresh noise for sampling outside training."""
        return keras.random.normal((num_networks, self.noise_dim), seed=self.seed_generator)

    def step_normal(self, shape, purpose: int) -> tf.Tensor:
        """N(0, I) samples for one training step, a function of (seed, step, purpose) only.

        Stateless, so every replica of a distributed step draws the same networks and a
        resumed run continues the same stream; `purpose` separates the draws of a step.
        """
        step = tf.cast(self.optimizer_steps, tf.int32)
        return tf.random.stateless_normal(shape, seed=tf.stack([tf.constant(self.seed, tf.int32), step * 4 + purpose]))

    def off_data_seed(self) -> tf.Tensor:
        """The stateless seed of one step's off-data probes, a function of (seed, step): its
        first half is >= 2**31, so it never meets a seed of step_normal."""
        return tf.stack([tf.constant(self.seed + 2**31, tf.int64), tf.cast(self.optimizer_steps, tf.int64)])

    def codes(self, noise, training=False) -> tf.Tensor:
        """noise [K, noise_dim] -> codes [K, num_layers, code_dim].

        With `mixer_noise`, training perturbs the mixer's input with N(0, mixer_noise^2)
        (the authors' code does this), so nearby noise vectors must give good networks too.
        """
        if self.mixer is None:
            return tf.reshape(noise, [-1, len(self.generators), self.code_dim])
        if training and self.mixer_noise > 0:
            noise = noise + self.mixer_noise * self.step_normal(tf.shape(noise), purpose=3)
        return self.mixer(noise, training=training)

    def weights_from_codes(self, codes, training=False, precision="float32") -> dict[str, tf.Tensor]:
        """codes [K, L, d] -> {"<layer>/kernel": [K, ...], "<layer>/bias": [K, out]} (float32;
        `precision`: what the generators' output layers compute in, LayerGenerator.call)."""
        weights = {}
        for i, (layer, generator) in enumerate(zip(self.target.layers, self.generators)):
            params = generator(codes[:, i], training=training, precision=precision)
            weights[f"{layer.name}/kernel"] = params["kernel"]
            weights[f"{layer.name}/bias"] = params["bias"]
        return weights

    def generate(self, noise, training=False, precision="float32"):
        """noise [K, noise_dim] -> (codes [K, L, d], weights dict with a leading K axis, float32);
        training steps pass their --precision (weights_from_codes)."""
        codes = self.codes(noise, training=training)
        weights = self.weights_from_codes(codes, training=training, precision=precision)
        if self.modes > 1:
            modes = self.modes_of(noise)
            weights = {name: value + tf.gather(self.mode_weights[name], modes) for name, value in weights.items()}
        return codes, weights

    def call(self, images, training=False, num_networks=None):
        """Logits of freshly sampled networks (default `networks_per_step`): [K, B, classes]."""
        _, weights = self.generate(self.stratify(self.sample_noise(num_networks or self.networks_per_step)), training=training)
        return self.classify(images, weights)

    # ---- losses ---------------------------------------------------------------
    @property
    def uses_discriminator(self) -> bool:
        return self.beta > 0 or self.beta_final > 0

    def current_beta(self) -> tf.Tensor:
        """The adversarial weight at this step (linear schedule from beta to beta_final)."""
        progress = tf.minimum(tf.cast(self.optimizer_steps, tf.float32) / self.schedule_steps, 1.0)
        return self.beta + (self.beta_final - self.beta) * progress

    def diversity_ramp(self) -> tf.Tensor:
        """The diversity terms' share of their weight at this step: 0 for the first
        `diversity_delay` of training, then ramped linearly up to 1 over the next
        `diversity_warmup` of it, then 1."""
        progress = tf.cast(self.optimizer_steps, tf.float32) / self.schedule_steps - self.diversity_delay
        if self.diversity_warmup == 0:  # full strength from the delay on (from the first step without one)
            return tf.where(progress >= 0, 1.0, 0.0)
        return tf.clip_by_value(progress / self.diversity_warmup, 0.0, 1.0)

    def current_diversity_weight(self) -> tf.Tensor:
        """The diversity weight at this step (diversity_ramp)."""
        return self.diversity_weight * self.diversity_ramp()

    # ---- steps ----------------------------------------------------------------
    def train_step(self, data):
        """Under a distribution strategy each replica gets a shard of the data batch and
        evaluates the same K networks on it, so the step equals the single-device step."""
        images, labels = data
        logs = {}
        if self.uses_discriminator:
            logs.update(self.discriminator_step(self.networks_per_step))
        logs.update(self.generator_step(images, labels, self.networks_per_step))
        return self._for_keras(logs)

    def discriminator_step(self, num_networks: int) -> dict:
        """One update of D: codes of fresh noise (label 0) against prior samples (label 1)."""
        noise = self.step_normal([num_networks, self.noise_dim], purpose=0)
        codes = self.codes(noise, training=True)
        prior = self.step_normal(tf.shape(codes), purpose=1)
        with tf.GradientTape() as tape:
            prior_logits = self.discriminator(prior)
            code_logits = self.discriminator(codes)
            d_loss = adversarial.discriminator_loss(prior_logits, code_logits)
            # Gradients are summed over replicas: scale so the sum is the mean.
            scaled = d_loss / self.distribute_strategy.num_replicas_in_sync
        grads = tape.gradient(scaled, self.discriminator.trainable_variables)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_variables))
        self.trackers["d_loss"].update_state(d_loss)
        self.trackers["d_accuracy"].update_state(adversarial.discriminator_accuracy(prior_logits, code_logits))
        return {name: self.trackers[name].result() for name in ("d_loss", "d_accuracy")}

    def generator_step(self, images, labels, num_networks: int) -> dict:
        """One update of mixer and generators: K networks' negative log-likelihood + diversity + beta * adversarial."""
        with tf.GradientTape() as tape:
            # Modes round-robin from (step x K): with K < M the step's networks cycle through them.
            noise = self.stratify(self.step_normal([num_networks, self.noise_dim], purpose=2),
                                  first=tf.cast(self.optimizer_steps, tf.int32) * num_networks)
            codes, weights = self.generate(noise, training=True, precision=self.training_precision)
            if self.feature_diversity_weight > 0:  # the features come from the same forward pass
                logits, features = self.training_classify_and_features(images, weights, self.feature_layer_names,
                                                                       self.feature_diversity_examples)
            else:
                logits = self.training_classify(images, weights)
            with tf.GradientTape(persistent=True) as at_outputs:  # gradients at the outputs: the diversity strength
                at_outputs.watch(logits)
                target_loss = self.likelihood.loss(logits, labels)
                diversity = tf.constant(0.0)
                if self.diversity_weight > 0:  # off: no extra work (the probes cost a forward pass)
                    diversity = diversity_loss(self.diversity, StepOutputs(logits, labels, images, weights, self.training_classify, self.target))
            g_loss = target_loss
            # The logged strength: the term's gradient norm at the outputs over the
            # likelihood's (what --diversity-scale relative fixes), comparable across data sets.
            weight = self.current_diversity_weight()
            strength, logged = weight, weight
            if self.diversity_weight > 0:
                if DIVERSITY_TERMS[self.diversity].reads_outputs:
                    with tape.stop_recording():
                        if self.diversity_scale == "relative":
                            strength = weight * gradient_norm_ratio(at_outputs, target_loss, diversity, logits)
                        else:
                            logged = weight * gradient_norm_ratio(at_outputs, diversity, target_loss, logits)
                g_loss += strength * diversity
            if self.off_data_weight > 0:  # off: no extra forward pass
                off_data = off_data_loss(self.off_data, self.off_data_objective, images, self.off_data_seed(), self.training_classify, weights,
                                         self.off_data_probes, self.off_data_networks)
                g_loss += self.off_data_weight * off_data
                self.trackers["off_data_uncertainty"].update_state(-off_data)
            if self.feature_diversity_weight > 0:
                repelled, similarity = feature_repulsion(features)  # similarity: the logged mean CKA, in [0, 1]
                g_loss += self.feature_diversity_weight * self.diversity_ramp() * repelled
                self.trackers["feature_similarity"].update_state(similarity)
            if self.uses_discriminator:
                g_loss += self.current_beta() * adversarial.adversarial_loss(self.discriminator(codes))
            scaled = g_loss / self.distribute_strategy.num_replicas_in_sync
        variables = self.generator_variables
        grads = tape.gradient(scaled, variables)
        self.g_optimizer.apply_gradients(zip(grads, variables))
        self.trackers["target_loss"].update_state(target_loss)
        self.trackers["g_loss"].update_state(g_loss)
        self.trackers["diversity_loss"].update_state(diversity)
        self.trackers["diversity_strength"].update_state(logged)
        self.trackers[self.log_names["score"]].update_state(self.likelihood.member_score(logits, labels))
        logged = (("target_loss", self.log_names["score"], "g_loss", "diversity_loss", "diversity_strength")
                  + (("off_data_uncertainty",) if self.off_data_weight > 0 else ())
                  + (("feature_similarity",) if self.feature_diversity_weight > 0 else ()))
        return {name: self.trackers[name].result() for name in logged}

    def test_step(self, data):
        """Accuracy (the likelihood's score) of `eval_networks` freshly sampled networks, alone
        and as an ensemble, and their functional diversity: ensemble gain and pairwise
        disagreement (the spread of their outputs)."""
        images, labels = data
        logits = self(images, training=False, num_networks=self.eval_networks)
        member = self.likelihood.member_score(logits, labels)
        ensemble = self.likelihood.ensemble_score(logits, labels)
        self.trackers["target_loss"].update_state(self.likelihood.loss(logits, labels))
        self.trackers[self.log_names["score"]].update_state(member)
        self.trackers[self.log_names["ensemble_score"]].update_state(ensemble)
        self.trackers["ensemble_gain"].update_state(self.likelihood.gain(ensemble, member))
        self.trackers[self.log_names["spread"]].update_state(self.likelihood.spread(logits))
        names = ("target_loss", self.log_names["score"], self.log_names["ensemble_score"], "ensemble_gain", self.log_names["spread"])
        return self._for_keras({name: self.trackers[name].result() for name in names})

    # ---- batch norm ------------------------------------------------------------
    def recompute_batch_norm_statistics(self, num_networks: int = 2048) -> int:
        """Set every batch-norm layer's moving statistics to those of `num_networks`
        freshly sampled networks under the final weights ("precise BN").

        During training the statistics are taken over the K networks of each step and the
        moving averages lag the fast-changing generators (FINDINGS.md: 94.7% instead of
        98%); recomputed once at the end they match what the layers saw, and a network
        sampled alone is then well defined. Returns the number of layers updated.
        """
        layers = [layer for model in [self.mixer, *self.generators] if model is not None
                  for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
        if not layers:
            return 0
        momenta = [layer.momentum for layer in layers]
        for layer in layers:
            layer.momentum = 0.0  # moving statistics := this batch's statistics
        try:
            self.generate(self.seeded_noise(num_networks, self.seed + 1), training=True)
        finally:
            for layer, momentum in zip(layers, momenta):
                layer.momentum = momentum
        return len(layers)

    # ---- mixer pre-training ---------------------------------------------------
    def pretrain_mixer(self, steps: int, batch_size: int = 256, learning_rate: float = 1e-3) -> float:
        """Match the codes' mean and covariance to N(0, I) (the authors' optional warm-up).

        Returns the final moment-matching loss.
        """
        if self.mixer is None or steps <= 0:
            return 0.0
        optimizer = FusedAdam(learning_rate)
        eye = tf.eye(self.code_dim)

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                codes = self.mixer(self.sample_noise(batch_size), training=True)  # [n, L, d]
                mean = tf.reduce_mean(codes, axis=0)  # [L, d]
                centred = codes - mean
                cov = tf.einsum("nli,nlj->lij", centred, centred) / (batch_size - 1)
                loss = tf.reduce_sum(tf.square(mean)) + tf.reduce_sum(tf.square(cov - eye))
            grads = tape.gradient(loss, self.mixer.trainable_variables)
            optimizer.apply_gradients(zip(grads, self.mixer.trainable_variables))
            return loss

        loss = 0.0
        for _ in range(steps):
            loss = step()
        return float(loss)
