"""`distill(sampler, data, out)`: the ensemble's knowledge in one ordinary target network.

Deutsch et al. distil the generated ensemble into one classifier. Here the student is
the run's own target network (`TargetSpec.to_keras`: ordinary Keras layers, freshly
initialised), trained on the training images (the run's validation split held out) to
match the ensemble's averaged predictions at a temperature T (Hinton et al. 2015)::

    teacher(x) = mean over n networks of softmax(logits_k(x) / T)          [N, C]
    loss = (1 - h) T^2 CE(teacher, softmax(z / T)) + h CE(label, softmax(z))

with z the student's logits and h the weight of the hard labels. The teacher's
predictions are computed `network_chunk` networks at a time over image batches (55k
images x 100 networks never sit in memory at once). The student is written as a
standalone `.keras` file: pixels in [0, 1] -> probabilities, the input standardisation
inside, loadable with `keras.models.load_model` without hypergan-tf.

The JSON it returns (fractions in [0, 1], NLL in nats, ECE with 15 bins)::

    {"dataset": "mnist", "num_train_examples": 55000, "num_validation_examples": 5000,
     "num_test_examples": 10000, "settings": {"ensemble_size": 100, "temperature": ..,
     "hard_label_weight": .., "epochs": .., "batch_size": .., "learning_rate": .., "seed": ..,
     "network_seed": 12345},
     "student": {"accuracy": .., "nll": .., "ece": .., "validation_accuracy": .., "parameters": ..},
     "single_network": {"accuracy_mean": .., "nll_mean": .., "ece_mean": .., "num_networks": 100},
     "ensembles": {"10": {"accuracy": .., "nll": .., "ece": ..}, "100": {...}},
     "seconds": {"teacher": .., "training": .., "total": ..}}
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from hypergan_tf.analysis import metrics
from hypergan_tf.analysis.predict import predict_logits, predict_probabilities
from hypergan_tf.atomic import atomic_path
from hypergan_tf.data import Dataset
from hypergan_tf.data.pipelines import split_validation, training_batches, validation_count
from hypergan_tf.errors import HyperganError
from hypergan_tf.optimizers import FusedAdam
from hypergan_tf.samplers import NETWORK_SEED, WeightSampler
from hypergan_tf.targets import TargetSpec

COMPARED_ENSEMBLES = (10, 100)  # ensembles reported beside the student (those the sampler has)


@dataclasses.dataclass(frozen=True)
class DistillConfig:
    """Every default of `distill`; the CLI maps its options onto it."""

    ensemble_size: int = 100  # teacher networks, drawn with `network_seed`
    # Chosen on the validation split of the one-mode MNIST run (5,000 held-out training
    # images; 100 teacher networks; 15 epochs unless said): student accuracy 98.96% at T 1,
    # h 0 (98.96% after 30 epochs), 98.86% at T 2, h 0.1, 98.88% at T 4, h 0.1, 98.82% at
    # T 1, h 0.5 and 98.82% with the labels alone (h 1); the teacher: 98.57% per network,
    # 99.00% / 99.08% for 10 / 100 networks. The ensemble's mean itself is the best target.
    temperature: float = 1.0
    hard_label_weight: float = 0.0  # h: 0 = the teacher alone, 1 = ordinary training on the labels
    epochs: int = 15
    batch_size: int = 100
    learning_rate: float = 1e-3  # Adam, cosine decay to 1% over training
    seed: int = 0  # student initialisation and batch order
    network_seed: int = NETWORK_SEED

    def check(self) -> None:
        """One clear error per bad value, before anything is computed."""
        for ok, message in (
            (self.ensemble_size >= 1, "--ensemble-size must be at least 1"),
            (self.temperature > 0, "--temperature must be > 0, e.g. 2"),
            (0 <= self.hard_label_weight <= 1, "--hard-label-weight must be in [0, 1]"),
            (self.epochs >= 1, "--epochs must be at least 1"),
            (self.batch_size >= 1, "--batch-size must be at least 1"),
            (self.learning_rate > 0, "--learning-rate must be > 0"),
            (0 <= self.seed < 2**31, "--seed must be in [0, 2**31)"),
        ):
            if not ok:
                raise HyperganError(message)


def teacher_probabilities(model: WeightSampler, images: np.ndarray, weights: dict[str, np.ndarray], temperature: float,
                          network_chunk: int = 10, progress=None) -> np.ndarray:
    """mean over networks of softmax(logits / T) on every image: [N, C], computed
    `network_chunk` networks at a time (each chunk over image batches)."""
    num_networks = next(iter(weights.values())).shape[0]
    total = None
    for start in range(0, num_networks, network_chunk):
        chunk = {name: value[start : start + network_chunk] for name, value in weights.items()}
        logits = predict_logits(model, images, chunk, network_chunk=network_chunk)
        part = tf.nn.softmax(logits / temperature).numpy().sum(axis=0)
        total = part if total is None else total + part
        if progress is not None:
            progress(min(start + network_chunk, num_networks), num_networks)
    return total / num_networks


def fresh_weights(target: TargetSpec, seed: int) -> dict[str, np.ndarray]:
    """One freshly initialised network [1, *shape] as Keras initialises its layers:
    Glorot-uniform kernels (fans from the kernel shape), zero biases."""
    weights = {}
    for i, (name, shape) in enumerate(target.param_shapes.items()):
        if name.endswith("/kernel"):
            value = keras.initializers.GlorotUniform(seed=seed * 1000 + i)(shape)
        else:
            value = keras.initializers.Zeros()(shape)
        weights[name] = np.asarray(value, np.float32)[None]
    return weights


def distillation_loss(temperature: float, hard_label_weight: float, num_classes: int):
    """loss(y, z) with y = [teacher probabilities at T | one-hot label] ([B, 2C]), z the logits."""
    def loss(targets, logits):
        soft, hard = targets[:, :num_classes], targets[:, num_classes:]
        soft_term = -tf.reduce_sum(soft * tf.nn.log_softmax(logits / temperature), axis=-1) * temperature**2
        hard_term = -tf.reduce_sum(hard * tf.nn.log_softmax(logits), axis=-1)
        return (1.0 - hard_label_weight) * soft_term + hard_label_weight * hard_term

    return loss


def train_student(target: TargetSpec, input_mean: float, input_std: float, images: np.ndarray, labels: np.ndarray,
                  teacher: np.ndarray, settings: DistillConfig, progress=None) -> keras.Model:
    """A fresh `target` network fitted to `teacher` (probabilities at settings.temperature)
    and `labels`; returns the Keras model pixels in [0, 1] -> probabilities."""
    keras.utils.set_random_seed(settings.seed)
    student = target.to_keras(fresh_weights(target, settings.seed), 0, input_mean, input_std, name=f"{target.name}_student")
    logits = keras.Model(student.inputs, student.get_layer(target.layers[-1].name).output)
    per_epoch = len(labels) // settings.batch_size
    total_steps = per_epoch * settings.epochs
    schedule = keras.optimizers.schedules.CosineDecay(settings.learning_rate, decay_steps=total_steps, alpha=0.01)
    logits.compile(optimizer=FusedAdam(schedule),
                   loss=distillation_loss(settings.temperature, settings.hard_label_weight, target.num_classes))
    targets = np.concatenate([teacher, np.eye(target.num_classes, dtype=np.float32)[labels]], axis=1).astype(np.float32)
    batches = training_batches(images, targets, settings.batch_size, settings.seed, total_steps)
    callbacks = [] if progress is None else [keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: progress(batch + 1, total_steps))]
    logits.fit(batches, epochs=1, steps_per_epoch=total_steps, verbose=0, callbacks=callbacks, shuffle=False)
    return student


def student_probabilities(student: keras.Model, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """The student's probabilities [N, C] on uint8 images."""
    return np.concatenate([student(images[i : i + batch_size].astype(np.float32) / 255.0, training=False).numpy()
                           for i in range(0, len(images), batch_size)])


