"""Named target networks, and `get_target` for a preset name or a JSON spec file."""

from __future__ import annotations

import json
from pathlib import Path

from hypergan_tf.errors import HyperganError
from hypergan_tf.targets.layers import Conv, Dense
from hypergan_tf.targets.spec import TargetSpec

PRESETS: dict[str, TargetSpec] = {
    # The authors' MNIST network: 28 -> conv5 24 -> pool 12 -> conv5 8 -> pool 4; 4*4*32 = 512.
    "mnist-small": TargetSpec(
        "mnist-small", (28, 28, 1), 10,
        (Conv("conv1", 32, kernel_size=5), Conv("conv2", 32, kernel_size=5), Dense("linear1", 10, activation=None)),
    ),
    # The paper's CIFAR network: 32 -> 30 -> 15 -> 13 -> 6 -> 4 -> 2; 2*2*64 = 256.
    "cifar-small": TargetSpec(
        "cifar-small", (32, 32, 3), 10,
        (Conv("conv1", 16), Conv("conv2", 32), Conv("conv3", 64), Dense("linear1", 128), Dense("linear2", 10, activation=None)),
    ),
    # The authors' code's CIFAR "MedNet": conv 3->32->64->64, 3x3 valid, max pool after each,
    # dense 256 -> 128 -> 10.
    "cifar-mednet": TargetSpec(
        "cifar-mednet", (32, 32, 3), 10,
        (Conv("conv1", 32), Conv("conv2", 64), Conv("conv3", 64), Dense("linear1", 128), Dense("linear2", 10, activation=None)),
    ),
    # The 1D regression network of Hernandez-Lobato & Adams (2015) and the HyperGAN paper's
    # toy task: x -> 100 ReLU units -> y (one output, no activation).
    "regression-mlp": TargetSpec(
        "regression-mlp", (1,), 1, (Dense("hidden", 100, activation="relu"), Dense("output", 1, activation=None)),
    ),
}


def load_target_file(path: str | Path) -> TargetSpec:
    """A target from a JSON file (the form `TargetSpec.to_config` writes), checked with
    errors that name the file and the layer."""
    path = Path(path)
    if not path.is_file():
        raise HyperganError(f"target file {path} not found; give a preset ({', '.join(PRESETS)}) or the path of a JSON target spec")
    try:
        values = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise HyperganError(f"target file {path} is not valid JSON ({err})") from None
    return TargetSpec.from_config(values, where=f"target file {path}")


def get_target(name: str, num_classes: int | None = None) -> TargetSpec:
    """A preset by name, or a spec from a `.json` file, with its logits layer resized to
    `num_classes` if given."""
    if name in PRESETS:
        spec = PRESETS[name]
    elif str(name).endswith(".json") or Path(name).is_file():
        spec = load_target_file(name)
    else:
        raise HyperganError(f"unknown target {name!r}; choose one of: {', '.join(sorted(PRESETS))}, or give the path of a JSON target spec")
    return spec if num_classes is None else spec.with_num_classes(num_classes)
