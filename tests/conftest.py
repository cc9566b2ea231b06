"""Shared fixtures: tiny models and tiny generated data, so each test takes seconds."""

import gzip
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The real-data acceptance tests use $HYPERGAN_TF_DATA_DIR, else the shared data sets beside
# the clone; the header of every test run says which, or that those tests are skipped.
SHARED_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
if not os.environ.get("HYPERGAN_TF_DATA_DIR") and SHARED_DATASETS.is_dir():
    os.environ["HYPERGAN_TF_DATA_DIR"] = str(SHARED_DATASETS)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from hypergan_tf.config import TrainConfig  # noqa: E402

# The default diversity weight (1.0) is tuned for K = 32 networks over 3,300 steps; with 3-4
# networks and 30-40 steps it keeps them at chance (0.1 still spoils the OOD test's model),
# so the tiny models run the default term at 0.02 (README, train).
TINY_DIVERSITY_WEIGHT = 0.02
TINY = dict(noise_dim=16, code_dim=8, hidden_units=32, networks_per_step=4, batch_size=32, summary_networks=4, eval_networks=3,
            diversity_weight=TINY_DIVERSITY_WEIGHT)


def pytest_terminal_summary(terminalreporter):
    data_dir = os.environ.get("HYPERGAN_TF_DATA_DIR")
    if data_dir and (Path(data_dir) / "mnist").is_dir():
        terminalreporter.write_line(f"real data sets: {data_dir}")
    else:
        terminalreporter.write_line("real data sets: none found (set HYPERGAN_TF_DATA_DIR or place them in ../shared/datasets): "
                                    "the tests in tests/data/test_shared_datasets.py were skipped")


@pytest.fixture
def tiny_config():
    """A HyperGAN small enough to train in seconds on the bundled digits set."""
    return TrainConfig(dataset="digits", num_classes=10, input_mean=0.2, input_std=0.3, **TINY)


def write_idx(path, array: np.ndarray, compress: bool = True) -> None:
    """Write `array` (uint8) in the MNIST IDX format."""
    magic = 0x0800 | array.ndim
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    if compress:
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


def make_idx_dataset(folder, num_train=60, num_test=20, seed=0, splits=("train", "t10k")):
    """A small MNIST-format data set: label-dependent bright rows make it learnable."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, count in (("train", num_train), ("t10k", num_test)):
        if split not in splits:
            continue
        labels = rng.integers(0, 10, count).astype(np.uint8)
        images = rng.integers(0, 50, (count, 28, 28)).astype(np.uint8)
        for i, label in enumerate(labels):
            images[i, 2 + 2 * label : 4 + 2 * label] = 255
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", labels)
        arrays[split] = (images, labels)
    return arrays


@pytest.fixture
def no_data_dir_env(monkeypatch):
    monkeypatch.delenv("HYPERGAN_TF_DATA_DIR", raising=False)


def train_tiny_run(run_dir, steps: int):
    """A real (tiny) training through the CLI on the bundled digits set."""
    from click.testing import CliRunner

    from hypergan_tf_cli.main import cli

    result = CliRunner().invoke(cli, ["train", "--dataset", "digits", "--run-dir", str(run_dir), "--steps", str(steps),
                                      "--networks-per-step", "3", "--batch-size", "32", "--code-dim", "8",
                                      "--diversity-weight", str(TINY_DIVERSITY_WEIGHT)])
    assert result.exit_code == 0, result.output
    return run_dir


def train_tiny_sampler(config, steps: int = 80):
    """A tiny HyperGAN of `config` trained `steps` steps on 512 bundled digits (32 a batch, 4
    networks a step), seed 0: returns (the sampler, the last generator step's logs)."""
    import keras
    import tensorflow as tf

    from hypergan_tf.data import load_dataset
    from hypergan_tf.data.pipelines import as_inputs
    from hypergan_tf.samplers import build_sampler

    data = load_dataset("digits")
    images, labels = tf.constant(as_inputs(data.train_images[:512])), tf.constant(data.train_labels[:512])
    keras.utils.set_random_seed(0)
    model = build_sampler(config, total_steps=steps)
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(1e-4))
    generator_step, discriminator_step = tf.function(model.generator_step), tf.function(model.discriminator_step)
    for step in range(steps):
        batch = slice(32 * (step % 16), 32 * (step % 16 + 1))
        logs = generator_step(images[batch], labels[batch], 4)
        discriminator_step(4)
    return model, logs
