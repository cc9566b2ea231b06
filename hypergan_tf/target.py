"""Target networks: a spec of parameter shapes plus a pure, batched forward function.

The target network owns no variables. Its weights come from the generators as one
dict with a leading network axis K, for example (mnist-small, K networks)::

    {"conv1/kernel": [K, 5, 5, 1, 32],  "conv1/bias": [K, 32],
     "conv2/kernel": [K, 5, 5, 32, 32], "conv2/bias": [K, 32],
     "linear1/kernel": [K, 512, 10],    "linear1/bias": [K, 10]}

`TargetSpec.forward` evaluates all K networks on one image batch at once: the first
conv layer is one ordinary convolution with K*C_out output channels (every network
sees the same images), later conv layers are grouped convolutions with K groups, and
dense layers are a batched einsum. There is no Python loop over networks.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from hypergan_tf.errors import HyperganError

LEAKY_RELU_SLOPE = 0.1


@dataclasses.dataclass(frozen=True)
class LayerSpec:
    """One target layer: a conv (square kernel, then 2x2 max pool) or a dense layer."""

    name: str
    kind: str  # "conv" or "dense"
    in_units: int  # input channels (conv) or input features (dense)
    out_units: int  # output channels (conv) or output features (dense)
    kernel_size: int = 0  # conv only
    activation: bool = True  # leaky ReLU after the layer (False for the logits layer)

    @property
    def kernel_shape(self) -> tuple[int, ...]:
        if self.kind == "conv":
            return (self.kernel_size, self.kernel_size, self.in_units, self.out_units)
        return (self.in_units, self.out_units)

    @property
    def fan_in(self) -> int:
        return self.in_units * (self.kernel_size**2 if self.kind == "conv" else 1)

    @property
    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"kernel": self.kernel_shape, "bias": (self.out_units,)}


@dataclasses.dataclass(frozen=True)
class TargetSpec:
    """A target classifier: input shape, number of classes and its layers in order.

    Conv layers use VALID padding and are followed by 2x2 max pooling and leaky ReLU;
    dense layers follow the convs (the first one flattens); the last layer gives logits.
    """

    name: str
    input_shape: tuple[int, int, int]  # (H, W, C)
    num_classes: int
    layers: tuple[LayerSpec, ...]

    def __post_init__(self):
        self._check()

    @property
    def layer_names(self) -> list[str]:
        return [layer.name for layer in self.layers]

    @property
    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Every parameter, keyed "<layer>/<kernel|bias>", without the network axis."""
        return {
            f"{layer.name}/{param}": shape
            for layer in self.layers
            for param, shape in layer.param_shapes.items()
        }

    @property
    def num_params(self) -> int:
        total = 0
        for shape in self.param_shapes.values():
            size = 1
            for dim in shape:
                size *= dim
            total += size
        return total

    def _check(self) -> None:
        """Fail early, with the layer named, when the shapes do not chain."""
        height, width, channels = self.input_shape
        flat = None
        for i, layer in enumerate(self.layers):
            if layer.kind == "conv":
                if flat is not None:
                    raise HyperganError(f"target {self.name}: conv layer {layer.name} follows a dense layer; convs must come first")
                if layer.in_units != channels:
                    raise HyperganError(f"target {self.name}: layer {layer.name} expects {layer.in_units} input channels but receives {channels}")
                height = (height - layer.kernel_size + 1) // 2
                width = (width - layer.kernel_size + 1) // 2
                channels = layer.out_units
                if height < 1 or width < 1:
                    raise HyperganError(f"target {self.name}: input {self.input_shape} is too small for layer {layer.name}")
            elif layer.kind == "dense":
                features = flat if flat is not None else height * width * channels
                if layer.in_units != features:
                    raise HyperganError(f"target {self.name}: layer {layer.name} expects {layer.in_units} input features but receives {features}")
                flat = layer.out_units
            else:
                raise HyperganError(f"target {self.name}: layer {layer.name} has unknown kind {layer.kind!r} (use 'conv' or 'dense')")
            last = i == len(self.layers) - 1
            if last and (layer.kind != "dense" or layer.out_units != self.num_classes or layer.activation):
                raise HyperganError(f"target {self.name}: the last layer must be dense with {self.num_classes} outputs and no activation")

    def forward(self, images: tf.Tensor, weights: dict[str, tf.Tensor]) -> tf.Tensor:
        """Logits of K networks on one batch: images [B, H, W, C] -> [K, B, classes].

        Max pooling runs before bias and leaky ReLU: the bias is constant per channel
        and leaky ReLU is increasing, so the result equals conv -> bias -> act -> pool
        with a quarter of the element-wise work.
        """
        batch = tf.shape(images)[0]
        x = images
        # "shared": images all networks see; "stacked": [B, h, w, K*C], network-major
        # channels; "per_network": [K, B, features].
        layout = "shared"
        for layer in self.layers:
            kernel = weights[f"{layer.name}/kernel"]
            bias = weights[f"{layer.name}/bias"]
            if layer.kind == "conv":
                k = layer.kernel_size
                # [K, k, k, in, out] -> [k, k, in, K*out]: network-major output channels,
                # which is exactly the filter layout of a grouped convolution (K groups).
                filters = tf.reshape(tf.transpose(kernel, [1, 2, 3, 0, 4]), [k, k, layer.in_units, -1])
                x = tf.nn.conv2d(x, filters, strides=1, padding="VALID")
                x = tf.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID")
                x = x + tf.reshape(bias, [-1])
                layout = "stacked"
            else:
                if layout == "shared":
                    x = tf.einsum("bi,kio->kbo", tf.reshape(x, [batch, layer.in_units]), kernel)
                else:
                    if layout == "stacked":
                        # [B, h, w, K*C] -> [K, B, h*w*C]: each network flattened as Keras' Flatten does.
                        shape = tf.shape(x)
                        x = tf.reshape(x, [batch, shape[1], shape[2], tf.shape(kernel)[0], -1])
                        x = tf.reshape(tf.transpose(x, [3, 0, 1, 2, 4]), [-1, batch, layer.in_units])
                    x = tf.einsum("kbi,kio->kbo", x, kernel)
                x = x + bias[:, None, :]
                layout = "per_network"
            if layer.activation:
                x = tf.nn.leaky_relu(x, alpha=LEAKY_RELU_SLOPE)
        return x

    def forward_loop(self, images: tf.Tensor, weights: dict[str, tf.Tensor]) -> tf.Tensor:
        """Reference: the same logits, one network at a time with plain ops.

        The textbook order conv -> bias -> leaky ReLU -> pool, and a Python loop over
        the K networks, as the authors' PyTorch code does. Used by tests and benchmarks
        to check and to time `forward`; far slower.
        """
        num_networks = int(next(iter(weights.values())).shape[0])
        outputs = []
        for n in range(num_networks):
            x = images
            for layer in self.layers:
                kernel = weights[f"{layer.name}/kernel"][n]
                bias = weights[f"{layer.name}/bias"][n]
                if layer.kind == "conv":
                    x = tf.nn.conv2d(x, kernel, strides=1, padding="VALID") + bias
                else:
                    x = tf.matmul(tf.reshape(x, [tf.shape(x)[0], -1]), kernel) + bias
                if layer.activation:
                    x = tf.nn.leaky_relu(x, alpha=LEAKY_RELU_SLOPE)
                if layer.kind == "conv":
                    x = tf.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID")
            outputs.append(x)
        return tf.stack(outputs)


