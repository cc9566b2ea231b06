"""The generated 1D regression set (toy-cubic): deterministic, with the documented ranges."""

import numpy as np

from hypergan_tf.data import load_dataset
from hypergan_tf.data.sources import TOY_NOISE_STD


def test_toy_cubic_is_deterministic_with_the_documented_ranges():
    data, again = load_dataset("toy-cubic"), load_dataset("toy-cubic", need_train=False)
    for name in ("train_images", "train_labels", "test_images", "test_labels"):
        np.testing.assert_array_equal(getattr(data, name), getattr(again, name))
    assert data.task == "regression" and data.num_classes == 1 and data.image_shape == (1,)
    assert data.train_images.shape == (20, 1) and data.train_images.dtype == np.float32 and data.train_labels.dtype == np.float32
    x = data.train_images[:, 0]
    assert data.input_range == (-4.0, 4.0) and x.min() >= -4 and x.max() <= 4
    test_x = data.test_images[:, 0]
    assert len(test_x) == 241 and test_x.min() == -6 and test_x.max() == 6
    np.testing.assert_allclose(np.diff(test_x), 0.05, atol=1e-5)  # a grid: inside and outside [-4, 4] alike
    # y = x^3 + N(0, 3^2): the residuals are the noise
    residuals = np.concatenate([data.train_labels - x**3, data.test_labels - test_x**3])
    assert abs(residuals.mean()) < 1.0 and 0.8 * TOY_NOISE_STD < residuals.std() < 1.2 * TOY_NOISE_STD
    np.testing.assert_allclose(data.truth(test_x), test_x**3)
