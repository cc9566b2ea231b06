"""Writing files so that a crash or a kill never leaves a half-written one behind.

Everything is written under a temporary name in the same folder (`x.partial.json` for
`x.json`, keeping the suffixes that Keras and matplotlib look at), then renamed, which
is atomic on one file system.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path


def partial_path(path: Path) -> Path:
    """`ckpt.weights.h5` -> `ckpt.partial.weights.h5`: same folder, same suffixes."""
    stem, dot, suffixes = path.name.partition(".")
    return path.with_name(f"{stem}.partial{dot}{suffixes}")


@contextlib.contextmanager
def atomic_path(path: str | Path):
    """Yields the temporary path to write; renames it to `path` only if the block succeeds."""
    path = Path(path)
    tmp = partial_path(path)
    try:
        yield tmp
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | Path, value) -> None:
    write_text(path, json.dumps(value, indent=2) + "\n")


def save_weights(model, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        model.save_weights(tmp)


def save_figure(figure, path: str | Path) -> None:
    """Save a matplotlib figure as PNG (creating its folder) and close it."""
    import matplotlib.pyplot as plt

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=100)
    plt.close(figure)
