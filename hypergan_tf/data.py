"""Data sets as uint8 image arrays, from an offline folder, TensorFlow Datasets or sklearn.

Where a data set comes from, in order:
  1. `data_dir` (the `--data-dir` option) or else $HYPERGAN_TF_DATA_DIR, holding
     `<dir>/<dataset>/` in a standard offline layout: MNIST-format IDX files
     (`train-images-idx3-ubyte[.gz]`, `train-labels-idx1-ubyte[.gz]`, `t10k-*`), or
     image folders `train/<class>/*.jpg|png` and `test/<class>/*.jpg|png`;
  2. TensorFlow Datasets (downloads on first use where there is a network);
  3. `digits` is scikit-learn's bundled set and needs neither.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
from pathlib import Path

import numpy as np

from hypergan_tf.errors import HyperganError

DATA_DIR_ENV = "HYPERGAN_TF_DATA_DIR"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
SUBSET_SEED = 0  # mnist5000 and digits' split are fixed, whatever the training seed

# dataset -> (offline folder, TFDS name, has a train split)
SOURCES = {
    "mnist": ("mnist", "mnist", True),
    "mnist5000": ("mnist", "mnist", True),
    "cifar10": ("cifar10", "cifar10", True),
    "cifar5": ("cifar10", "cifar10", True),
    "cifar5-other": ("cifar10", "cifar10", False),  # test images of classes 5-9: cifar5's OOD set
    "notmnist": ("notmnist", None, False),
    "digits": (None, None, True),
}
DATASETS = tuple(SOURCES)
TRAINABLE_DATASETS = tuple(name for name, (_, _, has_train) in SOURCES.items() if has_train)


@dataclasses.dataclass
class Dataset:
    """Images are uint8 [N, H, W, C]; labels int32 [N]. `train_*` is None for test-only sets."""

    name: str
    source: str
    num_classes: int
    test_images: np.ndarray
    test_labels: np.ndarray
    train_images: np.ndarray | None = None
    train_labels: np.ndarray | None = None

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.test_images.shape[1:])


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
    if name == "digits":
        base = _load_digits()
    else:
        root = resolve_data_dir(data_dir)
        if root is not None:
            base = _load_offline(root / folder, name, need_train=has_train)
        else:
            base = _load_tfds(name, tfds_name, download)
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
        arrays = {split: read_image_folder(folder / ("test" if split == "t10k" else split)) for split in splits}
    else:
        raise _not_found(name, f"{folder} holds neither t10k-images-idx3-ubyte[.gz] nor a test/ image folder")
    test_images, test_labels = arrays["t10k"]
    train_images, train_labels = arrays.get("train", (None, None))
    num_classes = int(max(test_labels.max(), -1 if train_labels is None else train_labels.max())) + 1
    return Dataset(name, f"offline folder {folder}", num_classes, test_images, test_labels, train_images, train_labels)


def _find_split_file(folder: Path, stem: str) -> Path:
    for candidate in (folder / f"{stem}.gz", folder / stem):
        if candidate.is_file():
            return candidate
    raise HyperganError(f"{folder} is missing {stem}.gz (or {stem}); every split needs its images and labels file")


def _read_idx(path: Path, expected_magic: int) -> np.ndarray:
    """An IDX file (uint8 data), checked against truncation and the wrong file type."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as err:
        raise HyperganError(f"{path} cannot be read ({err}); the file is corrupt or truncated: replace it") from None
    if len(raw) < 4 or int.from_bytes(raw[:4], "big") != expected_magic:
        found = int.from_bytes(raw[:4], "big") if len(raw) >= 4 else None
        raise HyperganError(
            f"{path} has magic number {found!r}, expected {expected_magic} "
            f"({'images' if expected_magic == 2051 else 'labels'}); is it the right file?"
        )
    ndim = expected_magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise HyperganError(f"{path} is truncated (header incomplete); replace the file")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    size = int(np.prod(dims))
    if len(raw) - header != size:
        raise HyperganError(f"{path} holds {len(raw) - header} bytes of data but its header promises {size} ({dims}); the file is truncated or corrupt")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def read_idx_split(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """`split` is "train" or "t10k"; returns images [N, H, W, 1] uint8 and labels [N] int32."""
    images = _read_idx(_find_split_file(folder, f"{split}-images-idx3-ubyte"), 2051)
    labels = _read_idx(_find_split_file(folder, f"{split}-labels-idx1-ubyte"), 2049)
    if len(images) != len(labels):
        raise HyperganError(f"{folder}: {split} has {len(images)} images but {len(labels)} labels; the files do not belong together")
    return images[..., None], labels.astype(np.int32)


def read_image_folder(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """`folder/<class>/*.jpg|png`, classes in sorted order -> images [N, H, W, C], labels [N]."""
    import tensorflow as tf

    if not folder.is_dir():
        raise HyperganError(f"{folder} not found; image data sets need train/<class>/ and test/<class>/ folders")
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
    if not classes:
        raise HyperganError(f"{folder} has no class folders; expected {folder}/<class>/*.jpg")
    images, labels = [], []
    for index, cls in enumerate(classes):
        files = sorted(p for p in (folder / cls).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise HyperganError(f"class folder {folder / cls} holds no .jpg or .png images; remove it or add its images")
        for path in files:
            try:
                image = tf.io.decode_image(tf.io.read_file(str(path)), expand_animations=False).numpy()
            except tf.errors.OpError:
                raise HyperganError(f"{path} is not a readable image; replace or remove it") from None
            images.append(image)
            labels.append(index)
    shapes = {image.shape for image in images}
    if len(shapes) != 1:
        raise HyperganError(f"{folder} holds images of different sizes {sorted(shapes)[:3]}; all images must share one size")
    return np.stack(images), np.asarray(labels, np.int32)


# ---- TensorFlow Datasets and scikit-learn ---------------------------------------
def _load_tfds(name: str, tfds_name: str | None, download: bool) -> Dataset:
    if tfds_name is None:
        raise _not_found(name, "it is not in TensorFlow Datasets and no data dir was given")
    import tensorflow_datasets as tfds

    try:
        splits = tfds.load(tfds_name, split=["train", "test"], as_supervised=True, download=download)
        # Batched iteration, not batch_size=-1: the latter aborts the process on
        # generator-backed datasets (seen with tfds.testing.mock_data, TF 2.21).
        (train_x, train_y), (test_x, test_y) = [_to_arrays(tfds.as_numpy(split.batch(10000))) for split in splits]
    except Exception as err:  # TFDS raises many types for "no network" / "not prepared"
        why = f"{type(err).__name__}: {str(err).splitlines()[0][:200]}" if str(err) else type(err).__name__
        raise _not_found(name, f"TensorFlow Datasets could not load it ({why})") from None
    num_classes = int(max(train_y.max(), test_y.max())) + 1
    return Dataset(name, "TensorFlow Datasets", num_classes, test_x.astype(np.uint8), test_y.astype(np.int32), train_x.astype(np.uint8), train_y.astype(np.int32))


def _to_arrays(batches) -> tuple[np.ndarray, np.ndarray]:
    images, labels = zip(*batches)
    return np.concatenate(images), np.concatenate(labels)


def _load_digits() -> Dataset:
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