def standardise(images, mean: float, std: float) -> tf.Tensor:
    """Pixels in [0, 1] -> the standardised inputs the target networks are trained on."""
    return (tf.cast(images, tf.float32) - mean) / std


def _conv(name, in_units, out_units, kernel_size):
    return LayerSpec(name, "conv", in_units, out_units, kernel_size)


PRESETS: dict[str, TargetSpec] = {
    # The authors' MNIST network: 28 -> conv5 24 -> pool 12 -> conv5 8 -> pool 4; 4*4*32 = 512.
    "mnist-small": TargetSpec(
        name="mnist-small",
        input_shape=(28, 28, 1),
        num_classes=10,
        layers=(
            _conv("conv1", 1, 32, 5),
            _conv("conv2", 32, 32, 5),
            LayerSpec("linear1", "dense", 512, 10, activation=False),
        ),
    ),
    # Three convs and two dense layers: 32 -> 30 -> 15 -> 13 -> 6 -> 4 -> 2; 2*2*64 = 256.
    "cifar-small": TargetSpec(
        name="cifar-small",
        input_shape=(32, 32, 3),
        num_classes=10,
        layers=(
            _conv("conv1", 3, 16, 3),
            _conv("conv2", 16, 32, 3),
            _conv("conv3", 32, 64, 3),
            LayerSpec("linear1", "dense", 256, 128),
            LayerSpec("linear2", "dense", 128, 10, activation=False),
        ),
    ),
}


def get_target(name: str, num_classes: int | None = None) -> TargetSpec:
    """A preset by name, with its logits layer resized to `num_classes` if given."""
    if name not in PRESETS:
        raise HyperganError(f"unknown target {name!r}; choose one of: {', '.join(sorted(PRESETS))}")
    spec = PRESETS[name]
    if num_classes is None or num_classes == spec.num_classes:
        return spec
    last = dataclasses.replace(spec.layers[-1], out_units=num_classes)
    return dataclasses.replace(spec, num_classes=num_classes, layers=spec.layers[:-1] + (last,))
