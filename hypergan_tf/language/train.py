"""Training and evaluation of the character-level language model.

`train_lm` validates everything (options, text, split) before it touches the run
directory, trains with truncated BPTT until `steps` or the `minutes` budget (training time
only, evaluation excluded), then measures bits per character on the whole validation and
test parts. The run directory (runs/directory.py names every file):

    RUN/config.json       the LMConfig, with the vocabulary and the text's SHA-256
    RUN/logs/train/       TensorBoard scalars every `log_every` steps: loss (nats), bpc
    RUN/logs/validation/  bpc on the whole validation part, at the last step
    RUN/model.weights.h5  the final weights
    RUN/lm_result.json    RESULT_KEYS (below), written last: a run that has it is finished

`reevaluate(run_dir)` rebuilds the model from config.json and the weights, reloads the
same text (refusing another one) and measures both parts again.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np

from hypergan_tf.atomic import save_weights, write_json
from hypergan_tf.errors import HyperganError
from hypergan_tf.language.config import LMConfig
from hypergan_tf.language.data import (Split, Windows, encode, evaluation_streams, fingerprint, load_text, split_text,
                                       vocabulary_of)
from hypergan_tf.language.model import build_model, count_parameters
from hypergan_tf.runs.directory import CONFIG_FILE, LM_RESULT_FILE, LOGS, WEIGHTS_FILE, locked, remove_run

# The keys of RUN/lm_result.json (and of the dict train_lm returns), in the README.
RESULT_KEYS = ("cell", "parameters", "steps", "stopped_by", "train_seconds", "train_cpu_seconds", "final_train_bpc", "validation_bpc", "test_bpc",
               "train_characters", "validation_characters", "test_characters", "vocab_size", "source", "seed")


def prepare(config: LMConfig) -> tuple[LMConfig, Split]:
    """Load and split the text of `config`; the config gains source, vocabulary and
    fingerprint. Every bad input fails here, before anything is written."""
    import dataclasses

    text, source = load_text(config.text_file, config.corpus)
    if config.vocabulary is not None:  # re-evaluation: the same text as in training
        if fingerprint(text) != config.text_sha256:
            raise HyperganError(f"the text ({source}) is not the one this run was trained on (SHA-256 differs); "
                                "give the same --text file or --corpus")
        vocabulary = config.vocabulary
    else:
        vocabulary = vocabulary_of(text)
        config = dataclasses.replace(config, source=source, vocabulary=vocabulary, text_sha256=fingerprint(text))
    ids = encode(text, vocabulary)
    return config, split_text(ids, config.validation_fraction, config.test_fraction, config.batch_size, config.seq_len)


def cross_entropy(targets, logits):
    """Per-character cross-entropy in nats: [batch, time]."""
    import keras

    return keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)


def evaluate_bpc(model, inputs: np.ndarray, targets: np.ndarray, streams: int, chunk: int, state_chunks: int | None = None) -> float:
    """Bits per character over every character of `targets`, each predicted from the text
    before it: the part is cut into `streams` parallel pieces (evaluation_streams), read
    `chunk` characters at a time with the state carried, restarted from zeros every
    `state_chunks` chunks (None: never), as in training (Windows); mean nats / ln 2."""
    import tensorflow as tf

    x, y, mask = evaluation_streams(inputs, targets, streams)

    @tf.function
    def chunk_nats(x, y, mask, states):
        logits, states = model(x, states)
        return tf.reduce_sum(cross_entropy(y, logits) * mask), states

    states = model.initial_states(x.shape[0])
    total = 0.0
    for k, a in enumerate(range(0, x.shape[1], chunk)):
        if state_chunks is not None and k > 0 and k % state_chunks == 0:
            states = model.initial_states(x.shape[0])
        nats, states = chunk_nats(x[:, a: a + chunk], y[:, a: a + chunk], mask[:, a: a + chunk], states)
        total += float(nats)
    return total / len(targets) / math.log(2)


def _measure(model, config: LMConfig, split: Split) -> dict:
    bpc = {part: evaluate_bpc(model, *split.targets(part), config.eval_streams, config.seq_len, config.state_windows)
           for part in ("validation", "test")}
    return {"validation_bpc": bpc["validation"], "test_bpc": bpc["test"], "train_characters": int(split.train_end),
            "validation_characters": int(split.validation_end - split.train_end),
            "test_characters": int(len(split.ids) - split.validation_end)}


def _prepare_run_dir(run_dir: Path, config: LMConfig, overwrite: bool) -> None:
    """A new run goes into an empty (or new) folder; an unfinished run of the same config
    starts again; anything else needs --overwrite (which removes only a run's own files)."""
    existing = run_dir / CONFIG_FILE
    if existing.exists() and not overwrite:
        old = LMConfig.load(existing)
        changed = config.changed_from(old)
        if changed:
            raise HyperganError(f"{run_dir} already holds a language model run with a different configuration "
                                f"({', '.join(changed)}); pass --overwrite to replace it, or choose another --run-dir")
        if (run_dir / LM_RESULT_FILE).exists():
            raise HyperganError(f"{run_dir} already holds a finished run; re-evaluate it with --evaluate, "
                                "or pass --overwrite to train again")
    remove_run(run_dir)  # an unfinished run of the same configuration starts again; --overwrite: the old run goes


def train_lm(config: LMConfig, run_dir: str | Path | None = None, overwrite: bool = False, progress=None) -> dict:
    """Train the model of `config`; returns the RESULT_KEYS dict. Without `run_dir`, nothing
    is written. `progress(done, total)` is called after every step."""
    config, split = prepare(config)
    if run_dir is None:
        return _train(config, split, None, progress)
    run_dir = Path(run_dir)
    with locked(run_dir):
        _prepare_run_dir(run_dir, config, overwrite)
        config.save(run_dir / CONFIG_FILE)
        return _train(config, split, run_dir, progress)


def _train(config: LMConfig, split: Split, run_dir: Path | None, progress) -> dict:
    import tensorflow as tf

    from hypergan_tf.optimizers import FusedAdam

    model = build_model(config, len(config.vocabulary))
    optimizer = FusedAdam(config.learning_rate, global_clipnorm=config.clip_norm)
    optimizer.build(model.trainable_variables)

    @tf.function
    def train_step(x, y, states):
        with tf.GradientTape() as tape:
            logits, states = model(x, states, training=True)
            loss = tf.reduce_mean(cross_entropy(y, logits))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss, states

    writers = {part: tf.summary.create_file_writer(str(run_dir / LOGS / part)) for part in ("train", "validation")} if run_dir else {}
    windows = Windows(split.train, config.batch_size, config.seq_len, config.seed, config.state_windows)
    budget = config.minutes * 60 if config.minutes is not None else math.inf
    train_seconds, cpu_seconds, recent, step, stopped_by = 0.0, 0.0, [], 0, "steps"
    while step < config.steps:
        x, y, reset_state = windows.next()
        if reset_state:
            states = model.initial_states(config.batch_size)
        began, cpu_began = time.monotonic(), time.process_time()
        loss, states = train_step(x, y, states)
        loss = float(loss)
        train_seconds += time.monotonic() - began
        cpu_seconds += time.process_time() - cpu_began
        step += 1
        if not math.isfinite(loss):
            raise HyperganError(f"training diverged at step {step} (loss {loss}); lower --learning-rate or --clip-norm")
        recent = (recent + [loss])[-config.log_every:]
        if writers and step % config.log_every == 0:
            with writers["train"].as_default(step=step):
                tf.summary.scalar("loss", float(np.mean(recent)))
                tf.summary.scalar("bpc", float(np.mean(recent)) / math.log(2))
        if progress:
            progress(step, config.steps)
        if train_seconds >= budget:
            stopped_by = "minutes"
            break
    result = {"cell": config.cell, "parameters": count_parameters(model), "steps": step, "stopped_by": stopped_by,
              "train_seconds": round(train_seconds, 1), "train_cpu_seconds": round(cpu_seconds, 1), "final_train_bpc": float(np.mean(recent)) / math.log(2),
              **_measure(model, config, split), "vocab_size": len(config.vocabulary), "source": config.source, "seed": config.seed}
    if run_dir is not None:
        with writers["validation"].as_default(step=step):
            tf.summary.scalar("bpc", result["validation_bpc"])
        for writer in writers.values():
            writer.close()
        save_weights(model, run_dir / WEIGHTS_FILE)
        write_json(run_dir / LM_RESULT_FILE, result)
    return result


def reevaluate(run_dir: str | Path) -> dict:
    """Measure a finished run again from its config.json and weights, on the same text;
    rewrites RUN/lm_result.json with the new figures."""
    run_dir = Path(run_dir)
    config = LMConfig.load(run_dir / CONFIG_FILE)
    if not (run_dir / WEIGHTS_FILE).is_file():
        raise HyperganError(f"{run_dir} has no {WEIGHTS_FILE}: its training did not finish; run the same lm command again")
    config, split = prepare(config)
    with locked(run_dir):
        model = build_model(config, len(config.vocabulary))
        try:
            model.load_weights(run_dir / WEIGHTS_FILE)
        except Exception as err:  # h5py and Keras raise many types for a damaged or foreign file
            raise HyperganError(f"{run_dir / WEIGHTS_FILE} cannot be loaded into the model of config.json "
                                f"({type(err).__name__}); train again with --overwrite") from None
        previous = _read_result(run_dir / LM_RESULT_FILE)
        result = {**previous, "cell": config.cell, "parameters": count_parameters(model), **_measure(model, config, split),
                  "vocab_size": len(config.vocabulary), "source": config.source, "seed": config.seed}
        write_json(run_dir / LM_RESULT_FILE, result)
    return result


def _read_result(path: Path) -> dict:
    """The training figures of an earlier result (steps, time), if its file is readable."""
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return previous if isinstance(previous, dict) else {}
