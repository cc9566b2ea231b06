"""tf.data pipelines: seeded training batches (resumable, with an augmentation hook),
evaluation batches, and the validation split held out of the training data."""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf


def as_inputs(images: np.ndarray) -> np.ndarray:
    """What the networks read, as float32: uint8 images -> pixels in [0, 1]; float inputs
    (a regression set's) as they are."""
    return images.astype(np.float32) / 255.0 if images.dtype == np.uint8 else images.astype(np.float32)


def _to_pixels(images, labels):
    if images.dtype == tf.uint8:
        return tf.cast(images, tf.float32) / 255.0, labels
    return tf.cast(images, tf.float32), labels


def training_batches(images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int, num_batches: int, first_batch: int = 0,
                     augment=None) -> tf.data.Dataset:
    """Batches `first_batch .. first_batch + num_batches` of the seeded training order.

    The order (a fresh permutation of the data per pass, drawn with NumPy) depends on
    the seed alone, so a resumed run continues exactly where it stopped, and a
    distributed run sees the same batches as a single device (tf.data's own shuffle
    is re-seeded when a strategy distributes the pipeline).

    `augment(pixels [B, ...] in [0, 1], seed [2] int32) -> pixels` is the augmentation
    hook: it runs inside tf.data with a stateless seed drawn from (seed, batch index), so
    a resumed or distributed run sees exactly the same augmented batches.
    """
    per_pass = len(labels) // batch_size
    passes = math.ceil((first_batch + num_batches) / per_pass)
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(len(labels))[: per_pass * batch_size] for _ in range(passes)])
    order = order[first_batch * batch_size : (first_batch + num_batches) * batch_size]
    images, labels = tf.constant(images), tf.constant(labels)
    ds = tf.data.Dataset.from_tensor_slices(order).batch(batch_size, drop_remainder=True)
    ds = ds.map(lambda index: (tf.gather(images, index), tf.gather(labels, index)), num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.map(_to_pixels, num_parallel_calls=tf.data.AUTOTUNE)
    if augment is not None:
        batch_index = tf.data.Dataset.range(first_batch, first_batch + num_batches)
        ds = tf.data.Dataset.zip((ds, batch_index)).map(
            lambda batch, index: (augment(batch[0], tf.stack([tf.constant(seed, tf.int32), tf.cast(index, tf.int32)])), batch[1]),
            num_parallel_calls=tf.data.AUTOTUNE)
    return without_autotuning(ds.prefetch(tf.data.AUTOTUNE))


def without_autotuning(ds: tf.data.Dataset) -> tf.data.Dataset:
    """`ds` with tf.data's autotuning off. The autotuner runs a thread per iterator
    (Model::OptimizeLoop, in a timed wait between optimisations whose period grows as the
    pipeline runs), and deleting the iterator joins it: at the end of some training runs
    here that took 10-38 s, the main thread waiting in RootDataset::Iterator's destructor
    (py-spy; gdb showed the thread). These pipelines gather, cast (and augment) a batch in
    0.25-4 ms, against a step of 0.1 s or more; without the autotuner, AUTOTUNE means as
    many parallel calls as cores, and they run as fast."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.with_options(options)


def evaluation_batches(images: np.ndarray, labels: np.ndarray, batch_size: int) -> tf.data.Dataset:
    """uint8 images -> batches of float pixels in [0, 1] (float inputs as they are), in order."""
    ds = tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch_size)
    return without_autotuning(ds.map(_to_pixels, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))


def validation_count(num_examples: int, count: int) -> int:
    """How many of `num_examples` training examples `split_validation` holds out."""
    return min(count, num_examples // 10)


def split_validation(images, labels, count: int, seed: int):
    """Hold out `count` training examples (at most 10%) for monitoring; the test split stays unseen."""
    count = validation_count(len(labels), count)
    order = np.random.default_rng(seed).permutation(len(labels))
    val, train = order[:count], order[count:]
    return (images[train], labels[train]), (images[val], labels[val])
