"""The mixer Q(z|s): one noise vector in, one code per target layer out."""

from __future__ import annotations

import keras


def mlp_block(units: int, batch_norm: bool, affine: bool = True) -> list[keras.layers.Layer]:
    """Dense -> (batch norm over the K sampled networks) -> ReLU.

    Without `affine` the normalisation has no learned scale and shift: every hidden unit
    keeps unit variance across the networks of a batch, so the generator cannot switch
    the noise off by shrinking a scale (a collapse path of ordinary batch norm).
    """
    block = [keras.layers.Dense(units, use_bias=not batch_norm)]
    if batch_norm:
        block.append(keras.layers.BatchNormalization(center=affine, scale=affine))
    block.append(keras.layers.ReLU())
    return block


@keras.saving.register_keras_serializable(package="hypergan_tf")
class Mixer(keras.Model):
    """s [K, noise_dim] -> codes [K, num_layers, code_dim].

    The layers of one network are correlated; mixing one noise vector into all the
    codes lets the generators produce layers that fit together (the paper's ablation
    without a mixer loses diversity).
    """

    def __init__(self, num_layers: int, code_dim: int, hidden_units: int = 512, batch_norm: bool = False,
                 batch_norm_affine: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.num_layers = num_layers
        self.code_dim = code_dim
        self.hidden_units = hidden_units
        self.batch_norm = batch_norm
        self.batch_norm_affine = batch_norm_affine
        self.blocks = mlp_block(hidden_units, batch_norm, batch_norm_affine) + mlp_block(hidden_units, batch_norm, batch_norm_affine)
        self.out = keras.layers.Dense(num_layers * code_dim)

    def call(self, noise, training=False):
        x = noise
        for layer in self.blocks:
            x = layer(x, training=training)
        return keras.ops.reshape(self.out(x), (-1, self.num_layers, self.code_dim))

    def get_config(self):
        return {
            **super().get_config(),
            "num_layers": self.num_layers,
            "code_dim": self.code_dim,
            "hidden_units": self.hidden_units,
            "batch_norm": self.batch_norm,
            "batch_norm_affine": self.batch_norm_affine,
        }
