"""`train(config, run_dir)`: data -> HyperGAN -> fit() -> weights, logs and config on disk.

Run directory layout::

    RUN/config.json                  the resolved TrainConfig
    RUN/model.weights.h5             final weights (written when training ends)
    RUN/checkpoints/                 the last backup (weights + optimizer state, see backup.py)
    RUN/logs/{train,validation}/     Keras scalars (losses, accuracies)
    RUN/logs/sampler/                diversity, weight/code histograms, filters, HParams
    RUN/train_summary.json           final metrics and timing
"""

from __future__ import annotations

import dataclasses
import math
import shutil
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from hypergan_tf.atomic import save_weights, write_json
from hypergan_tf.backup import RunBackup, read_state, restore
from hypergan_tf.baselines import BaselineEnsemble
from hypergan_tf.config import TrainConfig
from hypergan_tf.data import Dataset, load_dataset, resolve_data_dir
from hypergan_tf.distribution import make_strategy
from hypergan_tf.errors import HyperganError
from hypergan_tf.hypergan import HyperGAN, build_hypergan
from hypergan_tf.summaries import SamplerSummaries
from hypergan_tf.target import get_target

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
SUMMARY_FILE = "train_summary.json"


def _to_pixels(images, labels):
    return tf.cast(images, tf.float32) / 255.0, labels


