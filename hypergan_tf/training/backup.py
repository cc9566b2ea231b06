"""Backups that survive SIGKILL: resume a killed training by running the same command.

Every `every` steps (one Keras epoch of the fit; default one pass over the data) the
callback writes, in this order:

1. `checkpoints/ckpt-<step>.weights.h5`: model *and* optimizer state, written under a
   temporary name and renamed, so the file is complete or absent;
2. `checkpoints/state.json` (also by rename): the step, the finished epochs, the
   name of the checkpoint from step 1 and the training time behind it (`train_seconds`:
   this fit's so far plus the earlier parts' of a resumed run, each up to its last backup).

A kill between the two leaves the previous state.json, which still names a complete
older checkpoint: a later run never trusts a half-written file. Older checkpoints are
deleted only after the new state is in place.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import keras

from hypergan_tf.atomic import save_weights, write_json
from hypergan_tf.errors import HyperganError
from hypergan_tf.training.callbacks import timed

STATE_FILE = "state.json"


class RunBackup(keras.callbacks.Callback):
    """Writes a backup at the end of every (Keras) epoch unless training diverged."""

    def __init__(self, folder: Path, is_healthy=lambda: True, clock=None, earlier_seconds: float | None = 0.0):
        super().__init__()
        self.folder = Path(folder)
        self.is_healthy = is_healthy
        self.clock = clock  # a callbacks.PhaseClock: the time goes to its "backups"
        # Training time of the steps the restored backup holds (None: a backup written
        # before backups recorded it, so the total is unknown).
        self.earlier_seconds = earlier_seconds
        self.began = time.perf_counter()

    def on_train_begin(self, logs=None):
        self.began = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if not self.is_healthy():
            return
        with timed(self.clock, "backups"):
            self._write(epoch)

    def _write(self, epoch):
        step = int(self.model.optimizer_steps.numpy())
        name = f"ckpt-{step:08d}.weights.h5"
        save_weights(self.model, self.folder / name)
        state = {
            "step": step,
            "epochs_done": epoch + 1,
            "checkpoint": name,
            "train_seconds": None if self.earlier_seconds is None else round(self.earlier_seconds + time.perf_counter() - self.began, 1),
        }
        write_json(self.folder / STATE_FILE, state)
        for old in self.folder.glob("ckpt-*.weights.h5"):
            if old.name != name:
                old.unlink(missing_ok=True)

    @property
    def latest(self) -> Path | None:
        state = read_state(self.folder)
        return None if state is None else self.folder / state["checkpoint"]


def read_state(folder: Path) -> dict | None:
    """The last complete backup's state, or None when there is none."""
    path = Path(folder) / STATE_FILE
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text())
        if not (isinstance(state["step"], int) and isinstance(state["epochs_done"], int) and isinstance(state["checkpoint"], str)):
            raise TypeError("state.json fields of the wrong type")
        (Path(folder) / state["checkpoint"]).stat()
        return state
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, OSError) as err:
        raise HyperganError(
            f"the backup in {folder} is damaged ({type(err).__name__}); pass --overwrite to start this run again"
        ) from None


def restore(model, folder: Path) -> dict:
    """Load the last backup into a compiled model (weights and optimizer state; the
    training noise is a function of the restored step, see HyperGAN.step_normal)."""
    for leftover in Path(folder).glob("*.partial*"):  # from a write that a kill interrupted
        leftover.unlink()
    state = read_state(folder)
    path = Path(folder) / state["checkpoint"]
    try:
        model.load_weights(path)
    except Exception as err:  # h5py and Keras raise several types for damaged files
        raise HyperganError(f"backup {path} cannot be loaded ({type(err).__name__}); pass --overwrite to start again") from None
    return state
