"""The augmentation hook of the training pipeline draws from (seed, batch index): a resumed
pipeline augments exactly as the uninterrupted one."""

import numpy as np
import tensorflow as tf

from hypergan_tf.data.augment import CROP_PADDING, random_crop_flip
from hypergan_tf.data.pipelines import evaluation_batches, training_batches


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


def test_crop_flip_moves_each_image_by_its_own_offset_and_resumes_exactly():
    """Every augmented image is its original shifted by at most CROP_PADDING pixels (zeros
    shifted in), possibly mirrored; offsets and flips differ between images; and the
    pipeline resumed at batch 6 augments exactly like the uninterrupted one."""
    rng = np.random.default_rng(1)
    images = rng.integers(1, 255, (64, 12, 12, 3)).astype(np.uint8)  # no zero pixel: padding is recognisable
    labels = np.arange(64, dtype=np.int32)
    whole = [x.numpy() for x, _ in training_batches(images, labels, 16, seed=5, num_batches=8, augment=random_crop_flip)]
    tail = [x.numpy() for x, _ in training_batches(images, labels, 16, seed=5, num_batches=2, first_batch=6, augment=random_crop_flip)]
    for a, b in zip(whole[6:], tail):
        np.testing.assert_array_equal(a, b)
    plain = np.concatenate([x.numpy() for x, _ in training_batches(images, labels, 16, seed=5, num_batches=8)])
    augmented = np.concatenate(whole)
    p = CROP_PADDING
    found = []
    for original, result in zip(plain, augmented):
        padded = np.pad(original, [(p, p), (p, p), (0, 0)])
        matches = [(dy, dx, flip) for flip in (False, True) for dy in range(2 * p + 1) for dx in range(2 * p + 1)
                   if np.array_equal((padded[dy:dy + 12, dx:dx + 12])[:, ::-1] if flip else padded[dy:dy + 12, dx:dx + 12], result)]
        assert matches, "an augmented image is not a shifted (and maybe mirrored) copy of its original"
        found.append(matches[0])
    assert len(set(found)) > 20  # 128 images: offsets and flips are drawn per image
    assert 0.3 < np.mean([flip for _, _, flip in found]) < 0.7


def test_the_pipelines_run_without_the_autotuner_and_give_every_batch():
    """Deleting an autotuned iterator waits for the autotuner's thread (10-38 s at the end of
    some training runs): the training and evaluation pipelines turn it off, and still give
    the same batches in the same order."""
    images = np.arange(40 * 4 * 4, dtype=np.uint8).reshape(40, 4, 4, 1)
    labels = np.arange(40, dtype=np.int32)
    train = training_batches(images, labels, batch_size=8, seed=3, num_batches=10)
    evaluation = evaluation_batches(images, labels, batch_size=8)
    assert train.options().autotune.enabled is False
    assert evaluation.options().autotune.enabled is False
    order = np.concatenate([y.numpy() for _, y in train])
    assert len(order) == 80 and sorted(order[:40]) == list(range(40)) and sorted(order[40:]) == list(range(40))
    assert [y.numpy().tolist() for _, y in evaluation] == [list(range(i, i + 8)) for i in range(0, 40, 8)]
