"""The discriminator D: tells layer codes from samples of the Gaussian prior."""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="hypergan_tf")
class Discriminator(keras.Model):
    """codes -> logits [M, 1]; high means "looks like a prior sample".

    One discriminator scores every layer code: pushing each code towards N(0, I)
    keeps the mixer's output high-entropy, which is what prevents mode collapse.
    """

    def __init__(self, hidden_units: int = 512, **kwargs):
        super().__init__(**kwargs)
        self.hidden_units = hidden_units
        self.hidden = [
            keras.layers.Dense(hidden_units, activation="relu"),
            keras.layers.Dense(hidden_units, activation="relu"),
        ]
        self.out = keras.layers.Dense(1)

    def call(self, codes):
        """codes [M, d], or [M, L, d] (every layer's code scored alike) -> [M * L, 1]."""
        x = keras.ops.reshape(codes, (-1, keras.ops.shape(codes)[-1]))
        for layer in self.hidden:
            x = layer(x)
        return self.out(x)

    def get_config(self):
        return {**super().get_config(), "hidden_units": self.hidden_units}


@keras.saving.register_keras_serializable(package="hypergan_tf")
class PerLayerDiscriminator(keras.Model):
    """One discriminator per layer code (ablation of the shared one): codes [M, L, d]
    -> logits [M * L, 1]. Each layer's code distribution is then judged on its own."""

    def __init__(self, num_layers: int, hidden_units: int = 512, **kwargs):
        super().__init__(**kwargs)
        self.num_layers = num_layers
        self.hidden_units = hidden_units
        self.heads = [Discriminator(hidden_units, name=f"discriminator_{i}") for i in range(num_layers)]

    def call(self, codes):
        return keras.ops.concatenate([head(codes[:, i]) for i, head in enumerate(self.heads)], axis=0)

    def get_config(self):
        return {**super().get_config(), "num_layers": self.num_layers, "hidden_units": self.hidden_units}
