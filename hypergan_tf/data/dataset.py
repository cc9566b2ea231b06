"""`Dataset`: one data set in memory, as arrays of inputs and targets."""

from __future__ import annotations

import dataclasses
from typing import Callable

import numpy as np

TASKS = ("classification", "regression")


@dataclasses.dataclass
class Dataset:
    """A classification set (`task` "classification") holds uint8 images [N, H, W, C] and
    int32 labels [N] in `*_images` / `*_labels`; a regression set holds float32 inputs
    [N, *input_shape] and float32 targets [N] there, and `num_classes` is its number of
    outputs (1). `train_*` is None for test-only sets.

    A generated regression set also knows the interval its training inputs were drawn
    from (`input_range`: `evaluate` reports inside against outside it) and its noise-free
    function (`truth`, for plots)."""

    name: str
    source: str
    num_classes: int
    test_images: np.ndarray
    test_labels: np.ndarray
    train_images: np.ndarray | None = None
    train_labels: np.ndarray | None = None
    task: str = "classification"
    input_range: tuple[float, float] | None = None
    truth: Callable[[np.ndarray], np.ndarray] | None = None

    @property
    def image_shape(self) -> tuple[int, ...]:
        """The shape of one input (an image [H, W, C], or [features])."""
        return tuple(self.test_images.shape[1:])

    def describe(self) -> str:
        """What its examples are, e.g. "10 classes, images (28, 28, 1)"."""
        return {"classification": f"{self.num_classes} classes, images {self.image_shape}",
                "regression": f"regression, {self.num_classes} output, inputs {self.image_shape}"}[self.task]
