"""`train(config, run_dir)`: data -> weight sampler -> fit() -> weights, logs and config on disk.

Any sampler of `samplers.SAMPLERS` trains here through its hooks (`from_train_config`,
`compile_from_config`, `prepare_training`, `finish_training`); the files it writes are
listed in runs/directory.py.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path

import keras
import tensorflow as tf

from hypergan_tf.atomic import check_free_space, save_weights, weights_file_bytes, write_json
from hypergan_tf.config import TrainConfig
from hypergan_tf.data import load_dataset, resolve_data_dir
from hypergan_tf.data.augment import get_augmentation
from hypergan_tf.data.pipelines import as_inputs, evaluation_batches, split_validation, training_batches
from hypergan_tf.errors import HyperganError
from hypergan_tf.objectives.likelihood import default_likelihood
from hypergan_tf.resources import check_path_name
from hypergan_tf.runs.directory import CHECKPOINTS, CONFIG_FILE, LOGS, SUMMARY_FILE, WEIGHTS_FILE, locked, remove_run
from hypergan_tf.samplers import SAMPLERS, build_sampler
from hypergan_tf.training.backup import RunBackup, read_state, restore
from hypergan_tf.training.callbacks import (DivergenceGuard, PhaseClock, SamplerSummaries, StepCountingProgbar, StepProgress, StopAtStep,
                                           TensorBoard)
from hypergan_tf.training.distribution import make_strategy


# The seeded batch order of a whole run is built before training (data/pipelines.py): 8 bytes
# an image seen, so at most 1 GiB; about 1.3 million steps of 100 images.
MAX_EXAMPLES_SCHEDULED = 2**27


def prepare_run_dir(run_dir: Path, config: TrainConfig, overwrite: bool) -> bool:
    """Decide what to do with `run_dir`; returns True when training should resume.

    Same configuration and an unfinished run with a backup: resume. A finished run, or
    a different configuration: refuse unless `overwrite`, which removes only the
    files a run writes (never anything else in the folder).
    """
    existing = run_dir / CONFIG_FILE
    if existing.exists() and not overwrite:
        old = TrainConfig.load(existing)
        changed = sorted(k for k, v in config.to_dict().items() if k not in TrainConfig.DERIVED and old.to_dict().get(k) != v)
        if old.target_spec is not None and old.target_spec != config.target_spec:
            changed.append("target_spec")  # the same --target file, edited since
        if changed:
            raise HyperganError(
                f"{run_dir} already holds a run with a different configuration ({', '.join(changed)}); "
                "pass --overwrite to replace it, or choose another --run-dir"
            )
        if (run_dir / WEIGHTS_FILE).exists():
            raise HyperganError(f"{run_dir} already holds a finished run; evaluate it, or pass --overwrite to train again")
        if read_state(run_dir / CHECKPOINTS) is not None:
            return True
    if overwrite:
        remove_run(run_dir)
    try:
        (run_dir / CHECKPOINTS).mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise HyperganError(f"cannot create run directory {run_dir} ({err.strerror}); choose a writable --run-dir") from None
    return False


def train(config: TrainConfig, run_dir: str | Path, data_dir: str | Path | None = None, overwrite: bool = False, verbose: int = 2) -> dict:
    """Train the sampler `config` describes; returns the final metrics (also in train_summary.json).

    RUN/.lock is held throughout, so a second process on the same run directory fails at once."""
    run_dir = Path(run_dir)
    check_path_name(run_dir, "--run-dir")
    # An unknown target, a bad spec file or options that do not fit it: fail before loading data.
    SAMPLERS[config.method].check_config(config, config.resolved_target())
    with locked(run_dir):
        return TRAINERS[SAMPLERS[config.method].training](config, run_dir, data_dir, overwrite, verbose)


def prepare_data(config: TrainConfig, data_dir):
    """The run's data and the configuration completed from it: (config with data_dir,
    num_classes, likelihood, input statistics and target_spec filled in, data set,
    (train_x, train_y), (val_x, val_y))."""
    data = load_dataset(config.dataset, data_dir)
    (train_x, train_y), (val_x, val_y) = split_validation(data.train_images, data.train_labels, config.validation_examples, config.seed)
    pixels = as_inputs(train_x)
    root = resolve_data_dir(data_dir)
    config = dataclasses.replace(  # checks the options against the data set's task (e.g. its diversity terms)
        config,
        data_dir=str(root.resolve()) if root else None,
        num_classes=data.num_classes,
        likelihood=default_likelihood(data.task),
        input_mean=float(pixels.mean()),
        input_std=float(pixels.std()),
    )
    del pixels
    target = config.resolved_target()
    config = dataclasses.replace(config, target_spec=target.to_config())
    if tuple(data.image_shape) != tuple(target.input_shape):
        raise HyperganError(
            f"dataset {config.dataset} has images of shape {data.image_shape} but target {config.target} expects {target.input_shape}; choose a matching --target"
        )
    return config, data, (train_x, train_y), (val_x, val_y)


def _train(config: TrainConfig, run_dir: Path, data_dir, overwrite: bool, verbose: int) -> dict:
    strategy = make_strategy(config.strategy)  # before any other TensorFlow op (multiworker)
    if config.deterministic:
        tf.config.experimental.enable_op_determinism()
    config, data, (train_x, train_y), (val_x, val_y) = prepare_data(config, data_dir)
    data_source = data.source
    del data  # every image of the set (MNIST: 55 MB); training reads its own split, train_x
    data_epoch = len(train_y) // config.batch_size
    if data_epoch < 1:
        raise HyperganError(f"--batch-size {config.batch_size} is larger than the {len(train_y)} training examples")
    total_steps = config.steps or config.epochs * data_epoch
    if total_steps * config.batch_size > MAX_EXAMPLES_SCHEDULED:
        raise HyperganError(f"{total_steps:,} steps of {config.batch_size} images is more than one run schedules "
                            f"({MAX_EXAMPLES_SCHEDULED:,} images: the batch order is drawn up front); lower --steps or --epochs")
    # A Keras epoch of this fit is one backup interval (by default one pass over the data).
    steps_per_epoch = min(config.backup_every or data_epoch, total_steps)
    epochs = math.ceil(total_steps / steps_per_epoch)

    with strategy.scope():  # variables, optimizers included, are created inside the scope
        model = build_sampler(config, total_steps)
        model.compile_from_config(config, total_steps)

    resume = prepare_run_dir(run_dir, config, overwrite)
    # A backup is written beside the previous one before that is deleted: two at the peak,
    # of which a resumed run has one on disk already.
    on_disk = sum(p.stat().st_size for p in (run_dir / CHECKPOINTS).glob("ckpt-*.weights.h5")) if resume else 0
    try:
        check_free_space(run_dir / CHECKPOINTS / "x", 2 * weights_file_bytes(model) - on_disk, f"the backups of {run_dir}")
    except HyperganError:
        if not resume:
            remove_run(run_dir)  # only the empty folders prepare_run_dir made
        raise
    if not resume:
        config.save(run_dir / CONFIG_FILE)
    if not resume:  # a resumed run restores what preparation trained (HyperGAN: the mixer)
        model.prepare_training(config)

    initial_epoch = first_batch = 0
    earlier_seconds = 0.0  # the training time of the steps a restored backup holds (None: not recorded)
    if resume:
        state = restore(model, run_dir / CHECKPOINTS)
        initial_epoch, first_batch = state["epochs_done"], state["step"]
        earlier_seconds = state.get("train_seconds")
        if verbose:
            print(f"resuming {run_dir} from its backup at step {state['step']} of {total_steps}")

    guard = DivergenceGuard()
    clock = PhaseClock()
    sampler_summaries = SamplerSummaries(run_dir / LOGS / "sampler", config.summary_networks, config.seed, config.to_dict(), clock)
    callbacks = [
        clock,  # first: see PhaseClock
        guard,
        TensorBoard(log_dir=str(run_dir / LOGS), update_freq=100),
        sampler_summaries,
        RunBackup(run_dir / CHECKPOINTS, is_healthy=lambda: guard.diverged_at is None, clock=clock, earlier_seconds=earlier_seconds),
        StopAtStep(total_steps),
    ]
    if verbose == 2:  # output to a log: Keras prints a line per epoch only
        callbacks.append(StepProgress(total_steps))
    early_stopping = None
    if config.early_stopping and len(val_y):
        # The paper: diversity falls over long training. Keep the epoch whose sampled
        # networks gained most from ensembling on the validation split.
        early_stopping = keras.callbacks.EarlyStopping(
            monitor="val_ensemble_gain", mode="max", patience=config.early_stopping, restore_best_weights=True, verbose=min(verbose, 1))
        callbacks.append(early_stopping)
    if verbose:
        callbacks.append(StepCountingProgbar())  # last, where Keras puts its own (which it adds only if none is given)
    validation = evaluation_batches(val_x, val_y, config.batch_size) if len(val_y) else None
    batches = training_batches(train_x, train_y, config.batch_size, config.seed, total_steps - first_batch, first_batch,
                               augment=get_augmentation(config.augment))
    del train_x  # the pipeline holds a copy (MNIST: 43 MB)
    started = time.perf_counter()
    history = model.fit(
        batches,
        epochs=epochs,
        initial_epoch=initial_epoch,
        steps_per_epoch=steps_per_epoch,
        validation_data=validation,
        callbacks=callbacks,
        shuffle=False,  # the pipeline shuffles
        verbose=verbose,
    )
    finished = time.perf_counter()
    seconds = finished - started
    if guard.diverged_at is not None:
        backup = read_state(run_dir / CHECKPOINTS)
        kept = (f"the last good backup (step {backup['step']}) is kept in {run_dir / 'checkpoints'}" if backup
                else "no backup had been written yet")
        raise HyperganError(
            f"training diverged ({guard.reason}) at step {guard.diverged_at}; {kept}. "
            "Lower --g-learning-rate (or --beta) and train again with --overwrite"
        )
    model.finish_training()
    # The final weights are the model alone: an uncompiled copy holds no optimizer state
    # (which stays in the last backup), a third of the size for Adam. Copied a variable at a
    # time: get_weights holds a NumPy copy of every weight at once (MNIST's default run
    # peaked there, 126 MiB above its training steps and 53 MiB above its backups).
    sampler = build_sampler(config, total_steps)
    for fresh, trained in zip(sampler.weights, model.weights, strict=True):
        fresh.assign(trained)
    save_weights(sampler, run_dir / WEIGHTS_FILE)
    phases = {name: round(value, 2) for name, value in clock.seconds.items()}
    phases["finish"] = round(time.perf_counter() - finished, 2)  # precise batch norm, the weights file
    final = {k: float(v[-1]) for k, v in history.history.items()}
    kept_epoch = None
    if early_stopping is not None and early_stopping.best_weights is not None:
        kept_epoch = early_stopping.best_epoch + 1
        index = early_stopping.best_epoch - initial_epoch
        if 0 <= index < len(history.epoch):
            final = {k: float(v[index]) for k, v in history.history.items()}
    summary = {
        "dataset": config.dataset,
        "data_source": data_source,
        "steps": int(model.optimizer_steps.numpy()),
        "resumed": resume,
        "replicas": strategy.num_replicas_in_sync,
        "precision": model.training_precision,  # the number format the steps ran in (config.json may say "auto")
        "train_seconds": round(seconds, 1),  # the fit: phase_seconds but "finish"
        # The whole run's: a resumed run adds its earlier parts' time up to their last backup
        # (what an uninterrupted run would have taken; the work lost at a kill is not counted).
        # None: resumed from a backup that did not record its time.
        "total_train_seconds": None if earlier_seconds is None else round(earlier_seconds + seconds, 1),
        # Where the time went (training/callbacks.py PhaseClock), and the validation
        # curve against the training steps' time ("steps_seconds") and wall time.
        "phase_seconds": phases,
        "curve": clock.curve,
        "final": final,  # metrics of the epoch whose weights were kept
        "kept_epoch": kept_epoch,  # set when early stopping restored an earlier epoch
        "history": {k: [float(x) for x in v] for k, v in history.history.items()},  # per epoch of this fit
        "diversity_l2_std_over_mean": sampler_summaries.last_diversity,
        "diversity_modulo_scaling": sampler_summaries.last_symmetry_aware,
        "parameters": model.parameter_counts(),
        "validation_networks": model.networks_available(config.eval_networks),  # networks behind the val_ metrics
    }
    write_json(run_dir / SUMMARY_FILE, summary)
    return summary


def _evolve(config: TrainConfig, run_dir: Path, data_dir, overwrite: bool, verbose: int) -> dict:
    from hypergan_tf.training.evolution import evolve  # imports neat-python, which gradient training does not need

    return evolve(config, run_dir, data_dir, overwrite, verbose)


# WeightSampler.training -> the function that trains such a sampler (RUN/.lock held).
TRAINERS = {"gradient": _train, "evolution": _evolve}
