"""Keras callbacks of a training run: stop at a step count, stop at the first non-finite
loss, and TensorBoard summaries of what the sampler makes (which Keras' own callback
cannot write).

The sampler summaries, each epoch, for a fixed set of noise vectors: per-layer
diversity (std/mean of the L2 norms, and the nearest-neighbour distance modulo scaling
symmetry), histograms of generated weights and of the latent space, and the first
layer's filters of one network as an image. The hyperparameters go to the HParams
dashboard once.
"""

from __future__ import annotations

import contextlib
import math
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from tensorboard.plugins.hparams import api as hparams_api

from hypergan_tf.analysis.diversity import symmetry_aware_diversity
from hypergan_tf.analysis.metrics import l2_std_over_mean
from hypergan_tf.progress import PROGRESS_SECONDS, ProgressLines


class PhaseClock(keras.callbacks.Callback):
    """Where a run's wall time goes, and the validation curve against it.

    Phases: "first_step" (the first step, which traces the graph), "validation" (the
    validation split after every Keras epoch), "summaries" and "backups" (timed by
    SamplerSummaries and RunBackup through `timed`), and "steps": the rest of the fit,
    i.e. the training steps with Keras' and the other callbacks' per-step work. Goes first
    in the callback list, so at an epoch's end it sees that epoch's validation but not yet
    its summaries and backup.

    `curve`: one entry per epoch, {"step", "steps_seconds" (training time so far, without
    the other phases), "wall_seconds", and the epoch's val_ metrics}.
    """

    PHASES = ("first_step", "steps", "validation", "summaries", "backups")

    def __init__(self):
        super().__init__()
        self.seconds = dict.fromkeys(self.PHASES, 0.0)
        self.curve: list[dict] = []
        self.started = self._mark = None
        self._first = True

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_begin(self, batch, logs=None):
        if self._first:
            self._mark = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if self._first:
            self.seconds["first_step"] += time.perf_counter() - self._mark
            self._first = False

    def on_test_begin(self, logs=None):
        self._mark = time.perf_counter()

    def on_test_end(self, logs=None):
        self.seconds["validation"] += time.perf_counter() - self._mark

    @contextlib.contextmanager
    def timed(self, phase: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[phase] += time.perf_counter() - started

    def wall_seconds(self) -> float:
        return 0.0 if self.started is None else time.perf_counter() - self.started

    def update_steps(self) -> float:
        """Set and return "steps": the wall time since training began less the other phases."""
        self.seconds["steps"] = self.wall_seconds() - sum(v for k, v in self.seconds.items() if k != "steps")
        return self.seconds["steps"]

    def on_epoch_end(self, epoch, logs=None):
        steps_seconds = self.update_steps()
        metrics = {k: float(v) for k, v in (logs or {}).items() if k.startswith("val_")}
        self.curve.append({"step": int(self.model.optimizer_steps.numpy()), "steps_seconds": round(steps_seconds, 2),
                           "wall_seconds": round(self.wall_seconds(), 2), **metrics})

    def on_train_end(self, logs=None):
        self.update_steps()


def timed(clock: PhaseClock | None, phase: str):
    """`clock.timed(phase)`, or nothing without a clock."""
    return contextlib.nullcontext() if clock is None else clock.timed(phase)


class StopAtStep(keras.callbacks.Callback):
    """Ends training once the optimizer has taken `steps` steps (also after a resume)."""

    def __init__(self, steps: int):
        super().__init__()
        self.steps = steps

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer_steps.numpy()) >= self.steps:
            self.model.stop_training = True


class StepCountingProgbar(keras.callbacks.ProgbarLogger):
    """Keras' progress line, but an epoch that StopAtStep ends early (a run's last Keras
    epoch, when its steps are not a multiple of the backup interval) ends on the steps it
    ran: Keras would print the epoch's nominal length ("550/550") and divide the epoch's
    time by it (half the true time per step for a half epoch)."""

    def on_epoch_end(self, epoch, logs=None):
        nominal = self.target
        if self.progbar is not None and nominal and 0 < self.seen < nominal:
            self.target = self.progbar.target = self.seen
        try:
            super().on_epoch_end(epoch, logs)
        finally:
            self.target = nominal


