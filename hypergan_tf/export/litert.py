"""LiteRT (TensorFlow Lite) files of a weight sampler, for phones and small devices."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import tensorflow as tf

from hypergan_tf.atomic import atomic_path
from hypergan_tf.export.saved_model import output_name
from hypergan_tf.resources import available_memory, size
from hypergan_tf.samplers import NETWORK_SEED, WeightSampler
from hypergan_tf.targets import standardise


# The LiteRT converter holds many copies of the constants it freezes: converting the default
# MNIST sampler (71 MB of weights) raised the peak memory from 0.93 GB to about 3.0 GB, the
# 100-network classifier (13 MB) by 0.55 GB. A 624 MB sampler was killed for memory on this
# 24 GB machine. So sampler.tflite is written only when 30x its weights fit in the memory
# available, else skipped with a message (the SavedModel's sample_weights does the same).
CONVERTER_BYTES_PER_WEIGHT_BYTE = 30


def _convert(function: tf.types.experimental.PolymorphicFunction) -> bytes:
    """A tf.function with a dict output -> LiteRT flatbuffer, with the Keras variables
    frozen into constants (left as variables, LiteRT reads them uninitialised: NaN) and
    the signature's input and output names kept."""
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    concrete = function.get_concrete_function()
    frozen = convert_variables_to_constants_v2(concrete)
    keys = sorted(concrete.structured_outputs)  # the order tf.nest flattens a dict in

    @tf.function(input_signature=concrete.structured_input_signature[0])
    def named(*inputs):
        return dict(zip(keys, tf.nest.flatten(frozen(*inputs))))

    holder = tf.Module()  # no variables left to track; the converter wants an owner
    return tf.lite.TFLiteConverter.from_concrete_functions([named.get_concrete_function()], holder).convert()


def export_litert(model: WeightSampler, out: str | Path, ensemble_size: int = 100, seed: int = NETWORK_SEED) -> dict[str, Path]:
    """OUT/litert/classifier.tflite (images -> probabilities of the fixed ensemble) and, for
    a sampler with a latent space, OUT/litert/sampler.tflite (noise -> weights, outputs in
    `TargetSpec.param_shapes` order).

    The classifier runs the networks one after another with ordinary convolutions
    (`TargetSpec.forward_loop`): LiteRT kernels do not take grouped convolutions.
    """
    folder = Path(out) / "litert"
    folder.mkdir(parents=True, exist_ok=True)
    weights = {name: tf.constant(value) for name, value in model.sample_networks(model.networks_available(ensemble_size), seed).items()}

    @tf.function(input_signature=[tf.TensorSpec([1, *model.target.input_shape], tf.float32, name="images")])
    def classifier(images):
        normalised = standardise(images, model.input_mean, model.input_std)
        return {"probabilities": tf.reduce_mean(tf.nn.softmax(model.target.forward_loop(normalised, weights)), axis=0)}

    functions = {"classifier": classifier}
    sampler_bytes = 4 * sum(int(np.prod(v.shape)) for v in model.trainable_variables)
    available = available_memory()
    if model.noise_dim is not None and available is not None and CONVERTER_BYTES_PER_WEIGHT_BYTE * sampler_bytes > available:
        print(f"LiteRT sampler.tflite skipped: the model has {sampler_bytes / 1e6:.0f} MB of weights; converting them needs "
              f"about {size(CONVERTER_BYTES_PER_WEIGHT_BYTE * sampler_bytes)} of memory, {size(available)} are available "
              "(use the SavedModel's sample_weights instead)", file=sys.stderr)
    elif model.noise_dim is not None:
        @tf.function(input_signature=[tf.TensorSpec([1, model.noise_dim], tf.float32, name="noise")])
        def sampler(noise):
            generated = model.weights_from_noise(noise)
            return {output_name(name): generated[name] for name in model.target.param_shapes}

        functions["sampler"] = sampler

    written = {}
    for name, function in functions.items():
        path = folder / f"{name}.tflite"
        with atomic_path(path) as tmp:
            tmp.write_bytes(_convert(function))
        written[name] = path
    return written


