import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from conftest import make_idx_dataset, write_idx
from hypergan_tf.data import load_dataset
from hypergan_tf.data.formats import read_idx_split
from hypergan_tf.errors import HyperganError


def test_idx_files_round_trip_gzipped_and_plain(tmp_path):
    arrays = make_idx_dataset(tmp_path / "mnist")
    data = load_dataset("mnist", tmp_path)
    images, labels = arrays["train"]
    np.testing.assert_array_equal(data.train_images[..., 0], images)
    np.testing.assert_array_equal(data.train_labels, labels)
    assert data.test_images.shape == (20, 28, 28, 1) and data.num_classes == 10
    plain = tmp_path / "plain"
    plain.mkdir()
    write_idx(plain / "t10k-images-idx3-ubyte", images, compress=False)
    write_idx(plain / "t10k-labels-idx1-ubyte", labels, compress=False)
    np.testing.assert_array_equal(read_idx_split(plain, "t10k")[0][..., 0], images)


def test_data_dir_from_environment(tmp_path, monkeypatch):
    make_idx_dataset(tmp_path / "notmnist", splits=("t10k",))
    monkeypatch.setenv("HYPERGAN_TF_DATA_DIR", str(tmp_path))
    data = load_dataset("notmnist", need_train=False)
    assert data.train_images is None and len(data.test_labels) == 20


def test_truncated_idx_file_is_a_clear_error(tmp_path):
    make_idx_dataset(tmp_path / "mnist")
    path = tmp_path / "mnist" / "t10k-images-idx3-ubyte"
    raw = np.frombuffer(__import__("gzip").open(str(path) + ".gz").read(), np.uint8)
    (tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz").unlink()
    path.write_bytes(raw[:-100].tobytes())
    with pytest.raises(HyperganError, match="truncated"):
        load_dataset("mnist", tmp_path)


def test_wrong_magic_number_and_count_mismatch(tmp_path):
    make_idx_dataset(tmp_path / "mnist")
    folder = tmp_path / "mnist"
    labels = folder / "t10k-labels-idx1-ubyte.gz"
    (folder / "t10k-images-idx3-ubyte.gz").replace(folder / "saved.gz")
    labels.rename(folder / "t10k-images-idx3-ubyte.gz")  # labels where images belong
    with pytest.raises(HyperganError, match="magic number 2049, expected 2051"):
        load_dataset("mnist", tmp_path)
    (folder / "t10k-images-idx3-ubyte.gz").rename(labels)
    (folder / "saved.gz").rename(folder / "t10k-images-idx3-ubyte.gz")
    write_idx(labels, np.zeros(7, np.uint8))
    with pytest.raises(HyperganError, match="20 images but 7 labels"):
        load_dataset("mnist", tmp_path)


def write_image_folder(root, classes=("cat", "dog", "frog"), per_class=3, size=32, step=40):
    for split in ("train", "test"):
        for index, name in enumerate(classes):
            (root / split / name).mkdir(parents=True)
            for i in range(per_class):
                pixel = np.full((size, size, 3), step * index + i, np.uint8)
                (root / split / name / f"{i:04d}.png").write_bytes(tf.io.encode_png(pixel).numpy())


def test_image_folders_are_read_in_sorted_class_order(tmp_path):
    write_image_folder(tmp_path / "cifar10")
    data = load_dataset("cifar10", tmp_path)
    assert data.train_images.shape == (9, 32, 32, 3) and data.num_classes == 3
    np.testing.assert_array_equal(data.train_labels, [0, 0, 0, 1, 1, 1, 2, 2, 2])
    assert data.train_images[3, 0, 0, 0] == 40  # first "dog" image (PNG is lossless)


def test_cifar5_keeps_classes_0_to_4(tmp_path):
    write_image_folder(tmp_path / "cifar10", classes=[f"c{i}" for i in range(7)], per_class=1, size=4)
    data = load_dataset("cifar5", tmp_path)
    assert data.num_classes == 5 and sorted(set(data.train_labels)) == [0, 1, 2, 3, 4]


def test_cifar5_other_is_the_test_split_of_classes_5_to_9(tmp_path):
    write_image_folder(tmp_path / "cifar10", classes=[f"c{i}" for i in range(10)], per_class=2, size=4, step=20)
    data = load_dataset("cifar5-other", tmp_path, need_train=False)
    assert data.train_images is None and data.num_classes == 5
    np.testing.assert_array_equal(data.test_labels, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4])
    assert data.test_images[0, 0, 0, 0] == 20 * 5  # the first image of class c5