class DivergenceGuard(keras.callbacks.Callback):
    """Stops at the first non-finite loss, and at the end of an epoch (before the backup,
    which comes later in the callback list) when any weight is non-finite, so a bad state
    is never checkpointed or saved."""

    def __init__(self):
        super().__init__()
        self.diverged_at: int | None = None
        self.reason = ""
        self.step = 0

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.diverged_at is None and logs and not all(math.isfinite(float(v)) for v in logs.values()):
            self._stop("non-finite loss")

    def on_epoch_end(self, epoch, logs=None):
        if self.diverged_at is None and not all_weights_finite(self.model):
            self._stop("non-finite weights")

    def _stop(self, reason: str) -> None:
        self.diverged_at, self.reason = self.step, reason
        self.model.stop_training = True


def all_weights_finite(model: keras.Model) -> bool:
    """True when every variable of `model` (trainable or not) holds only finite numbers."""
    return all(bool(tf.reduce_all(tf.math.is_finite(v))) for v in model.weights if "float" in str(v.dtype))


class TensorBoard(keras.callbacks.TensorBoard):
    """Keras' TensorBoard callback, with every epoch's scalars written.

    With an integer `update_freq`, Keras (3.15) leaves `record_if(step % update_freq == 0)`
    active when an epoch ends, so epoch scalars were written only for epochs ending on such
    a step (on MNIST, with 550-step epochs and update_freq 100: epochs 2, 4 and 6)."""

    def _log_epoch_metrics(self, epoch, logs):
        with tf.summary.record_if(True):
            super()._log_epoch_metrics(epoch, logs)


class SamplerSummaries(keras.callbacks.Callback):
    """Writes the sampler's summaries under `log_dir` at the end of every epoch."""

    def __init__(self, log_dir: Path, num_networks: int, seed: int, hparams: dict, clock: PhaseClock | None = None):
        super().__init__()
        self.clock = clock
        self.writer = tf.summary.create_file_writer(str(log_dir))
        self.num_networks = num_networks
        self.seed = seed
        self.hparams = hparams
        self.last_diversity: dict[str, float] = {}
        self.last_symmetry_aware: dict[str, float] = {}

    def on_train_begin(self, logs=None):
        with self.writer.as_default():
            hparams_api.hparams({k: v for k, v in self.hparams.items() if isinstance(v, (bool, int, float, str))})

    def on_epoch_end(self, epoch, logs=None):
        with tf.summary.record_if(True), timed(self.clock, "summaries"):  # whatever batch-level condition another callback left active
            self._write(epoch)

    def _write(self, epoch):
        model = self.model
        weights = model.sample_networks(model.networks_available(self.num_networks), self.seed)
        self.last_diversity = l2_std_over_mean(weights)
        self.last_symmetry_aware = symmetry_aware_diversity(model.target, weights)
        step = epoch + 1
        with self.writer.as_default():
            for layer, value in self.last_diversity.items():
                tf.summary.scalar(f"diversity/{layer}_l2_std_over_mean", value, step=step)
            for layer, value in self.last_symmetry_aware.items():
                tf.summary.scalar(f"diversity/{layer}_modulo_scaling", value, step=step)
            for name, value in weights.items():
                tf.summary.histogram(f"weights/{name}", histogram_values(value), step=step)
            for name, value in model.latent_histograms(self.num_networks, self.seed).items():
                tf.summary.histogram(name, value, step=step)
            first = model.target.layers[0]
            image = first.kernel_image(weights[f"{first.name}/kernel"][0])
            if image is not None:
                tf.summary.image(f"filters/{first.name}", image, step=step)
        self.writer.flush()


# TensorBoard's histogram op one-hot encodes every value into its 30 buckets: the conv2
# kernels of 100 MNIST networks (2.56 million values) took 600 MB, a quarter of a training
# run's peak memory. An even subsample of this many values draws the same histogram.
HISTOGRAM_VALUES = 100_000


def histogram_values(values: np.ndarray, limit: int = HISTOGRAM_VALUES) -> np.ndarray:
    """`values` flattened, and if there are more than `limit`, every n-th of them (at most `limit`)."""
    flat = np.ravel(values)
    return flat if flat.size <= limit else flat[:: math.ceil(flat.size / limit)]


class StepProgress(keras.callbacks.Callback):
    """For logs (Keras' verbose=2 prints a line per epoch only): a line every
    PROGRESS_SECONDS with the step, the rate and the time left."""

    def __init__(self, total_steps: int, interval: float = PROGRESS_SECONDS, echo=print):
        super().__init__()
        self.total_steps = total_steps
        self.lines = ProgressLines("step", interval)
        self.echo = echo

    def on_train_batch_end(self, batch, logs=None):
        line = self.lines.update(int(self.model.optimizer_steps.numpy()), self.total_steps)
        if line:
            self.echo(line, flush=True)
