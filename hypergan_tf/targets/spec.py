"""The target-network interface: a spec of parameter shapes plus pure, batched forward functions.

A target network owns no variables. Its weights come from a weight sampler as one dict
with a leading network axis K, for example (mnist-small, K networks)::

    {"conv1/kernel": [K, 5, 5, 1, 32],  "conv1/bias": [K, 32],
     "conv2/kernel": [K, 5, 5, 32, 32], "conv2/bias": [K, 32],
     "linear1/kernel": [K, 512, 10],    "linear1/bias": [K, 10]}

`TargetSpec.forward` evaluates all K networks on one image batch at once: the first
conv layer is one ordinary convolution with K*C_out output channels (every network
sees the same images), later conv layers are grouped convolutions with K groups, and
dense layers are a batched einsum. There is no Python loop over networks.
`forward_loop` is the per-network reference, `to_keras` one network as ordinary Keras
layers, `to_config`/`from_config` the JSON form (`--target path.json`).
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np
import tensorflow as tf

from hypergan_tf.errors import HyperganError
from hypergan_tf.targets.layers import TargetLayer, first_examples, layer_from_config, per_network


@dataclasses.dataclass(frozen=True)
class TargetSpec:
    """A target network: input shape, number of classes (of outputs: 1 for a regression
    network) and its layers in order.

    The layers' `in_units` are filled in here from the input shape, so a spec names
    only what each layer outputs; the last layer must produce `num_classes` logits.
    """

    name: str
    input_shape: tuple[int, ...]
    num_classes: int
    layers: tuple[TargetLayer, ...]

    def __post_init__(self):
        object.__setattr__(self, "input_shape", tuple(self.input_shape))
        object.__setattr__(self, "layers", tuple(self.layers))
        where = f"target {self.name}"
        if not self.layers:
            raise HyperganError(f"{where}: it has no layers")
        if not self.input_shape or any(not isinstance(d, int) or d < 1 for d in self.input_shape):
            raise HyperganError(f"{where}: input_shape must be positive integers, e.g. [28, 28, 1] (got {list(self.input_shape)})")
        names = [layer.name for layer in self.layers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise HyperganError(f"{where}: layer names must be unique; repeated: {duplicates}")
        shape = self.input_shape
        resolved = []
        for layer in self.layers:
            at = f"{where}, layer {layer.name!r}"
            layer.check(at)
            layer, shape = layer.resolve(shape, at)
            resolved.append(layer)
        object.__setattr__(self, "layers", tuple(resolved))
        last = self.layers[-1]
        if shape != (self.num_classes,) or last.activation is not None:
            raise HyperganError(f"{where}: the last layer must output {self.num_classes} logits (a dense layer with "
                                f"units {self.num_classes} and activation null); {last.name!r} outputs {list(shape)}"
                                + (f" with activation {last.activation!r}" if last.activation else ""))

    @property
    def layer_names(self) -> list[str]:
        return [layer.name for layer in self.layers]

    @property
    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every parameter, keyed "<layer>/<kernel|bias>", without the network axis."""
        return {f"{layer.name}/{param}": shape for layer in self.layers for param, shape in layer.param_shapes.items()}

    @property
    def num_params(self) -> int:
        return sum(math.prod(shape) for shape in self.param_shapes.values())

    @property
    def activation_units(self) -> int:
        """Outputs of all layers for one example (what one network keeps per example for
        its backward pass, before pooling's larger inputs): the memory estimates' unit."""
        shape, total = self.input_shape, 0
        for layer in self.layers:
            shape = layer.resolve(shape, layer.name)[1]
            total += math.prod(shape)
        return total

    def substrates(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Every layer's HyperNEAT geometry (`TargetLayer.substrate`): source and destination
        positions [*kernel_shape, 3] of each kernel entry, in layer order."""
        shape, found = self.input_shape, []
        for layer in self.layers:
            found.append(layer.substrate(shape))
            shape = layer.resolve(shape, layer.name)[1]
        return found

    def forward(self, images: tf.Tensor, weights: dict[str, tf.Tensor], precision: str = "float32", recompute: int = 0,
                inference: bool = False) -> tf.Tensor:
        """Logits of K networks on one batch: images [B, *input_shape] -> [K, B, classes]
        (a regression network's outputs: [K, B, 1]), float32.

        `precision` "bfloat16" runs the layers on bfloat16 copies of the images and weights
        (mixed precision: the weights stay float32, gradients flow back through the casts):
        about 1.7x faster convolutions on a CPU with AVX512_BF16 (benchmarks/profile_step.py),
        slower where bfloat16 is emulated.

        `recompute` N > 0: the networks run in groups of N, and a backward pass keeps only
        each group's inputs and computes the group's forward pass again
        (tf.recompute_grad), one group at a time: the activations held at once are those
        of N networks, not K, for one more forward pass.

        `inference` True: the same outputs computed as fastest when no backward pass follows
        (`TargetLayer.infer`; evaluation and export), `recompute` ignored. Equal in float32;
        bfloat16 rounds in other places (within its precision)."""
        if inference:
            return self.forward_and_features(images, weights, precision, inference=True)[0]
        if recompute:
            count = int(next(iter(weights.values())).shape[0])
            group = tf.recompute_grad(lambda images, *values: self.forward(images, dict(zip(weights, values)), precision))
            return tf.concat([group(images, *(value[start:start + recompute] for value in weights.values()))
                              for start in range(0, count, recompute)], axis=0)
        return self.forward_and_features(images, weights, precision)[0]

    def forward_and_features(self, images: tf.Tensor, weights: dict[str, tf.Tensor], precision: str = "float32",
                             layers: tuple[str, ...] = (), examples: int = 0, inference: bool = False) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
        """`forward`'s logits [K, B, classes] and, from the same pass, the outputs of `layers`
        on the first `examples` images as {layer: [K, examples, F]} (float32, flattened as
        `features` does): what a training term on the networks' features reads without a
        second forward pass (objectives/feature_diversity.py)."""
        dtype = tf.as_dtype(precision)
        x, layout, kept = tf.cast(images, dtype), "shared", {}
        for layer in self.layers:
            run = layer.infer if inference else layer.forward
            x, layout = run(x, layout, tf.cast(weights[f"{layer.name}/kernel"], dtype), tf.cast(weights[f"{layer.name}/bias"], dtype))
            if layer.name in layers:
                num_networks = int(weights[f"{layer.name}/kernel"].shape[0])
                kept[layer.name] = tf.cast(per_network(first_examples(x, layout, examples), layout, num_networks), tf.float32)
        return tf.cast(x, tf.float32), kept

    def features(self, images: tf.Tensor, weights: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        """Every layer's output (after activation and pooling) for K networks, as
        {layer name: [K, B, F]} (the last is the logits)."""
        return self.forward_and_features(images, weights, layers=tuple(self.layer_names), examples=tf.shape(images)[0], inference=True)[1]

    def forward_loop(self, images: tf.Tensor, weights: dict[str, tf.Tensor]) -> tf.Tensor:
        """Reference: the same logits, one network at a time with plain ops in textbook
        order, as the authors' PyTorch code does. Used by tests and benchmarks to check
        and to time `forward`, and by the LiteRT export (no grouped convolutions there)."""
        num_networks = int(next(iter(weights.values())).shape[0])
        outputs = []
        for n in range(num_networks):
            x = images
            for layer in self.layers:
                x = layer.forward_one(x, weights[f"{layer.name}/kernel"][n], weights[f"{layer.name}/bias"][n])
            outputs.append(x)
        return tf.stack(outputs)

    def to_keras(self, weights: dict, index: int, input_mean: float, input_std: float, name: str | None = None) -> keras.Sequential:
        """Network `index` of `weights` as ordinary Keras layers: pixels in [0, 1] -> probabilities."""
        layers: list = [
            keras.Input(self.input_shape, name="images"),
            keras.layers.Rescaling(1.0 / input_std, offset=-input_mean / input_std, name="normalise"),
        ]
        shape = self.input_shape
        for layer in self.layers:
            layers += layer.keras_layers(input_is_flat=len(shape) == 1)
            shape = layer.resolve(shape, layer.name)[1]
        layers.append(keras.layers.Softmax(name="probabilities"))
        network = keras.Sequential(layers, name=name or f"{self.name}_network_{index}")
        for layer in self.layers:
            network.get_layer(layer.name).set_weights([weights[f"{layer.name}/kernel"][index], weights[f"{layer.name}/bias"][index]])
        return network

    def with_num_classes(self, num_classes: int) -> "TargetSpec":
        """The same network with its logits layer resized to `num_classes`."""
        if num_classes == self.num_classes:
            return self
        last = dataclasses.replace(self.layers[-1], units=num_classes)
        return dataclasses.replace(self, num_classes=num_classes, layers=self.layers[:-1] + (last,))

    # ---- configuration ----------------------------------------------------------
    def to_config(self) -> dict:
        return {"name": self.name, "input_shape": list(self.input_shape), "num_classes": self.num_classes,
                "layers": [layer.to_config() for layer in self.layers]}

    @classmethod
    def from_config(cls, values: dict, where: str = "target") -> "TargetSpec":
        if not isinstance(values, dict):
            raise HyperganError(f"{where}: a target spec is a JSON object with name, input_shape, num_classes and layers")
        unknown = sorted(set(values) - {"name", "input_shape", "num_classes", "layers"})
        missing = sorted({"input_shape", "num_classes", "layers"} - set(values))
        if unknown or missing:
            raise HyperganError(f"{where}: " + "; ".join(
                ([f"unknown key(s) {unknown}"] if unknown else []) + ([f"missing key(s) {missing}"] if missing else []))
                + " (a target has name, input_shape, num_classes and layers)")
        layers = values["layers"]
        if not isinstance(layers, list) or not layers:
            raise HyperganError(f"{where}: 'layers' must be a non-empty list")
        num_classes = values["num_classes"]
        if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
            raise HyperganError(f"{where}: 'num_classes' must be a positive integer: the classes, or 1 for a regression network (got {num_classes!r})")
        input_shape = values["input_shape"]
        if not isinstance(input_shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) for d in input_shape):
            raise HyperganError(f"{where}: 'input_shape' must be a list of integers, e.g. [28, 28, 1] (got {input_shape!r})")
        name = str(values.get("name", "custom"))
        parsed = [layer_from_config(layer, f"{where}, layer {i + 1}" + (f" ({layer.get('name')!r})" if isinstance(layer, dict) and layer.get("name") else ""))
                  for i, layer in enumerate(layers)]
        return cls(name, tuple(input_shape), num_classes, tuple(parsed))


def standardise(images, mean: float, std: float) -> tf.Tensor:
    """Pixels in [0, 1] -> the standardised inputs the target networks are trained on."""
    return (tf.cast(images, tf.float32) - mean) / std