def test_empty_class_folder_is_a_clear_error(tmp_path):
    write_image_folder(tmp_path / "cifar10")
    (tmp_path / "cifar10" / "train" / "zebra").mkdir()
    with pytest.raises(HyperganError, match="zebra holds no .jpg or .png images"):
        load_dataset("cifar10", tmp_path)


def test_mnist5000_is_a_fixed_subset(tmp_path):
    make_idx_dataset(tmp_path / "mnist", num_train=6000, num_test=10)
    first, second = load_dataset("mnist5000", tmp_path), load_dataset("mnist5000", tmp_path)
    assert len(first.train_labels) == 5000 and len(first.test_labels) == 10
    np.testing.assert_array_equal(first.train_images, second.train_images)


def test_missing_dataset_lists_the_ways_to_provide_it(tmp_path):
    with pytest.raises(HyperganError) as err:
        load_dataset("mnist", tmp_path)
    message = str(err.value)
    assert "--data-dir" in message and "HYPERGAN_TF_DATA_DIR" in message and "TensorFlow Datasets" in message


def test_unknown_dataset_and_test_only_set_for_training():
    with pytest.raises(HyperganError, match="unknown dataset 'imagenet'"):
        load_dataset("imagenet")
    with pytest.raises(HyperganError, match="only a test split"):
        load_dataset("notmnist", "/nonexistent")


def test_tfds_loading_through_mock_data(no_data_dir_env):
    with tfds.testing.mock_data(num_examples=12):
        data = load_dataset("mnist")
    assert data.source == "TensorFlow Datasets"
    assert data.train_images.shape == (12, 28, 28, 1) and data.train_images.dtype == np.uint8
    assert data.test_labels.shape == (12,)


def test_digits_is_embedded_and_fits_the_mnist_target():
    data = load_dataset("digits")
    assert data.image_shape == (28, 28, 1)
    assert len(data.train_labels) + len(data.test_labels) == 1797
    assert set(data.test_labels) == set(range(10))


def test_a_test_split_missing_a_class_is_refused_not_relabelled(tmp_path):
    """Labels come from the train split's classes: a test split without `dog` would shift
    `frog` onto label 1 and score a good model near 0%."""
    write_image_folder(tmp_path / "cifar10")
    for image in (tmp_path / "cifar10" / "test" / "dog").iterdir():
        image.unlink()
    (tmp_path / "cifar10" / "test" / "dog").rmdir()
    with pytest.raises(HyperganError, match="test has other class folders than the training split \\(missing \\['dog'\\]\\)"):
        load_dataset("cifar10", tmp_path)


def test_hidden_folders_are_not_classes(tmp_path):
    write_image_folder(tmp_path / "cifar10")
    (tmp_path / "cifar10" / "test" / ".ipynb_checkpoints").mkdir()
    data = load_dataset("cifar10", tmp_path)
    assert data.num_classes == 3
    np.testing.assert_array_equal(data.test_labels, data.train_labels)


def test_a_corrupt_idx_label_is_refused(tmp_path):
    arrays = make_idx_dataset(tmp_path / "mnist", num_train=3000)  # ten examples per class of 256
    labels = arrays["train"][1].copy()
    labels[17] = 255  # one bad byte would otherwise make a 256-class model
    write_idx(tmp_path / "mnist" / "train-labels-idx1-ubyte.gz", labels)
    with pytest.raises(HyperganError, match="the train labels must run from 0 to C-1 with every class present, but they reach 255"):
        load_dataset("mnist", tmp_path)
    test_labels = arrays["t10k"][1].copy()
    test_labels[3] = 12
    write_idx(tmp_path / "mnist" / "train-labels-idx1-ubyte.gz", arrays["train"][1])
    write_idx(tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz", test_labels)
    with pytest.raises(HyperganError, match="the test labels reach 12, but the train split has classes 0 to 9 only"):
        load_dataset("mnist", tmp_path)
