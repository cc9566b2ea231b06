"""`Dataset`: one data set in memory, as uint8 image arrays."""

from __future__ import annotations

import dataclasses

import numpy as np


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
