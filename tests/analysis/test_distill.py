import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from conftest import train_tiny_run
from hypergan_tf.analysis.distill import distillation_loss, teacher_probabilities
from hypergan_tf.analysis.predict import predict_logits, predict_probabilities
from hypergan_tf.runs import load_run, load_test_split
from hypergan_tf_cli.main import cli

# Loads the student in a Python that cannot import hypergan-tf: with the package blocked
# in sys.modules, any custom object of ours inside the file would make loading fail.
LOAD_WITHOUT_HYPERGAN = """
import sys
sys.modules["hypergan_tf"] = None
sys.modules["hypergan_tf_cli"] = None
try:
    import hypergan_tf
except ImportError:
    pass
else:
    raise SystemExit("hypergan_tf is importable: the test proves nothing")
import keras, numpy as np
model = keras.models.load_model(sys.argv[1])
np.save(sys.argv[3], model.predict(np.load(sys.argv[2]), verbose=0))
"""
FAST = ["--ensemble-size", "3", "--epochs", "4", "--batch-size", "32"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    return train_tiny_run(tmp_path_factory.mktemp("distill") / "run", steps=30)


@pytest.fixture(scope="module")
def distilled(tiny_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("student") / "student.keras"
    result = run("distill", tiny_run, "--out", out, *FAST)
    assert result.exit_code == 0, result.output
    return out, json.loads((tiny_run / "distill.json").read_text()), result.output


def test_teacher_is_the_mean_of_the_networks_softmax_at_the_temperature_in_chunks(tiny_run):
    config, model = load_run(tiny_run)
    images = load_test_split(config).test_images[:50]
    weights = model.sample_networks(3)
    np.testing.assert_allclose(teacher_probabilities(model, images, weights, 1.0, network_chunk=2),
                               predict_probabilities(model, images, weights).mean(0), atol=1e-6)
    logits = predict_logits(model, images, weights)
    np.testing.assert_allclose(teacher_probabilities(model, images, weights, 3.0, network_chunk=2),
                               tf.nn.softmax(logits / 3.0).numpy().mean(0), atol=1e-6)


def test_loss_is_the_label_cross_entropy_or_the_teacher_cross_entropy_at_the_ends():
    logits = tf.constant([[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]])
    soft = tf.constant([[0.7, 0.1, 0.2], [0.2, 0.2, 0.6]])
    hard = tf.one_hot([0, 2], 3)
    targets = tf.concat([soft, hard], axis=1)
    np.testing.assert_allclose(distillation_loss(2.0, 1.0, 3)(targets, logits),
                               keras.losses.categorical_crossentropy(hard, logits, from_logits=True), rtol=1e-6)
    np.testing.assert_allclose(distillation_loss(2.0, 0.0, 3)(targets, logits),
                               4.0 * keras.losses.categorical_crossentropy(soft, logits / 2.0, from_logits=True), rtol=1e-6)


def test_student_beats_chance_and_is_reported_beside_the_ensembles(distilled):
    _, report, output = distilled
    assert report["student"]["accuracy"] > 0.5  # 10 classes: chance is 0.1
    assert report["settings"]["ensemble_size"] == 3 and report["settings"]["epochs"] == 4
    assert set(report["student"]) == {"accuracy", "nll", "ece", "validation_accuracy", "parameters"}
    assert report["single_network"]["num_networks"] == 3 and report["ensembles"] == {}  # 10 and 100 need more networks
    assert "student (1 network)" in output and "sampled network (mean of 3)" in output


def load_without_hypergan(model_path, images: np.ndarray, folder):
    """Run LOAD_WITHOUT_HYPERGAN in a fresh, isolated Python: (the process, its predictions or None)."""
    np.save(folder / "images.npy", images)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-I", "-c", LOAD_WITHOUT_HYPERGAN, str(model_path), str(folder / "images.npy"), str(folder / "p.npy")],
                          cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False)
    return done, (np.load(folder / "p.npy") if done.returncode == 0 else None)


def test_student_loads_and_predicts_without_hypergan_tf(distilled, tiny_run, tmp_path):
    out, report, _ = distilled
    config, _ = load_run(tiny_run)
    data = load_test_split(config)
    done, probabilities = load_without_hypergan(out, data.test_images.astype(np.float32) / 255.0, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)
    accuracy = float(np.mean(probabilities.argmax(-1) == data.test_labels))
    assert accuracy == pytest.approx(report["student"]["accuracy"], abs=1e-9)


@keras.saving.register_keras_serializable(package="hypergan_tf")
class Doubling(keras.layers.Layer):
    def call(self, x):
        return 2.0 * x


Doubling.__module__ = "hypergan_tf.analysis.distill"  # as if hypergan-tf defined it


def test_the_isolated_loader_fails_on_a_model_that_needs_hypergan_tf(tmp_path):
    """The check above can fail: a model holding one of our custom layers does not load there."""
    model = keras.Sequential([keras.Input((3,)), Doubling(), keras.layers.Dense(2)])
    model.save(tmp_path / "custom.keras")
    done, _ = load_without_hypergan(tmp_path / "custom.keras", np.zeros((1, 3), np.float32), tmp_path)
    assert done.returncode != 0 and "Doubling" in done.stderr, done.stderr[-2000:]


def test_refuses_to_overwrite_the_student_unless_asked(distilled, tiny_run):
    out, _, _ = distilled
    before = out.read_bytes()
    result = run("distill", tiny_run, "--out", out, *FAST)
    assert result.exit_code == 2 and result.output.startswith("Error: ") and "--overwrite" in result.output, result.output
    assert out.read_bytes() == before


BAD = {
    "temperature 0": (["--temperature", "0"], "--temperature must be > 0"),
    "hard-label weight above 1": (["--hard-label-weight", "1.5"], "--hard-label-weight must be in [0, 1]"),
    "no epochs": (["--epochs", "0"], "--epochs must be at least 1"),
    "empty teacher": (["--ensemble-size", "0"], "--ensemble-size must be at least 1"),
    "batch larger than the data": (["--batch-size", "100000"], "is larger than the 1294 training images"),
}


@pytest.mark.parametrize("case", sorted(BAD) + ["not a .keras name"])
def test_bad_options_give_one_error_line_and_write_nothing(case, tiny_run, tmp_path):
    options, message = BAD.get(case, ([], "--out must end in .keras"))
    out = tmp_path / ("student.h5" if case == "not a .keras name" else "student.keras")
    before = sorted(p.name for p in tiny_run.rglob("*"))
    result = run("distill", tiny_run, "--out", out, *FAST, *options)
    assert result.exit_code == 2 and result.output.startswith("Error: ") and message in result.output, result.output
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == [] and sorted(p.name for p in tiny_run.rglob("*")) == before
