"""The discriminator D: tells layer codes from samples of the Gaussian prior."""

from __future__ import annotations

import keras


class Discriminator(keras.Model):
    """codes [M, d] -> logits [M, 1]; high means "looks like a prior sample".

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
        x = codes
        for layer in self.hidden:
            x = layer(x)
        return self.out(x)

    def get_config(self):
        return {**super().get_config(), "hidden_units": self.hidden_units}
