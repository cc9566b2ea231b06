"""Per-layer generators G_i: one layer code in, that layer's kernel and bias out."""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from hypergan_tf.atomic import store_variables
from hypergan_tf.samplers.mixer import mlp_block
from hypergan_tf.targets import TargetLayer


class Dense(keras.layers.Dense):
    """keras.layers.Dense, saved one copy at a time (atomic.store_variables): the generators'
    output layers hold the sampler's largest variables. Same file as Dense's: the weights
    file names a model's layers after their class ("layers/dense_2"), so this class keeps
    the name Dense."""

    def save_own_variables(self, store):
        if self.quantization_mode is not None or self.lora_enabled:
            return super().save_own_variables(store)
        store_variables(store, [self.kernel] + ([self.bias] if self.use_bias else []))

    def in_precision(self, x, precision: str):
        """This layer's float32 output (no activation) with its matmul in `precision`: for
        "bfloat16", the inputs and the kernel rounded to bfloat16, products summed in float32
        by oneDNN, the result rounded to bfloat16 (mixed precision, as Keras' "mixed_bfloat16"
        policy computes a Dense layer); the gradients flow back through the casts to the
        float32 variables."""
        if precision == "float32":
            return self(x)
        dtype = tf.as_dtype(precision)
        y = tf.cast(tf.matmul(tf.cast(x, dtype), tf.cast(self.kernel, dtype)), tf.float32)
        return y + self.bias if self.use_bias else y


@keras.saving.register_keras_serializable(package="hypergan_tf")
class LayerGenerator(keras.Model):
    """code [K, d] -> {"kernel": [K, *kernel_shape], "bias": [K, out]} for one layer.

    The output layer starts at unit scale and is multiplied by He's constant
    sqrt(2 / fan_in) of the target layer, so freshly generated networks are already
    well-scaled (and differ across noise) whatever the layer's size.
    """

    def __init__(self, kernel_shape, bias_shape, fan_in: int, hidden_units: int = 512, batch_norm: bool = False,
                 batch_norm_affine: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.kernel_shape = tuple(kernel_shape)
        self.bias_shape = tuple(bias_shape)
        self.fan_in = fan_in
        self.hidden_units = hidden_units
        self.batch_norm = batch_norm
        self.batch_norm_affine = batch_norm_affine
        self.gain = math.sqrt(2.0 / fan_in)
        self.kernel_size = math.prod(self.kernel_shape)
        self.blocks = mlp_block(hidden_units, batch_norm, batch_norm_affine) + mlp_block(hidden_units, batch_norm, batch_norm_affine)
        init = keras.initializers.RandomNormal(stddev=1.0 / math.sqrt(hidden_units))
        self.out = Dense(self.kernel_size + math.prod(self.bias_shape), kernel_initializer=init)

    @classmethod
    def for_layer(cls, layer: TargetLayer, hidden_units: int = 512, batch_norm: bool = False, batch_norm_affine: bool = True) -> "LayerGenerator":
        return cls(layer.kernel_shape, (layer.units,), layer.fan_in, hidden_units, batch_norm, batch_norm_affine, name=f"generator_{layer.name}")

    def call(self, code, training=False, precision="float32"):
        """`precision`: the number format of the output layer's matmul (Dense.in_precision),
        which holds nearly all of a generator's parameters and work; the training steps pass
        their --precision, which the target networks' weights are rounded to anyway."""
        x = code
        for layer in self.blocks:
            x = layer(x, training=training)
        params = self.out.in_precision(x, precision) * self.gain
        # One split, not two slices: a slice's gradient is a zero-filled tensor of the whole output.
        kernel, bias = tf.split(params, [self.kernel_size, math.prod(self.bias_shape)], axis=1)
        return {"kernel": tf.reshape(kernel, (-1,) + self.kernel_shape), "bias": tf.reshape(bias, (-1,) + self.bias_shape)}

    def get_config(self):
        return {
            **super().get_config(),
            "kernel_shape": list(self.kernel_shape),
            "bias_shape": list(self.bias_shape),
            "fan_in": self.fan_in,
            "hidden_units": self.hidden_units,
            "batch_norm": self.batch_norm,
            "batch_norm_affine": self.batch_norm_affine,
        }