def scores(probabilities: np.ndarray, labels: np.ndarray) -> dict:
    return {"accuracy": metrics.accuracy(probabilities, labels),
            "nll": metrics.negative_log_likelihood(probabilities, labels),
            "ece": metrics.expected_calibration_error(probabilities, labels)}


def check_out(out: str | Path, overwrite: bool) -> Path:
    """The student's path, checked before any work: a .keras name, no silent overwrite."""
    out = Path(out)
    if out.suffix != ".keras":
        raise HyperganError(f"--out must end in .keras (got {out.name}); Keras saves and loads its format by that name")
    if out.is_dir():
        raise HyperganError(f"--out {out} is a folder; give a file name such as student.keras")
    if out.exists() and not overwrite:
        raise HyperganError(f"{out} exists; choose another --out, or add --overwrite to replace it")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise HyperganError(f"cannot create {out.parent} ({err.strerror}); choose a writable --out") from None
    return out


def check_data(data: Dataset, settings: DistillConfig, validation_examples: int) -> None:
    """A training split, and at least one batch of it once the validation split is held out."""
    if data.train_labels is None:
        raise HyperganError(f"data set {data.name} has no training split to distil on")
    count = len(data.train_labels) - validation_count(len(data.train_labels), validation_examples)
    if count < settings.batch_size:
        raise HyperganError(f"--batch-size {settings.batch_size} is larger than the {count} training images; lower it")


