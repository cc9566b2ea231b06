"""Writing files so that a crash or a kill never leaves a half-written one behind.

Everything is written under a temporary name in the same folder (`x.partial.json` for
`x.json`, keeping the suffixes that Keras and matplotlib look at), then renamed, which
is atomic on one file system.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import gc
import json
import math
import os
import shutil
import sys
from pathlib import Path

import numpy as np

from hypergan_tf.errors import HyperganError


def partial_path(path: Path) -> Path:
    """`ckpt.weights.h5` -> `ckpt.partial.weights.h5`: same folder, same suffixes."""
    stem, dot, suffixes = path.name.partition(".")
    return path.with_name(f"{stem}.partial{dot}{suffixes}")


@contextlib.contextmanager
def exclusive_lock(path: str | Path, busy: str):
    """Hold an exclusive lock on the file `path` (created if missing) for the block; a second
    holder fails at once with a HyperganError saying `busy`. The kernel releases the lock
    when the process ends, even by SIGKILL."""
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise HyperganError(busy) from None
        yield
    finally:
        os.close(handle)


def write_failure(path: str | Path, err: OSError) -> HyperganError:
    """The one-line error for a failed write (disk full, read-only, no permission, ...)."""
    reason = os.strerror(err.errno) if err.errno else str(err).splitlines()[0]
    advice = {errno.ENOSPC: "free some disk space", errno.EDQUOT: "free some of your disk quota",
              errno.EFBIG: "raise the file size limit (ulimit -f)",
              errno.ENAMETOOLONG: "use shorter names (at most 255 bytes a folder or file name)"}.get(
        err.errno, "choose a writable location")
    return HyperganError(f"cannot write {path} ({reason}); {advice} and run the command again "
                         "(no half-written file was kept)")


@contextlib.contextmanager
def _quiet_unraisable():
    """h5py reports a failed close (disk full) from a destructor as "Exception ignored"
    tracebacks; they repeat the error raised by the write, so keep them off the terminal."""
    saved = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        yield
    finally:
        gc.collect()
        sys.unraisablehook = saved


@contextlib.contextmanager
def atomic_path(path: str | Path):
    """Yields the temporary path to write; renames it to `path` only if the block succeeds.
    A failed write (e.g. disk full) leaves the old file, no temporary one, and raises a
    HyperganError naming the file."""
    path = Path(path)
    tmp = partial_path(path)
    try:
        with _quiet_unraisable():
            yield tmp
            tmp.replace(path)
    except OSError as err:
        raise write_failure(path, err) from None
    finally:
        with contextlib.suppress(OSError):  # e.g. a read-only file system refuses even this
            tmp.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | Path, value) -> None:
    write_text(path, json.dumps(value, indent=2) + "\n")


def weights_file_bytes(model) -> int:
    """About the size of `model.save_weights`: its variables and those of every optimizer
    it holds (HyperGAN has two), as Keras saves them."""
    import keras

    variables = list(model.weights)
    optimizers = {id(value): value for value in vars(model).values() if isinstance(value, keras.optimizers.Optimizer)}
    for optimizer in optimizers.values():
        variables += list(optimizer.variables)
    return sum(math.prod(v.shape) * np.dtype(v.dtype).itemsize for v in variables)


def store_variables(store, variables) -> None:
    """What a `save_own_variables` override calls: each variable goes into Keras' weights
    store as a tensor read from it, under its index, as Keras' own layers and optimizers
    store them (same file). The store converts what it is given with np.array, which copies
    a variable twice (its numpy() copy, then np.array's own) but a tensor once: a backup's
    transient memory is one copy of its largest variable, not two (HyperGAN on MNIST: the
    conv2 generator's 52 MB kernel and its two Adam slots)."""
    import tensorflow as tf

    for index, variable in enumerate(variables):
        store[str(index)] = tf.convert_to_tensor(variable)


def save_weights(model, path: str | Path) -> None:
    """Keras weights (with the optimizer state when compiled), checked first against the
    free space: h5py fails badly on a full disk (tracebacks from destructors, even a
    segfault at exit), so a write that cannot fit is not started."""
    check_free_space(path, weights_file_bytes(model))
    with atomic_path(path) as tmp:
        model.save_weights(tmp)


def check_free_space(path: str | Path, nbytes: int, what: str | None = None) -> None:
    """A HyperganError when `nbytes` (plus 1 MB of headers) will not fit beside `path`."""
    folder = Path(path).parent
    free = shutil.disk_usage(folder).free
    if nbytes + 2**20 > free:
        raise HyperganError(f"cannot write {what or path}: it needs about {nbytes / 1e6:,.0f} MB but {folder} has "
                            f"{free / 1e6:,.0f} MB free; free some disk space and run the command again (no half-written file was kept)")


def save_figure(figure, path: str | Path) -> None:
    """Save a matplotlib figure as PNG (creating its folder) and close it."""
    import matplotlib.pyplot as plt

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=100)
    plt.close(figure)
