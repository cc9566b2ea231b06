"""Data augmentation of training batches (a registry, `--augment`).

Each augmentation maps a batch of pixels [B, H, W, C] in [0, 1] and a stateless seed
[2] int32 to a batch of the same shape. The training pipeline (pipelines.py) draws the
seed from (run seed, batch index), so a resumed or distributed run sees exactly the
same augmented batches as an uninterrupted one.
"""

from __future__ import annotations

from typing import Callable

import tensorflow as tf

CROP_PADDING = 4  # pixels of zero padding around each image before the random crop (CIFAR's usual 4)


def random_crop_flip(images: tf.Tensor, seed: tf.Tensor, padding: int = CROP_PADDING) -> tf.Tensor:
    """Each image padded by `padding` zeros on every side, cropped back to its size at a
    random offset (its own per image), and mirrored left-right with probability 1/2."""
    shape = tf.shape(images)
    batch, height, width = shape[0], shape[1], shape[2]
    padded = tf.pad(images, [[0, 0], [padding, padding], [padding, padding], [0, 0]])
    offsets = tf.random.stateless_uniform([batch, 2], seed, minval=0, maxval=2 * padding + 1, dtype=tf.int32)
    rows = offsets[:, :1] + tf.range(height)[None, :]  # [B, H]
    cols = offsets[:, 1:] + tf.range(width)[None, :]  # [B, W]
    cropped = tf.gather(padded, rows, axis=1, batch_dims=1)  # [B, H, W + 2p, C]
    cropped = tf.gather(cropped, cols, axis=2, batch_dims=1)  # [B, H, W, C]
    flip = tf.random.stateless_uniform([batch], seed + 1) < 0.5
    return tf.where(flip[:, None, None, None], tf.reverse(cropped, axis=[2]), cropped)


# name -> (help, function or None for no augmentation)
AUGMENTATIONS: dict[str, tuple[str, Callable | None]] = {
    "none": ("the images as they are (the paper's setting)", None),
    "crop-flip": (f"random crop after {CROP_PADDING}-pixel zero padding and random left-right flip (natural images, e.g. CIFAR)",
                  random_crop_flip),
}


def get_augmentation(name: str) -> Callable | None:
    """The function of augmentation `name`, or None for "none"."""
    if name not in AUGMENTATIONS:
        raise ValueError(f"unknown augmentation {name!r}; choose one of: {', '.join(AUGMENTATIONS)}")
    return AUGMENTATIONS[name][1]
