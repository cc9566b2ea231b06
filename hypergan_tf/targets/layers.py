"""Layer kinds of a target network: the only place that knows what a conv or a dense layer is.

Every kind says, for one layer:
- its parameter shapes (`kernel_shape`, `(units,)` for the bias), with the hidden unit
  on the kernel's last axis and its inputs on `kernel_input_axis`;
- how K networks' layers run at once on a batch (`forward`, no Python loop over
  networks) and how one network's layer runs alone (`forward_one`, the reference);
- the ordinary Keras layers that compute the same (`keras_layers`);
- how its input shape maps to its output shape (`resolve`, with errors naming the layer).

A new kind is a subclass registered in `LAYER_KINDS`; nothing outside this package
branches on the kind.

Batched activations travel with a layout tag:
  "shared"       [B, ...]            the input images, seen by every network;
  "stacked"      [B, h, w, K*C]      conv outputs, network-major channels;
  "per_network"  [K, B, F]           dense outputs.
"""

from __future__ import annotations

import abc
import dataclasses
import math
from typing import ClassVar

import keras
import numpy as np
import tensorflow as tf

from hypergan_tf.errors import HyperganError

LEAKY_RELU_SLOPE = 0.1
# Above this many bytes of pre-pool output for its batch, a first conv layer evaluates image by
# image (Conv.infer): about the last-level cache of the CPU the project was measured on (32 MB).
CACHE_BYTES = 24 * 2**20

# name -> (TensorFlow function, Keras layer factory); None is the identity (logits).
ACTIVATIONS = {
    "leaky_relu": (lambda x: tf.nn.leaky_relu(x, alpha=LEAKY_RELU_SLOPE), lambda name: keras.layers.LeakyReLU(LEAKY_RELU_SLOPE, name=name)),
    "relu": (tf.nn.relu, lambda name: keras.layers.ReLU(name=name)),
    None: (tf.identity, None),
}
# f(c x) = c f(x) for c > 0: scaling a unit's incoming weights by c and its outgoing ones
# by 1/c leaves the network's function unchanged (targets/symmetry.py). Max pooling keeps it.
POSITIVELY_HOMOGENEOUS = ("leaky_relu", "relu")


def per_network(x, layout: str, num_networks, features: int = -1) -> tf.Tensor:
    """Batched activations of any layout -> [K, B, F], each network's flattened as Keras'
    Flatten does (`features`: F when known, which keeps it in the static shape)."""
    if layout == "shared":
        return tf.tile(tf.reshape(x, [1, tf.shape(x)[0], features]), [num_networks, 1, 1])
    if layout == "stacked":
        shape = tf.shape(x)
        x = tf.reshape(x, [shape[0], shape[1], shape[2], num_networks, -1])
        return tf.reshape(tf.transpose(x, [3, 0, 1, 2, 4]), [num_networks, shape[0], features])
    return tf.reshape(x, [num_networks, tf.shape(x)[1], features])


def first_examples(x, layout: str, count: int) -> tf.Tensor:
    """Batched activations of any layout, cut to their first `count` examples."""
    return x[:, :count] if layout == "per_network" else x[:count]


