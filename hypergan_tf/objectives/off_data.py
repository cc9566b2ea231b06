"""Off-data uncertainty: inputs made away from the data, and what the K networks must do
there (two registries, issue 18).

The likelihood only says what the networks do on the data. Where there is no data they
are free, and a HyperGAN's networks use that freedom badly: they share their
convolutional features, so on an input unlike any training image they agree (and an
ensemble of them is as sure as one network). Every step, this term builds `probes`
inputs from the batch that are certainly not of any class (`OFF_DATA_INPUTS`: blended
pairs, shuffled patches, random blobs, permuted pixels, or a mix), runs the first
`networks` of the step's K networks on them (one more, small, forward pass) and rewards
uncertainty there (`OFF_DATA_OBJECTIVES`):

    entropy       H(mean_k p_k) / log C: the ensemble's prediction is uncertain, whether
                  the members disagree or each is unsure (what the `ood` entropy score reads)
    disagreement  [H(mean_k p_k) - mean_k H(p_k)] / log C: the mutual information, only
                  the members' disagreement counts (each may stay confident)
    uniform       mean_k H(p_k) / log C: every member is unsure (outlier exposure)

Each is in [0, 1] and its loss is minus it, so `off_data_weight` means the same on every
data set. The probes are a function of (the batch, seed, step) only, so a resumed run
draws the same ones. They never include an out-of-distribution test set: choose them
and the weight on validation data or on generated inputs.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import tensorflow as tf

from hypergan_tf.objectives.diversity import between_class_probes, mean_log_probabilities

PATCH_GRID = 4  # shuffled patches: the image is cut into PATCH_GRID x PATCH_GRID tiles
BLOB_CELL = 4  # random blobs: uniform noise on a grid of cells of BLOB_CELL pixels, smoothed


@dataclasses.dataclass(frozen=True)
class OffDataInputs:
    help: str
    make: Callable[[tf.Tensor, tf.Tensor], tf.Tensor]  # (images [P, H, W, C] in [0, 1], seed [2]) -> probes [P, H, W, C]


@dataclasses.dataclass(frozen=True)
class OffDataObjective:
    help: str
    uncertainty: Callable[[tf.Tensor], tf.Tensor]  # logits [K, P, C] -> scalar in [0, 1], higher = more uncertain


OFF_DATA_INPUTS: dict[str, OffDataInputs] = {}
OFF_DATA_OBJECTIVES: dict[str, OffDataObjective] = {}


def inputs(name: str, help: str):
    def add(make):
        OFF_DATA_INPUTS[name] = OffDataInputs(help, make)
        return make
    return add


def objective(name: str, help: str):
    def add(uncertainty):
        OFF_DATA_OBJECTIVES[name] = OffDataObjective(help, uncertainty)
        return uncertainty
    return add


# ---- inputs away from the data ------------------------------------------------------------
@inputs("blends", "each image blended half-and-half with another of the batch")
def blends(images: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    return between_class_probes(images, tf.shape(images)[0])


@inputs("patches", f"each image cut into {PATCH_GRID}x{PATCH_GRID} tiles put back in a random order (strokes kept, shape lost)")
def shuffled_patches(images: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    shape = tf.shape(images)
    count, height, width, channels = shape[0], shape[1], shape[2], shape[3]
    tile_h, tile_w = height // PATCH_GRID, width // PATCH_GRID
    grid_h, grid_w = tile_h * PATCH_GRID, tile_w * PATCH_GRID
    region = images[:, :grid_h, :grid_w]  # rows and columns beyond a whole tile stay in place
    tiles = tf.reshape(region, [count, PATCH_GRID, tile_h, PATCH_GRID, tile_w, channels])
    tiles = tf.reshape(tf.transpose(tiles, [0, 1, 3, 2, 4, 5]), [count, PATCH_GRID * PATCH_GRID, tile_h, tile_w, channels])
    order = tf.argsort(tf.random.stateless_uniform([count, PATCH_GRID * PATCH_GRID], seed), axis=1)
    tiles = tf.gather(tiles, order, batch_dims=1)
    tiles = tf.reshape(tiles, [count, PATCH_GRID, PATCH_GRID, tile_h, tile_w, channels])
    region = tf.reshape(tf.transpose(tiles, [0, 1, 3, 2, 4, 5]), [count, grid_h, grid_w, channels])
    top = tf.concat([region, images[:, :grid_h, grid_w:]], axis=2)
    return tf.concat([top, images[:, grid_h:]], axis=1)


@inputs("blobs", f"random smooth blobs: uniform noise on cells of {BLOB_CELL} pixels, upsampled and thresholded softly")
def blobs(images: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    shape = tf.shape(images)
    cells = [shape[0], (shape[1] + BLOB_CELL - 1) // BLOB_CELL, (shape[2] + BLOB_CELL - 1) // BLOB_CELL, shape[3]]
    noise = tf.image.resize(tf.random.stateless_uniform(cells, seed), shape[1:3], method="bilinear")
    return tf.sigmoid(12.0 * (noise - 0.6))


@inputs("pixels", "each image's pixels in a random order (the same for the whole batch)")
def permuted_pixels(images: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    shape = tf.shape(images)
    flat = tf.reshape(images, [shape[0], -1, shape[3]])
    order = tf.argsort(tf.random.stateless_uniform([tf.shape(flat)[1]], seed))
    return tf.reshape(tf.gather(flat, order, axis=1), shape)


MIXED = ("blends", "patches", "blobs")


@inputs("mixed", "a third each of blends, patches and blobs")
def mixed(images: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    parts = tf.split(images, split_sizes(tf.shape(images)[0], len(MIXED)), axis=0)
    return tf.concat([OFF_DATA_INPUTS[name].make(part, seed + i) for i, (name, part) in enumerate(zip(MIXED, parts))], axis=0)


def split_sizes(count: tf.Tensor, parts: int) -> tf.Tensor:
    """`count` cut into `parts` sizes differing by at most one."""
    base = count // parts
    return base + tf.cast(tf.range(parts) < count - base * parts, count.dtype)


# ---- what the networks must do there ------------------------------------------------------
def _entropy(log_probabilities: tf.Tensor) -> tf.Tensor:
    return -tf.reduce_sum(tf.exp(log_probabilities) * log_probabilities, axis=-1)


def _normalised(nats: tf.Tensor, logits: tf.Tensor) -> tf.Tensor:
    return tf.reduce_mean(nats) / tf.math.log(tf.cast(tf.shape(logits)[-1], logits.dtype))


@objective("entropy", "the entropy of the ensemble's mean prediction (default)")
def ensemble_entropy(logits: tf.Tensor) -> tf.Tensor:
    return _normalised(_entropy(mean_log_probabilities(logits)), logits)


@objective("disagreement", "the mutual information: the mean prediction's entropy minus the members' mean entropy")
def disagreement(logits: tf.Tensor) -> tf.Tensor:
    members = tf.reduce_mean(_entropy(tf.nn.log_softmax(logits)), axis=0)
    return _normalised(_entropy(mean_log_probabilities(logits)) - members, logits)


@objective("uniform", "every member's own entropy (outlier exposure)")
def member_entropy(logits: tf.Tensor) -> tf.Tensor:
    return _normalised(_entropy(tf.nn.log_softmax(logits)), logits)


def off_data_loss(inputs_name: str, objective_name: str, images: tf.Tensor, seed: tf.Tensor, classify, weights,
                  probes: int, networks: int) -> tf.Tensor:
    """Minus the uncertainty (in [0, 1]) of the first `networks` networks of `weights` on
    probes made from the first `probes` `images` ([B, H, W, C] in [0, 1])."""
    inputs = OFF_DATA_INPUTS[inputs_name].make(images[:probes], seed)
    return -OFF_DATA_OBJECTIVES[objective_name].uncertainty(classify(inputs, {name: value[:networks] for name, value in weights.items()}))

