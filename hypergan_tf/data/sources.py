"""Data that does not come from an offline folder: TensorFlow Datasets and scikit-learn's
bundled digits."""

from __future__ import annotations

import numpy as np

from hypergan_tf.data.dataset import Dataset

SUBSET_SEED = 0  # mnist5000 and digits' split are fixed, whatever the training seed


def load_tfds(name: str, tfds_name: str | None, download: bool, not_found) -> Dataset:
    """`not_found(name, why)` builds the error that lists the other ways to provide the data."""
    if tfds_name is None:
        raise not_found(name, "it is not in TensorFlow Datasets and no data dir was given")
    import tensorflow_datasets as tfds

    try:
        splits = tfds.load(tfds_name, split=["train", "test"], as_supervised=True, download=download)
        # Batched iteration, not batch_size=-1: the latter aborts the process on
        # generator-backed datasets (seen with tfds.testing.mock_data, TF 2.21).
        (train_x, train_y), (test_x, test_y) = [_to_arrays(tfds.as_numpy(split.batch(10000))) for split in splits]
    except Exception as err:  # TFDS raises many types for "no network" / "not prepared"
        why = f"{type(err).__name__}: {str(err).splitlines()[0][:200]}" if str(err) else type(err).__name__
        raise not_found(name, f"TensorFlow Datasets could not load it ({why})") from None
    num_classes = int(max(train_y.max(), test_y.max())) + 1
    return Dataset(name, "TensorFlow Datasets", num_classes, test_x.astype(np.uint8), test_y.astype(np.int32), train_x.astype(np.uint8), train_y.astype(np.int32))


def _to_arrays(batches) -> tuple[np.ndarray, np.ndarray]:
    images, labels = zip(*batches)
    return np.concatenate(images), np.concatenate(labels)


def load_digits() -> Dataset:
    """scikit-learn's 1,797 8x8 digits, upscaled to 28x28 so the MNIST targets fit; seeded 80/20 split."""
    import tensorflow as tf
    from sklearn.datasets import load_digits

    digits = load_digits()
    small = (digits.images / 16.0).astype(np.float32)[..., None]
    images = tf.image.resize(small, (28, 28), method="bilinear").numpy()
    images = np.clip(np.round(images * 255), 0, 255).astype(np.uint8)
    labels = digits.target.astype(np.int32)
    order = np.random.default_rng(SUBSET_SEED).permutation(len(labels))
    test, train = order[:360], order[360:]
    return Dataset("digits", "scikit-learn (bundled)", 10, images[test], labels[test], images[train], labels[train])


# The toy regression of Hernandez-Lobato & Adams (2015), used by the HyperGAN paper to show
# predictive uncertainty: y = x^3 + eps, eps ~ N(0, 3^2), 20 training inputs ~ U[-4, 4].
TOY_SEED = 0  # the data are fixed, whatever the training seed
TOY_TRAIN_RANGE = (-4.0, 4.0)
TOY_TRAIN_POINTS = 20
TOY_NOISE_STD = 3.0
TOY_TEST_RANGE = (-6.0, 6.0)  # a grid, so evaluate sees inside and outside the training range
TOY_TEST_POINTS = 241  # step 0.05


def cubic(x: np.ndarray) -> np.ndarray:
    return x**3


def load_toy_cubic() -> Dataset:
    """20 training points (x, x^3 + noise), x ~ U[-4, 4]; the test split a grid of 241
    points over [-6, 6] with its own noise, all drawn from TOY_SEED. Inputs are float32
    [N, 1], targets float32 [N]."""
    rng = np.random.default_rng(TOY_SEED)
    train_x = rng.uniform(*TOY_TRAIN_RANGE, TOY_TRAIN_POINTS)
    train_y = cubic(train_x) + TOY_NOISE_STD * rng.standard_normal(TOY_TRAIN_POINTS)
    test_x = np.linspace(*TOY_TEST_RANGE, TOY_TEST_POINTS)
    test_y = cubic(test_x) + TOY_NOISE_STD * rng.standard_normal(TOY_TEST_POINTS)
    as_inputs = lambda x: x.astype(np.float32)[:, None]  # noqa: E731
    return Dataset("toy-cubic", f"generated (y = x^3 + N(0, {TOY_NOISE_STD:g}^2), seed {TOY_SEED})", 1,
                   as_inputs(test_x), test_y.astype(np.float32), as_inputs(train_x), train_y.astype(np.float32),
                   task="regression", input_range=TOY_TRAIN_RANGE, truth=cubic)
