"""Export a trained HyperGAN: a SavedModel for TF Serving, LiteRT files, plain Keras networks.

SavedModel (TF Serving layout `OUT/<version>/saved_model.pb + variables/`), signatures:

- `serving_default`: `images` float32 [batch, H, W, C], pixels in [0, 1] ->
  `probabilities` [batch, classes] (mean of the fixed ensemble), `predicted_class`
  [batch] int64, `entropy` [batch] (of the mean prediction, nats), `mutual_information`
  [batch] (entropy of the mean minus mean entropy of the members: the epistemic part).
  The ensemble is drawn once, at export time, from `seed`: same input, same answer.
- `sample_weights`: `noise` float32 [n, noise_dim] -> one tensor per target parameter,
  named `<layer>_<kernel|bias>` (e.g. `conv1_kernel` [n, 5, 5, 1, 32]).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from hypergan_tf.atomic import atomic_path
from hypergan_tf.errors import HyperganError
from hypergan_tf.hypergan import NETWORK_SEED, HyperGAN
from hypergan_tf.target import LEAKY_RELU_SLOPE, TargetSpec, standardise


def output_name(param: str) -> str:
    """"conv1/kernel" -> "conv1_kernel": signature keys cannot hold a slash."""
    return param.replace("/", "_")


def ensemble_outputs(member_probabilities: tf.Tensor) -> dict[str, tf.Tensor]:
    """[K, B, C] member probabilities -> the serving outputs for the batch."""
    probabilities = tf.reduce_mean(member_probabilities, axis=0)
    entropy = -tf.reduce_sum(probabilities * tf.math.log(probabilities + 1e-12), axis=-1)
    member_entropy = -tf.reduce_sum(member_probabilities * tf.math.log(member_probabilities + 1e-12), axis=-1)
    return {
        "probabilities": probabilities,
        "predicted_class": tf.argmax(probabilities, axis=-1, output_type=tf.int64),
        "entropy": entropy,
        "mutual_information": entropy - tf.reduce_mean(member_entropy, axis=0),
    }


class ExportedSampler(tf.Module):
    """What the SavedModel holds: the sampler (mixer + generators) and a fixed ensemble."""

    def __init__(self, model: HyperGAN, ensemble_size: int, seed: int):
        super().__init__(name="hypergan_sampler")
        self.model = model
        self.ensemble = {
            name: tf.Variable(value, trainable=False, name=output_name(name))
            for name, value in model.sample_networks(ensemble_size, seed).items()
        }
        h, w, c = model.target.input_shape
        self.serving_default = tf.function(
            self._classify, input_signature=[tf.TensorSpec([None, h, w, c], tf.float32, name="images")]
        )
        self.sample_weights = tf.function(
            self._sample, input_signature=[tf.TensorSpec([None, model.noise_dim], tf.float32, name="noise")]
        )

    def _classify(self, images):
        # Loaded signatures do not enforce the spec's shape: check it here, before the
        # first convolution would fail with an error about channel groups.
        h, w, c = self.model.target.input_shape
        check = tf.debugging.assert_equal(
            tf.shape(images)[1:], tf.constant([h, w, c]),
            message=f"images must be float32 [batch, {h}, {w}, {c}] with pixels in [0, 1]; got another image shape",
        )
        with tf.control_dependencies([check]):
            images = tf.identity(images)
        logits = self.model.classify(images, dict(self.ensemble))
        return ensemble_outputs(tf.nn.softmax(logits))

    def _sample(self, noise):
        _, weights = self.model.generate(noise, training=False)
        return {output_name(name): value for name, value in weights.items()}


def next_version(out: Path) -> int:
    """TF Serving versions are integer folder names; the next free one."""
    versions = [int(p.name) for p in out.iterdir() if p.is_dir() and p.name.isdigit()] if out.is_dir() else []
    return max(versions, default=0) + 1


def export_saved_model(model: HyperGAN, out: str | Path, version: int | None = None, ensemble_size: int = 100, seed: int = NETWORK_SEED) -> Path:
    """Write OUT/<version>/ atomically (built in a temporary folder, then renamed)."""
    out = Path(out)
    if not isinstance(model, HyperGAN):
        raise HyperganError("export writes HyperGAN samplers; for a baseline, use 'hypergan-tf sample' to save its networks")
    if ensemble_size < 1:
        raise HyperganError("--ensemble-size must be at least 1")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise HyperganError(f"cannot create {out} ({err.strerror}); choose a writable --out") from None
    version = next_version(out) if version is None else version
    if version < 0:
        raise HyperganError("--version must be a non-negative integer")
    final = out / str(version)
    if final.exists():
        raise HyperganError(f"{final} already exists; TF Serving versions are immutable: pick another --version or leave it out")
    module = ExportedSampler(model, ensemble_size, seed)
    staging = Path(tempfile.mkdtemp(prefix=f".{version}.partial-", dir=out))
    try:
        tf.saved_model.save(
            module,
            str(staging),
            signatures={"serving_default": module.serving_default, "sample_weights": module.sample_weights},
        )
        staging.replace(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


# ---- LiteRT ----------------------------------------------------------------------
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


def export_litert(model: HyperGAN, out: str | Path, ensemble_size: int = 100, seed: int = NETWORK_SEED) -> dict[str, Path]:
    """OUT/litert/classifier.tflite (images -> probabilities of the fixed ensemble) and
    OUT/litert/sampler.tflite (noise -> weights, outputs in `TargetSpec.param_shapes` order).

    The classifier runs the networks one after another with ordinary convolutions
    (`TargetSpec.forward_loop`): LiteRT kernels do not take grouped convolutions.
    """
    folder = Path(out) / "litert"
    folder.mkdir(parents=True, exist_ok=True)
    weights = {name: tf.constant(value) for name, value in model.sample_networks(ensemble_size, seed).items()}
    h, w, c = model.target.input_shape

    @tf.function(input_signature=[tf.TensorSpec([1, h, w, c], tf.float32, name="images")])
    def classifier(images):
        normalised = standardise(images, model.input_mean, model.input_std)
        return {"probabilities": tf.reduce_mean(tf.nn.softmax(model.target.forward_loop(normalised, weights)), axis=0)}

    @tf.function(input_signature=[tf.TensorSpec([1, model.noise_dim], tf.float32, name="noise")])
    def sampler(noise):
        _, generated = model.generate(noise, training=False)
        return {output_name(name): generated[name] for name in model.target.param_shapes}

    written = {}
    for name, function in (("classifier", classifier), ("sampler", sampler)):
        path = folder / f"{name}.tflite"
        with atomic_path(path) as tmp:
            tmp.write_bytes(_convert(function))
        written[name] = path
    return written


# ---- standalone Keras networks ---------------------------------------------------------
def standalone_network(target: TargetSpec, weights: dict[str, np.ndarray], index: int, input_mean: float, input_std: float) -> keras.Sequential:
    """Network `index` of `weights` as ordinary Keras layers, pixels in [0, 1] -> probabilities."""
    layers: list = [
        keras.Input(target.input_shape, name="images"),
        keras.layers.Rescaling(1.0 / input_std, offset=-input_mean / input_std, name="normalise"),
    ]
    flattened = False
    for layer in target.layers:
        if layer.kind == "conv":
            layers.append(keras.layers.Conv2D(layer.out_units, layer.kernel_size, padding="valid", name=layer.name))
            layers.append(keras.layers.LeakyReLU(LEAKY_RELU_SLOPE, name=f"{layer.name}_act"))
            layers.append(keras.layers.MaxPooling2D(2, name=f"{layer.name}_pool"))
        else:
            if not flattened:
                layers.append(keras.layers.Flatten(name="flatten"))
                flattened = True
            if layer.activation:
                layers += [keras.layers.Dense(layer.out_units, name=layer.name), keras.layers.LeakyReLU(LEAKY_RELU_SLOPE, name=f"{layer.name}_act")]
            else:
                layers.append(keras.layers.Dense(layer.out_units, activation="softmax", name=layer.name))
    network = keras.Sequential(layers, name=f"hypergan_network_{index}")
    for layer in target.layers:
        network.get_layer(layer.name).set_weights([weights[f"{layer.name}/kernel"][index], weights[f"{layer.name}/bias"][index]])
    return network


def save_networks(model: HyperGAN, out: str | Path, num_networks: int, seed: int = NETWORK_SEED) -> list[Path]:
    """Sample `num_networks` networks and save each as OUT/network_<i>.keras."""
    if num_networks < 1:
        raise HyperganError("-n must be at least 1")
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise HyperganError(f"cannot create {out} ({err.strerror}); choose a writable --out") from None
    weights = model.sample_networks(num_networks, seed)
    paths = []
    for i in range(num_networks):
        path = out / f"network_{i:03d}.keras"
        with atomic_path(path) as tmp:
            standalone_network(model.target, weights, i, model.input_mean, model.input_std).save(tmp)
        paths.append(path)
    return paths
