"""The scaling symmetry of a target network (Deutsch et al., 2018).

Leaky ReLU, ReLU and max pooling are positively homogeneous: multiplying a hidden
unit's incoming weights and bias by c > 0 and its outgoing weights by 1/c leaves the
network's function unchanged. `canonical_weights` picks one representative per scaling
orbit (every such unit's incoming weights + bias scaled to unit norm, the scale pushed
into the next layer), so distances between canonical weights measure differences that
change the function. Unit permutations are not removed: a smooth generator does not
produce them.
"""

from __future__ import annotations

import tensorflow as tf

from hypergan_tf.targets.spec import TargetSpec

EPSILON = 1e-8


def canonical_weights(target: TargetSpec, weights: dict) -> dict[str, tf.Tensor]:
    """Weights with a leading network axis K -> the same networks, scale symmetry fixed.

    Returns {"<layer>": [K, fan_in * units + units]}: each layer's kernel and bias
    flattened per network. A layer without a homogeneous activation (the logits layer)
    keeps its scale (softmax is not scale-invariant) but absorbs the scales of the units
    feeding it.
    """
    canonical = {}
    incoming_scale = None  # [K, units of the previous layer]
    for layer in target.layers:
        kernel = tf.convert_to_tensor(weights[f"{layer.name}/kernel"], tf.float32)
        bias = tf.convert_to_tensor(weights[f"{layer.name}/bias"], tf.float32)
        if incoming_scale is not None:
            kernel = layer.scale_inputs(kernel, incoming_scale)
        num_networks = tf.shape(kernel)[0]
        flat = tf.concat([tf.reshape(kernel, [num_networks, -1, layer.units]), bias[:, None, :]], axis=1)
        incoming_scale = None
        if layer.homogeneous:
            norms = tf.norm(flat, axis=1) + EPSILON  # [K, units]
            flat = flat / norms[:, None, :]
            incoming_scale = norms
        canonical[layer.name] = tf.reshape(flat, [num_networks, -1])
    return canonical


def rescale_units(target: TargetSpec, weights: dict, scales: dict) -> dict:
    """The same networks with hidden units rescaled: {"<layer>": c [K, units]} multiplies
    that layer's incoming weights and bias by c and the next layer's inputs by 1/c
    (the orbit `canonical_weights` removes; tests use it)."""
    out = {name: tf.convert_to_tensor(value, tf.float32) for name, value in weights.items()}
    for layer, following in zip(target.layers[:-1], target.layers[1:]):
        if layer.name not in scales:
            continue
        c = tf.convert_to_tensor(scales[layer.name], tf.float32)
        kernel = out[f"{layer.name}/kernel"]
        out[f"{layer.name}/kernel"] = kernel * tf.reshape(c, [-1] + [1] * (len(kernel.shape) - 2) + [layer.units])
        out[f"{layer.name}/bias"] = out[f"{layer.name}/bias"] * c
        out[f"{following.name}/kernel"] = following.scale_inputs(out[f"{following.name}/kernel"], 1.0 / c)
    return {name: value.numpy() for name, value in out.items()}
