"""The standard offline file formats: MNIST-style IDX files and image folders
(`<split>/<class>/*.jpg|png`). Both give uint8 images [N, H, W, C] and int32 labels [N]."""

from __future__ import annotations

import gzip
import math
from pathlib import Path

import numpy as np

from hypergan_tf.errors import HyperganError
from hypergan_tf.native_output import captured_native_stderr

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


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
    size = math.prod(dims)  # exact: NumPy's int64 product wraps around for a corrupt header
    if len(raw) - header != size:
        raise HyperganError(f"{path} holds {len(raw) - header:,} bytes of data but its header promises {size:,} "
                            f"(dimensions {' x '.join(map(str, dims))}); the file is truncated or corrupt: replace it")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def read_idx_split(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """`split` is "train" or "t10k"; returns images [N, H, W, 1] uint8 and labels [N] int32."""
    images = _read_idx(_find_split_file(folder, f"{split}-images-idx3-ubyte"), 2051)
    labels = _read_idx(_find_split_file(folder, f"{split}-labels-idx1-ubyte"), 2049)
    if len(images) != len(labels):
        raise HyperganError(f"{folder}: {split} has {len(images)} images but {len(labels)} labels; the files do not belong together")
    return images[..., None], labels.astype(np.int32)


def image_folder_classes(folder: Path) -> list[str]:
    """The class folders of `folder`, sorted; hidden entries (`.ipynb_checkpoints`) are not classes."""
    if not folder.is_dir():
        raise HyperganError(f"{folder} not found; image data sets need train/<class>/ and test/<class>/ folders")
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise HyperganError(f"{folder} has no class folders; expected {folder}/<class>/*.jpg")
    return classes


def read_image_folder(folder: Path, classes: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`folder/<class>/*.jpg|png` -> images [N, H, W, C], labels [N]: the label of a class is
    its index in `classes` (default: this folder's classes, sorted), which the folder's
    class folders must equal, so that every split labels a class alike."""
    import tensorflow as tf

    found = image_folder_classes(folder)
    if classes is not None and found != list(classes):
        missing, extra = sorted(set(classes) - set(found)), sorted(set(found) - set(classes))
        raise HyperganError(f"{folder} has other class folders than the training split"
                            + (f" (missing {missing})" if missing else "") + (f" (extra {extra})" if extra else "")
                            + "; every split needs the same class folders, or the labels would shift")
    classes = found
    images, labels = [], []
    for index, cls in enumerate(classes):
        files = sorted(p for p in (folder / cls).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise HyperganError(f"class folder {folder / cls} holds no .jpg or .png images; remove it or add its images")
        with captured_native_stderr():  # libjpeg prints "Improper call to JPEG library" for a damaged file
            for path in files:
                try:
                    image = tf.io.decode_image(tf.io.read_file(str(path)), expand_animations=False).numpy()
                except tf.errors.OpError:
                    raise HyperganError(f"{path} is not a readable image (damaged or truncated); replace or remove it") from None
                images.append(image)
                labels.append(index)
    shapes = {image.shape for image in images}
    if len(shapes) != 1:
        raise HyperganError(f"{folder} holds images of different sizes {sorted(shapes)[:3]}; all images must share one size")
    return np.stack(images), np.asarray(labels, np.int32)