def distill(model: WeightSampler, data: Dataset, out: str | Path, settings: DistillConfig = DistillConfig(),
            validation_examples: int = 5000, split_seed: int = 0, overwrite: bool = False, progress=None) -> dict:
    """Train the student on `data`'s training images (minus the validation split the run
    held out: `validation_examples`, `split_seed`), save it to `out` and score it on the
    test split beside the sampled networks."""
    settings.check()
    out = check_out(out, overwrite)
    check_data(data, settings, validation_examples)
    started = time.perf_counter()
    (train_x, train_y), (val_x, val_y) = split_validation(data.train_images, data.train_labels, validation_examples, split_seed)
    size = model.networks_available(settings.ensemble_size)
    weights = model.sample_networks(size, settings.network_seed)
    # One progress count for the whole job: the teacher's networks, then the student's steps.
    steps = (len(train_y) // settings.batch_size) * settings.epochs
    teacher_progress = (lambda done, total: progress(done, size + steps)) if progress else None  # noqa: E731
    student_progress = (lambda done, total: progress(size + done, size + steps)) if progress else None  # noqa: E731
    teacher = teacher_probabilities(model, train_x, weights, settings.temperature, progress=teacher_progress)
    teacher_seconds = time.perf_counter() - started
    student = train_student(model.target, model.input_mean, model.input_std, train_x, train_y, teacher, settings, student_progress)
    training_seconds = time.perf_counter() - started - teacher_seconds
    with atomic_path(out) as tmp:
        student.save(tmp)
    members = predict_probabilities(model, data.test_images, weights)
    single = [scores(p, data.test_labels) for p in members]
    result = {
        "dataset": data.name,
        "num_train_examples": int(len(train_y)),
        "num_validation_examples": int(len(val_y)),
        "num_test_examples": int(len(data.test_labels)),
        "settings": {**dataclasses.asdict(settings), "ensemble_size": size},
        "student": {**scores(student_probabilities(student, data.test_images), data.test_labels),
                    "validation_accuracy": metrics.accuracy(student_probabilities(student, val_x), val_y) if len(val_y) else None,
                    "parameters": int(student.count_params())},
        "single_network": {"accuracy_mean": float(np.mean([s["accuracy"] for s in single])),
                           "nll_mean": float(np.mean([s["nll"] for s in single])),
                           "ece_mean": float(np.mean([s["ece"] for s in single])),
                           "num_networks": size},
        "ensembles": {str(n): scores(members[:n].mean(axis=0), data.test_labels) for n in COMPARED_ENSEMBLES if n <= size},
        "out": str(out),
    }
    result["seconds"] = {"teacher": round(teacher_seconds, 1), "training": round(training_seconds, 1),
                         "total": round(time.perf_counter() - started, 1)}
    return result
