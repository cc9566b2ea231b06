"""TensorBoard summaries that Keras' own callback cannot write: what the sampler makes.

Each epoch, for a fixed set of noise vectors: per-layer diversity (std/mean of the L2
norms, and the nearest-neighbour distance modulo scaling symmetry), histograms of
generated weights and codes, and the first layer's filters of
one network as an image. The hyperparameters go to the HParams dashboard once.
"""

from __future__ import annotations

import math
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from tensorboard.plugins.hparams import api as hparams_api

from hypergan_tf.diversity import symmetry_aware_diversity
from hypergan_tf.hypergan import fixed_noise
from hypergan_tf.metrics import l2_std_over_mean
from hypergan_tf.sampling import networks_available


def filter_grid(kernel: np.ndarray) -> np.ndarray:
    """A conv kernel [k, k, C_in, C_out] (C_in 1 or 3) -> one image [1, H, W, C_in] in [0, 1]."""
    k, _, channels, count = kernel.shape
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    grid = np.ones((rows * (k + 1) + 1, columns * (k + 1) + 1, channels), np.float32)
    for i in range(count):
        f = kernel[..., i]
        f = (f - f.min()) / (f.max() - f.min() + 1e-8)
        r, c = divmod(i, columns)
        grid[1 + r * (k + 1) : 1 + r * (k + 1) + k, 1 + c * (k + 1) : 1 + c * (k + 1) + k] = f
    return grid[None]


class SamplerSummaries(keras.callbacks.Callback):
    """Writes the sampler's summaries under `log_dir` at the end of every epoch."""

    def __init__(self, log_dir: Path, num_networks: int, seed: int, hparams: dict):
        super().__init__()
        self.writer = tf.summary.create_file_writer(str(log_dir))
        self.num_networks = num_networks
        self.seed = seed
        self.hparams = hparams
        self.last_diversity: dict[str, float] = {}
        self.last_symmetry_aware: dict[str, float] = {}

    def on_train_begin(self, logs=None):
        with self.writer.as_default():
            hparams_api.hparams({k: v for k, v in self.hparams.items() if isinstance(v, (bool, int, float, str))})

    def on_epoch_end(self, epoch, logs=None):
        model = self.model
        weights = model.sample_networks(networks_available(model, self.num_networks), self.seed)
        # Only a HyperGAN has codes; baselines have members but no latent space.
        codes = model.codes(tf.constant(fixed_noise(self.num_networks, model.noise_dim, self.seed))).numpy() if hasattr(model, "codes") else None
        self.last_diversity = l2_std_over_mean(weights)
        self.last_symmetry_aware = symmetry_aware_diversity(model.target, weights)
        step = epoch + 1
        with self.writer.as_default():
            for layer, value in self.last_diversity.items():
                tf.summary.scalar(f"diversity/{layer}_l2_std_over_mean", value, step=step)
            for layer, value in self.last_symmetry_aware.items():
                tf.summary.scalar(f"diversity/{layer}_modulo_scaling", value, step=step)
            for name, value in weights.items():
                tf.summary.histogram(f"weights/{name}", value, step=step)
            for i, layer in enumerate(model.target.layers if codes is not None else []):
                tf.summary.histogram(f"codes/{layer.name}", codes[:, i], step=step)
            first = model.target.layers[0]
            if first.kind == "conv" and first.in_units in (1, 3):
                tf.summary.image(f"filters/{first.name}", filter_grid(weights[f"{first.name}/kernel"][0]), step=step)
        self.writer.flush()
