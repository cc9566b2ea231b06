"""Data sets as uint8 image arrays, from an offline folder, TensorFlow Datasets or sklearn.

Where a data set comes from, in order:
  1. `data_dir` (the `--data-dir` option) or else $HYPERGAN_TF_DATA_DIR, holding
     `<dir>/<dataset>/` in a standard offline layout: MNIST-format IDX files
     (`train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`, `t10k-*`), or
     image folders `train/<class>/*.jpg|png` and `test/<class>/*.jpg|png`;
  2. TensorFlow Datasets (downloads on first use where there is a network);
  3. `digits` is scikit-learn's bundled set and needs neither; `toy-cubic` (the 1D
     regression of Hernandez-Lobato & Adams) is generated from a fixed seed.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from hypergan_tf.data.dataset import Dataset
from hypergan_tf.data.formats import image_folder_classes, read_idx_split, read_image_folder
from hypergan_tf.data.sources import SUBSET_SEED, load_digits, load_tfds, load_toy_cubic
from hypergan_tf.errors import HyperganError

DATA_DIR_ENV = "HYPERGAN_TF_DATA_DIR"

# dataset -> (offline folder, TFDS name, has a train split)
SOURCES = {
    "mnist": ("mnist", "mnist", True),
    "mnist5000": ("mnist", "mnist", True),
    "cifar10": ("cifar10", "cifar10", True),
    "cifar5": ("cifar10", "cifar10", True),
    "cifar5-other": ("cifar10", "cifar10", False),  # test images of classes 5-9: cifar5's OOD set
    "notmnist": ("notmnist", None, False),
    "digits": (None, None, True),
    "toy-cubic": (None, None, True),
}
# Data sets that need no files: bundled or generated in memory.
BUILT_IN = {"digits": load_digits, "toy-cubic": load_toy_cubic}
DATASETS = tuple(SOURCES)
# dataset -> the test set `ood` scores its runs against by default: images of no class it
# was trained on (the paper's pairs, and MNIST-5000 with MNIST's).
OOD_PARTNERS = {"mnist": "notmnist", "mnist5000": "notmnist", "cifar5": "cifar5-other"}
TRAINABLE_DATASETS = tuple(name for name, (_, _, has_train) in SOURCES.items() if has_train)


def ood_partner(name: str) -> str:
    """The out-of-distribution test set of a data set (OOD_PARTNERS); raises HyperganError
    naming the choices when it has none."""
    if name not in OOD_PARTNERS:
        raise HyperganError(f"{name} has no out-of-distribution test set of its own (only {', '.join(OOD_PARTNERS)} have one): "
                            "name one with --out-dataset")
    return OOD_PARTNERS[name]


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path | None:
    if data_dir:
        return Path(data_dir)
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env) if env else None


def load_dataset(name: str, data_dir: str | os.PathLike | None = None, *, need_train: bool = True, download: bool = True) -> Dataset:
    """Load `name` (one of DATASETS); raises HyperganError listing the ways to provide it.

    `download=False` only uses what TensorFlow Datasets has already prepared: a quick
    check that never waits on the network.
    """
    if name not in SOURCES:
        raise HyperganError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    folder, tfds_name, has_train = SOURCES[name]
    if need_train and not has_train:
        raise HyperganError(f"dataset {name!r} has only a test split: use it with evaluate, not for training")
    if name in BUILT_IN:
        base = BUILT_IN[name]()
    else:
        root = resolve_data_dir(data_dir)
        if root is not None:
            base = _load_offline(root / folder, name, need_train=has_train)
        else:
            base = load_tfds(name, tfds_name, download, _not_found)
    return _derive(name, base)


def _derive(name: str, base: Dataset) -> Dataset:
    """The subsets defined on top of a base data set: mnist5000 and cifar5."""
    base.name = name
    if name == "mnist5000":
        order = np.random.default_rng(SUBSET_SEED).permutation(len(base.train_labels))[:5000]
        base.train_images, base.train_labels = base.train_images[order], base.train_labels[order]
    elif name == "cifar5-other":
        keep = base.test_labels >= 5
        base.test_images, base.test_labels = base.test_images[keep], base.test_labels[keep] - 5
        base.train_images = base.train_labels = None
        base.num_classes = 5
    elif name == "cifar5":
        keep_train, keep_test = base.train_labels < 5, base.test_labels < 5
        base.train_images, base.train_labels = base.train_images[keep_train], base.train_labels[keep_train]
        base.test_images, base.test_labels = base.test_images[keep_test], base.test_labels[keep_test]
        base.num_classes = 5
    return base


def _not_found(name: str, why: str) -> HyperganError:
    folder, tfds_name, _ = SOURCES[name]
    ways = [
        f"--data-dir DIR (or ${DATA_DIR_ENV}=DIR) with {folder}/ inside it"
        + (" (IDX .gz files)" if folder in ("mnist", "notmnist") else " (train/<class>/*.jpg, test/<class>/*.jpg)"),
    ]
    if tfds_name:
        ways.append(f"TensorFlow Datasets: run once with a network so tfds.load({tfds_name!r}) can download it")
    return HyperganError(f"dataset {name!r} not found: {why}. Provide it with " + "; or ".join(ways))


# ---- offline formats --------------------------------------------------------
def _load_offline(folder: Path, name: str, need_train: bool) -> Dataset:
    if not folder.is_dir():
        raise _not_found(name, f"no folder {folder}")
    splits = ("train", "t10k") if need_train else ("t10k",)
    if any(folder.glob("t10k-images-idx3-ubyte*")):
        arrays = {split: read_idx_split(folder, split) for split in splits}
    elif (folder / "test").is_dir():
        classes = image_folder_classes(folder / ("train" if need_train else "test"))
        arrays = {split: read_image_folder(folder / ("test" if split == "t10k" else split), classes) for split in splits}
    else:
        raise _not_found(name, f"{folder} holds neither t10k-images-idx3-ubyte[.gz] nor a test/ image folder")
    test_images, test_labels = arrays["t10k"]
    train_images, train_labels = arrays.get("train", (None, None))
    num_classes = _check_labels(folder, train_labels, test_labels)
    return Dataset(name, f"offline folder {folder}", num_classes, test_images, test_labels, train_images, train_labels)


def _check_labels(folder: Path, train_labels: np.ndarray | None, test_labels: np.ndarray) -> int:
    """The number of classes, after checking that the labels are 0..C-1 with every class
    present (in the train split, else the test split, when it has at least ten examples
    per class: a tiny sample may lack a class) and that the test split has no class the
    train split lacks: one corrupt label byte must not make a 256-class model."""
    if len(test_labels) == 0 or (train_labels is not None and len(train_labels) == 0):
        raise HyperganError(f"{folder}: a split holds no examples; replace its files")
    reference, split = (test_labels, "test") if train_labels is None else (train_labels, "train")
    present = np.unique(reference)
    num_classes = int(present.max()) + 1
    if len(present) != num_classes and len(reference) >= 10 * num_classes:
        missing = sorted(set(range(num_classes)) - set(present.tolist()))
        raise HyperganError(f"{folder}: the {split} labels must run from 0 to C-1 with every class present, but they reach "
                            f"{num_classes - 1} with no example of {missing[:5]}{' ...' if len(missing) > 5 else ''}; is a label file corrupt?")
    if train_labels is not None and int(test_labels.max()) >= num_classes:
        raise HyperganError(f"{folder}: the test labels reach {int(test_labels.max())}, but the train split has classes 0 to "
                            f"{num_classes - 1} only; is a label file corrupt?")
    return num_classes
