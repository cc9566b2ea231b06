"""The augmentation hook of the training pipeline draws from (seed, batch index): a resumed
pipeline augments exactly as the uninterrupted one."""

import numpy as np
import tensorflow as tf

from hypergan_tf.data.pipelines import training_batches


def random_flip(pixels, seed):
    """The whole batch mirrored, or not, by a coin drawn from the seed."""
    return tf.cond(tf.random.stateless_uniform([], seed) < 0.5, lambda: tf.reverse(pixels, [2]), lambda: pixels)


def test_augmentation_is_a_function_of_seed_and_batch_index():
    images = np.random.default_rng(0).integers(0, 255, (40, 4, 4, 1)).astype(np.uint8)
    labels = np.arange(40, dtype=np.int32)
    whole = [x.numpy() for x, _ in training_batches(images, labels, 8, seed=3, num_batches=10, augment=random_flip)]
    tail = [x.numpy() for x, _ in training_batches(images, labels, 8, seed=3, num_batches=4, first_batch=6, augment=random_flip)]
    for a, b in zip(whole[6:], tail):
        np.testing.assert_array_equal(a, b)
    plain = [x.numpy() for x, _ in training_batches(images, labels, 8, seed=3, num_batches=10)]
    flipped = [not np.array_equal(a, p) for a, p in zip(whole, plain)]
    assert any(flipped) and not all(flipped)  # some batches flipped, some not: it does act, per batch