def training_batches(images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int, num_batches: int, first_batch: int = 0) -> tf.data.Dataset:
    """Batches `first_batch .. first_batch + num_batches` of the seeded training order.

    The order (a fresh permutation of the data per pass, drawn with NumPy) depends on
    the seed alone, so a resumed run continues exactly where it stopped, and a
    distributed run sees the same batches as a single device (tf.data's own shuffle
    is re-seeded when a strategy distributes the pipeline).
    """
    per_pass = len(labels) // batch_size
    passes = math.ceil((first_batch + num_batches) / per_pass)
    rng = np.random.default_rng(seed)
    order = np.concatenate([rng.permutation(len(labels))[: per_pass * batch_size] for _ in range(passes)])
    order = order[first_batch * batch_size : (first_batch + num_batches) * batch_size]
    images, labels = tf.constant(images), tf.constant(labels)
    ds = tf.data.Dataset.from_tensor_slices(order).batch(batch_size, drop_remainder=True)
    ds = ds.map(lambda index: (tf.gather(images, index), tf.gather(labels, index)), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.map(_to_pixels, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def evaluation_batches(images: np.ndarray, labels: np.ndarray, batch_size: int) -> tf.data.Dataset:
    """uint8 images -> batches of float pixels in [0, 1], in order."""
    ds = tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch_size)
    return ds.map(_to_pixels, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def split_validation(images, labels, count: int, seed: int):
    """Hold out `count` training examples (at most 10%) for monitoring; the test split stays unseen."""
    count = min(count, len(labels) // 10)
    order = np.random.default_rng(seed).permutation(len(labels))
    val, train = order[:count], order[count:]
    return (images[train], labels[train]), (images[val], labels[val])


class StopAtStep(keras.callbacks.Callback):
    """Ends training once the optimizer has taken `steps` steps (also after a resume)."""

    def __init__(self, steps: int):
        super().__init__()
        self.steps = steps

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer_steps.numpy()) >= self.steps:
            self.model.stop_training = True


class DivergenceGuard(keras.callbacks.Callback):
    """Stops at the first non-finite loss, before a bad state can be checkpointed."""

    def __init__(self):
        super().__init__()
        self.diverged_at: int | None = None
        self.step = 0

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if logs and not all(math.isfinite(float(v)) for v in logs.values()):
            self.diverged_at = self.step
            self.model.stop_training = True


RUN_FILES = (CONFIG_FILE, WEIGHTS_FILE, SUMMARY_FILE, "evaluation.json", "checkpoints", "logs")


def prepare_run_dir(run_dir: Path, config: TrainConfig, overwrite: bool) -> bool:
    """Decide what to do with `run_dir`; returns True when training should resume.

    Same configuration and an unfinished run with a backup: resume. A finished run, or
    a different configuration: refuse unless `overwrite`, which removes only the
    files a run writes (never anything else in the folder).
    """
    existing = run_dir / CONFIG_FILE
    if existing.exists() and not overwrite:
        old = TrainConfig.load(existing)
        derived = ("data_dir", "num_classes", "input_mean", "input_std")
        changed = sorted(k for k, v in config.to_dict().items() if k not in derived and old.to_dict().get(k) != v)
        if changed:
            raise HyperganError(
                f"{run_dir} already holds a run with a different configuration ({', '.join(changed)}); "
                "pass --overwrite to replace it, or choose another --run-dir"
            )
        if (run_dir / WEIGHTS_FILE).exists():
            raise HyperganError(f"{run_dir} already holds a finished run; evaluate it, or pass --overwrite to train again")
        if read_state(run_dir / "checkpoints") is not None:
            return True
    if overwrite:
        for name in RUN_FILES:
            path = run_dir / name
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    try:
        (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise HyperganError(f"cannot create run directory {run_dir} ({err.strerror}); choose a writable --run-dir") from None
    return False


def train(config: TrainConfig, run_dir: str | Path, data_dir: str | Path | None = None, overwrite: bool = False, verbose: int = 2) -> dict:
    """Train a HyperGAN as `config` says; returns the final metrics (also in train_summary.json)."""
    run_dir = Path(run_dir)
    get_target(config.target)  # unknown target: fail before loading data
    strategy = make_strategy(config.strategy)  # before any other TensorFlow op (multiworker)
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
    data = load_dataset(config.dataset, data_dir)
    (train_x, train_y), (val_x, val_y) = split_validation(data.train_images, data.train_labels, config.validation_examples, config.seed)
    pixels = train_x.astype(np.float32) / 255.0
    root = resolve_data_dir(data_dir)
    config = dataclasses.replace(
        config,
        data_dir=str(root.resolve()) if root else None,
        num_classes=data.num_classes,
        input_mean=float(pixels.mean()),
        input_std=float(pixels.std()),
    )
    del pixels
    target = get_target(config.target, config.num_classes)
    if tuple(data.image_shape) != tuple(target.input_shape):
        raise HyperganError(
            f"dataset {config.dataset} has images of shape {data.image_shape} but target {config.target} expects {target.input_shape}; choose a matching --target"
        )
    data_epoch = len(train_y) // config.batch_size
    if data_epoch < 1:
        raise HyperganError(f"--batch-size {config.batch_size} is larger than the {len(train_y)} training examples")
    total_steps = config.steps or config.epochs * data_epoch
    # A Keras epoch of this fit is one backup interval (by default one pass over the data).
    steps_per_epoch = min(config.backup_every or data_epoch, total_steps)
    epochs = math.ceil(total_steps / steps_per_epoch)

    resume = prepare_run_dir(run_dir, config, overwrite)
    if not resume:
        config.save(run_dir / CONFIG_FILE)

    with strategy.scope():  # variables, optimizers included, are created inside the scope
        model = build_model(config, total_steps)
        g_lr = config.g_learning_rate
        if config.lr_schedule == "cosine":
            g_lr = keras.optimizers.schedules.CosineDecay(config.g_learning_rate, decay_steps=total_steps, alpha=0.01)
        if isinstance(model, HyperGAN):
            model.compile(
                g_optimizer=keras.optimizers.Adam(g_lr),
                d_optimizer=keras.optimizers.Adam(config.d_learning_rate, beta_1=0.5),
            )
        else:
            model.compile(optimizer=keras.optimizers.Adam(g_lr))
    if isinstance(model, HyperGAN) and not resume:  # a resumed run restores the trained mixer
        model.pretrain_mixer(config.mixer_pretrain_steps)

    initial_epoch = first_batch = 0
    if resume:
        state = restore(model, run_dir / "checkpoints")
        initial_epoch, first_batch = state["epochs_done"], state["step"]
        if verbose:
            print(f"resuming {run_dir} from its backup at step {state['step']} of {total_steps}")

    guard = DivergenceGuard()
    sampler_summaries = SamplerSummaries(run_dir / "logs" / "sampler", config.summary_networks, config.seed, config.to_dict())
    callbacks = [
        guard,
        keras.callbacks.TensorBoard(log_dir=str(run_dir / "logs"), update_freq=100),
        sampler_summaries,
        RunBackup(run_dir / "checkpoints", is_healthy=lambda: guard.diverged_at is None),
        StopAtStep(total_steps),
    ]
    early_stopping = None
    if config.early_stopping and len(val_y):
        # The paper: diversity falls over long training. Keep the epoch whose sampled
        # networks gained most from ensembling on the validation split.
        early_stopping = keras.callbacks.EarlyStopping(
            monitor="val_ensemble_gain", mode="max", patience=config.early_stopping, restore_best_weights=True, verbose=min(verbose, 1))
        callbacks.append(early_stopping)
    validation = evaluation_batches(val_x, val_y, config.batch_size) if len(val_y) else None
    started = time.perf_counter()
    history = model.fit(
        training_batches(train_x, train_y, config.batch_size, config.seed, total_steps - first_batch, first_batch),
        epochs=epochs,
        initial_epoch=initial_epoch,
        steps_per_epoch=steps_per_epoch,
        validation_data=validation,
        callbacks=callbacks,
        shuffle=False,  # the pipeline shuffles
        verbose=verbose,
    )
    seconds = time.perf_counter() - started
    if guard.diverged_at is not None:
        backup = read_state(run_dir / "checkpoints")
        kept = (f"the last good backup (step {backup['step']}) is kept in {run_dir / 'checkpoints'}" if backup
                else "no backup had been written yet")
        raise HyperganError(
            f"training diverged (non-finite loss) at step {guard.diverged_at}; {kept}. "
            "Lower --g-learning-rate (or --beta) and train again with --overwrite"
        )
    if isinstance(model, HyperGAN):
        model.recompute_batch_norm_statistics()
    save_weights(model, run_dir / WEIGHTS_FILE)
    final = {k: float(v[-1]) for k, v in history.history.items()}
    kept_epoch = None
    if early_stopping is not None and early_stopping.best_weights is not None:
        kept_epoch = early_stopping.best_epoch + 1
        index = early_stopping.best_epoch - initial_epoch
        if 0 <= index < len(history.epoch):
            final = {k: float(v[index]) for k, v in history.history.items()}
    summary = {
        "dataset": config.dataset,
        "data_source": data.source,
        "steps": int(model.optimizer_steps.numpy()),
        "resumed": resume,
        "replicas": strategy.num_replicas_in_sync,
        "train_seconds": round(seconds, 1),
        "final": final,  # metrics of the epoch whose weights were kept
        "kept_epoch": kept_epoch,  # set when early stopping restored an earlier epoch
        "history": {k: [float(x) for x in v] for k, v in history.history.items()},  # per epoch of this fit
        "diversity_l2_std_over_mean": sampler_summaries.last_diversity,
        "diversity_modulo_scaling": sampler_summaries.last_symmetry_aware,
    }
    write_json(run_dir / SUMMARY_FILE, summary)
    return summary


def build_model(config: TrainConfig, total_steps: int = 1) -> HyperGAN | BaselineEnsemble:
    """The model a configuration describes: a HyperGAN, or one of the baselines;
    `total_steps` (the length of training) spans the beta schedule."""
    if config.method == "hypergan":
        return build_hypergan(config, total_steps)
    keras.utils.set_random_seed(config.seed)
    return BaselineEnsemble(
        get_target(config.target, config.num_classes), config.method, config.members, config.dropout_rate,
        masks_per_step=config.networks_per_step, eval_networks=config.eval_networks,
        input_mean=config.input_mean or 0.0, input_std=config.input_std or 1.0, seed=config.seed,
    )


def load_test_split(config: TrainConfig, dataset: str | None = None, data_dir=None) -> Dataset:
    """The test split of `dataset` (default: the run's own) for analysing a run.

    Looked up in `data_dir`, else $HYPERGAN_TF_DATA_DIR, else where the run found its
    data; its images must fit the run's target network.
    """
    data = load_dataset(dataset or config.dataset, resolve_data_dir(data_dir) or config.data_dir, need_train=False)
    expected = get_target(config.target, config.num_classes).input_shape
    if tuple(data.image_shape) != tuple(expected):
        raise HyperganError(f"dataset {data.name} has images of shape {data.image_shape}, but the run's networks expect {expected}")
    return data


def load_run(run_dir: str | Path, weights: str = WEIGHTS_FILE) -> tuple[TrainConfig, HyperGAN | BaselineEnsemble]:
    """Rebuild a trained HyperGAN or baseline from its run directory."""
    run_dir = Path(run_dir)
    config = TrainConfig.load(run_dir / CONFIG_FILE)
    path = run_dir / weights
    if not path.is_file():
        raise HyperganError(f"{path} not found: training in {run_dir} did not finish; train again, or resume it")
    model = build_model(config)
    try:
        model.load_weights(path)
    except Exception as err:  # h5py / Keras raise several types for damaged files
        raise HyperganError(f"{path} cannot be loaded ({type(err).__name__}: {err}); the file is damaged: train again") from None
    return config, model