@dataclasses.dataclass(frozen=True)
class TargetLayer(abc.ABC):
    """One layer of a target network; `in_units` is filled in by `TargetSpec` from the
    layer before it (input channels of a conv, input features of a dense layer)."""

    name: str
    units: int  # output channels (conv) or output features (dense)
    activation: str | None = "leaky_relu"
    in_units: int = 0

    kind: ClassVar[str] = ""
    kernel_input_axis: ClassVar[int] = 0  # the kernel axis that indexes the layer's inputs

    # ---- shapes ---------------------------------------------------------------
    @property
    @abc.abstractmethod
    def kernel_shape(self) -> tuple[int, ...]:
        """The kernel of one network: units on the last axis, inputs on `kernel_input_axis`."""

    @property
    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"kernel": self.kernel_shape, "bias": (self.units,)}

    @property
    def fan_in(self) -> int:
        return math.prod(self.kernel_shape) // self.units

    @property
    def homogeneous(self) -> bool:
        """True when its units carry the scaling symmetry (see POSITIVELY_HOMOGENEOUS)."""
        return self.activation in POSITIVELY_HOMOGENEOUS

    @abc.abstractmethod
    def resolve(self, input_shape: tuple[int, ...], where: str) -> tuple["TargetLayer", tuple[int, ...]]:
        """(this layer with `in_units` set, its output shape) for an input of `input_shape`."""

    # ---- computation ----------------------------------------------------------
    @abc.abstractmethod
    def forward(self, x, layout: str, kernel, bias):
        """K networks at once: (x, layout) -> (y, layout); kernel [K, *kernel_shape], bias [K, units]."""

    def infer(self, x, layout: str, kernel, bias):
        """`forward`'s outputs, computed in the way fastest when no backward pass follows
        (evaluation, export). Gradients through it are right but may cost more. Default: `forward`."""
        return self.forward(x, layout, kernel, bias)

    @abc.abstractmethod
    def forward_one(self, x, kernel, bias):
        """One network, textbook order (layer -> bias -> activation -> pooling): the reference."""

    def activate(self, x):
        return ACTIVATIONS[self.activation][0](x)

    @abc.abstractmethod
    def keras_layers(self, input_is_flat: bool) -> list[keras.layers.Layer]:
        """Ordinary Keras layers computing this layer; the one holding [kernel, bias] is named `name`."""

    def _keras_activation(self) -> list[keras.layers.Layer]:
        factory = ACTIVATIONS[self.activation][1]
        return [] if factory is None else [factory(f"{self.name}_act")]

    def scale_inputs(self, kernel, scale):
        """kernel [K, *kernel_shape] times a per-input factor `scale` [K, n] where n divides
        in_units: a layer after a conv reads its channels once per spatial position,
        channel-last, so the factors repeat in that order."""
        repeated = tf.tile(scale, [1, self.in_units // scale.shape[-1]])
        shape = [-1] + [1] * len(self.kernel_shape)
        shape[1 + self.kernel_input_axis] = self.in_units
        return kernel * tf.reshape(repeated, shape)

    def kernel_image(self, kernel: np.ndarray) -> np.ndarray | None:
        """One network's kernel as an image for TensorBoard, or None when it is not an image."""
        return None

    @abc.abstractmethod
    def substrate(self, input_shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """HyperNEAT's geometry of this layer (samplers/hyperneat.py): for every kernel entry,
        the position (y, x, channel) in [-1, 1] of the neuron it reads and of the unit it
        feeds, as two float32 arrays [*kernel_shape, 3]."""

    # ---- configuration ----------------------------------------------------------
    def to_config(self) -> dict:
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "in_units"}
        return {"kind": self.kind, **values}

    def check(self, where: str) -> None:
        if not isinstance(self.name, str) or not self.name or "/" in self.name:
            raise HyperganError(f"{where}: every layer needs a 'name' without '/' (got {self.name!r})")
        if not isinstance(self.units, int) or isinstance(self.units, bool) or self.units < 1:
            raise HyperganError(f"{where}: 'units' must be a positive integer (got {self.units!r})")
        if self.activation not in ACTIVATIONS:
            raise HyperganError(f"{where}: unknown activation {self.activation!r}; choose one of: leaky_relu, relu, null")


@dataclasses.dataclass(frozen=True)
class Conv(TargetLayer):
    """Square convolution (stride 1, `same` or `valid` padding), optionally then 2x2 max pooling."""

    kernel_size: int = 3
    padding: str = "valid"
    pool: bool = True

    kind: ClassVar[str] = "conv"
    kernel_input_axis: ClassVar[int] = 2

    @property
    def kernel_shape(self) -> tuple[int, ...]:
        return (self.kernel_size, self.kernel_size, self.in_units, self.units)

    def check(self, where: str) -> None:
        super().check(where)
        if not isinstance(self.kernel_size, int) or isinstance(self.kernel_size, bool) or self.kernel_size < 1:
            raise HyperganError(f"{where}: 'kernel_size' must be a positive integer (got {self.kernel_size!r})")
        if self.padding not in ("same", "valid"):
            raise HyperganError(f"{where}: 'padding' must be 'same' or 'valid' (got {self.padding!r})")
        if not isinstance(self.pool, bool):
            raise HyperganError(f"{where}: 'pool' must be true or false (got {self.pool!r})")

    def resolve(self, input_shape, where):
        if len(input_shape) != 3:
            raise HyperganError(f"{where}: a conv layer needs images [H, W, C] as input, but receives features of shape {list(input_shape)}; put convs before dense layers")
        height, width, channels = input_shape
        if self.padding == "valid":
            height, width = height - self.kernel_size + 1, width - self.kernel_size + 1
        if self.pool:
            height, width = height // 2, width // 2
        if height < 1 or width < 1:
            raise HyperganError(f"{where}: its input {list(input_shape)} is too small for a {self.kernel_size}x{self.kernel_size} {self.padding} convolution"
                                + (" and 2x2 pooling" if self.pool else ""))
        return dataclasses.replace(self, in_units=channels), (height, width, self.units)

    def filters(self, kernel):
        """[K, k, k, in, out] -> [k, k, in, K*out]: network-major output channels, which is the
        filter layout of a grouped convolution with K groups when the input is "stacked", and of
        one ordinary convolution when it is "shared"."""
        k = self.kernel_size
        return tf.reshape(tf.transpose(kernel, [1, 2, 3, 0, 4]), [k, k, self.in_units, -1])

    def forward(self, x, layout, kernel, bias):
        # Pooling before the activation gives the same result (the activations are
        # non-decreasing, and max pooling commutes with adding a per-channel bias) with a
        # quarter of the element-wise work, here and backward. In bfloat16 the bias is a BiasAdd
        # on the convolution, which TensorFlow's oneDNN kernels fuse into the convolution and
        # its gradient into the kernel gradient's pass (_MklNativeFusedConv2D,
        # _MklNativeConv2DBackpropFilterWithBias): MNIST conv1 at K = 32, forward and backward,
        # 56 against 63 ms with the add after the pooling. In float32 that fused kernel gradient
        # is 3x slower than the plain one (83 against 28 ms), so the bias is added after the pooling.
        bias = tf.reshape(bias, [-1])
        fuse_bias = x.dtype == tf.bfloat16
        x = tf.nn.conv2d(x, self.filters(kernel), strides=1, padding=self.padding.upper())
        if fuse_bias:
            x = tf.nn.bias_add(x, bias)
        if self.pool:
            x = tf.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID")
        return self.activate(x if fuse_bias else x + bias), "stacked"

    def infer(self, x, layout, kernel, bias):
        # Textbook order: TensorFlow's oneDNN kernels fuse the bias and the activation into the
        # convolution (Grappler's remapper), so they cost no pass over memory of their own.
        filters, bias = self.filters(kernel), tf.reshape(bias, [-1])

        def conv(x):
            x = self.activate(tf.nn.bias_add(tf.nn.conv2d(x, filters, strides=1, padding=self.padding.upper()), bias))
            return tf.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID") if self.pool else x

        if layout == "shared" and self.pool:
            # A first layer writes K*C channels per pixel before its pooling (369 MB for 100
            # MNIST images and 100 networks in bfloat16): image by image, that output stays in
            # the CPU's cache for the pooling instead of going through memory. Batches whose
            # output fits in the cache run whole (the loop costs about 0.4 ms).
            height, width = x.shape[1], x.shape[2]
            if self.padding == "valid":
                height, width = height - self.kernel_size + 1, width - self.kernel_size + 1
            image_bytes = height * width * tf.cast(tf.shape(filters)[-1], tf.int64) * x.dtype.size
            return tf.cond(tf.cast(tf.shape(x)[0], tf.int64) * image_bytes > CACHE_BYTES,
                           lambda: tf.map_fn(lambda image: conv(image[None])[0], x), lambda: conv(x)), "stacked"
        return conv(x), "stacked"

    def forward_one(self, x, kernel, bias):
        x = self.activate(tf.nn.conv2d(x, kernel, strides=1, padding=self.padding.upper()) + bias)
        return tf.nn.max_pool2d(x, ksize=2, strides=2, padding="VALID") if self.pool else x

    def keras_layers(self, input_is_flat):
        layers = [keras.layers.Conv2D(self.units, self.kernel_size, padding=self.padding, name=self.name), *self._keras_activation()]
        return layers + ([keras.layers.MaxPooling2D(2, name=f"{self.name}_pool")] if self.pool else [])

    def kernel_image(self, kernel):
        """A first-layer kernel [k, k, C_in, C_out] (C_in 1 or 3) -> a grid [1, H, W, C_in] in [0, 1]."""
        k, _, channels, count = kernel.shape
        if channels not in (1, 3):
            return None
        columns = math.ceil(math.sqrt(count))
        rows = math.ceil(count / columns)
        grid = np.ones((rows * (k + 1) + 1, columns * (k + 1) + 1, channels), np.float32)
        for i in range(count):
            f = kernel[..., i]
            f = (f - f.min()) / (f.max() - f.min() + 1e-8)
            r, c = divmod(i, columns)
            grid[1 + r * (k + 1) : 1 + r * (k + 1) + k, 1 + c * (k + 1) : 1 + c * (k + 1) + k] = f
        return grid[None]

    def substrate(self, input_shape):
        # Shared weights: an entry reads input channel i at offset (dy, dx) from the unit.
        k = self.kernel_size
        source = _grid((k, k, self.in_units))[:, :, :, None, :]
        return _broadcast(self.kernel_shape, source, _units(self.units))


@dataclasses.dataclass(frozen=True)
class Dense(TargetLayer):
    """Fully connected; the first one flattens its input channel-last, as keras.layers.Flatten."""

    kind: ClassVar[str] = "dense"
    kernel_input_axis: ClassVar[int] = 0

    @property
    def kernel_shape(self) -> tuple[int, ...]:
        return (self.in_units, self.units)

    def resolve(self, input_shape, where):
        return dataclasses.replace(self, in_units=math.prod(input_shape)), (self.units,)

    def forward(self, x, layout, kernel, bias):
        if layout == "shared":
            x = tf.einsum("bi,kio->kbo", tf.reshape(x, [tf.shape(x)[0], self.in_units]), kernel)
        else:
            if layout == "stacked":  # [B, h, w, K*C] -> [K, B, h*w*C]
                x = per_network(x, layout, tf.shape(kernel)[0], self.in_units)
            x = tf.einsum("kbi,kio->kbo", x, kernel)
        return self.activate(x + bias[:, None, :]), "per_network"

    def forward_one(self, x, kernel, bias):
        return self.activate(tf.matmul(tf.reshape(x, [tf.shape(x)[0], -1]), kernel) + bias)

    def substrate(self, input_shape):
        # The input neuron's place in the (channel-last) grid it is flattened from.
        grid = (1,) * (3 - len(input_shape)) + tuple(input_shape)
        source = _grid(grid[-3:] if len(grid) == 3 else (1, 1, self.in_units)).reshape(self.in_units, 1, 3)
        return _broadcast(self.kernel_shape, source, _units(self.units))

    def keras_layers(self, input_is_flat):
        return ([] if input_is_flat else [keras.layers.Flatten(name=f"{self.name}_flatten")]) + [
            keras.layers.Dense(self.units, name=self.name), *self._keras_activation()]


def _spread(count: int) -> np.ndarray:
    """`count` positions evenly over [-1, 1] (one: the centre)."""
    return np.linspace(-1.0, 1.0, count, dtype=np.float32) if count > 1 else np.zeros(1, np.float32)


def _grid(shape: tuple[int, int, int]) -> np.ndarray:
    """The (y, x, channel) position of every element of a [h, w, c] grid: [h, w, c, 3]."""
    return np.stack(np.meshgrid(*(_spread(n) for n in shape), indexing="ij"), axis=-1)


def _units(count: int) -> np.ndarray:
    """A layer's units along the channel axis of the destination: [count, 3]."""
    return np.stack([np.zeros(count, np.float32), np.zeros(count, np.float32), _spread(count)], axis=-1)


def _broadcast(kernel_shape, source, destination) -> tuple[np.ndarray, np.ndarray]:
    """Source and destination positions broadcast to [*kernel_shape, 3] each."""
    shape = tuple(kernel_shape) + (3,)
    return np.broadcast_to(source, shape).astype(np.float32), np.broadcast_to(destination, shape).astype(np.float32)


LAYER_KINDS: dict[str, type[TargetLayer]] = {kind.kind: kind for kind in (Conv, Dense)}


def layer_from_config(values: dict, where: str) -> TargetLayer:
    """A layer from its JSON form, e.g. {"kind": "conv", "name": "conv1", "units": 32,
    "kernel_size": 5, "padding": "valid", "pool": true, "activation": "leaky_relu"}."""
    if not isinstance(values, dict):
        raise HyperganError(f"{where}: a layer must be a JSON object, got {values!r}")
    values = dict(values)
    kind = values.pop("kind", None)
    if kind not in LAYER_KINDS:
        raise HyperganError(f"{where}: unknown layer kind {kind!r}; choose one of: {', '.join(LAYER_KINDS)}")
    cls = LAYER_KINDS[kind]
    known = {f.name for f in dataclasses.fields(cls)} - {"in_units"}
    unknown = sorted(set(values) - known)
    if unknown:
        raise HyperganError(f"{where}: unknown key(s) {unknown} for a {kind} layer; known: {sorted(known)}")
    missing = sorted({"name", "units"} - set(values))
    if missing:
        raise HyperganError(f"{where}: missing key(s) {missing}")
    layer = cls(**values)
    layer.check(where)
    return layer
