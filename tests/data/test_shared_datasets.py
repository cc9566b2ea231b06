"""Acceptance checks on the real data sets, when they are available ($HYPERGAN_TF_DATA_DIR)."""

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from hypergan_tf.config import TrainConfig
from hypergan_tf.data import DATA_DIR_ENV, load_dataset
from hypergan_tf.analysis.evaluate import evaluate
from hypergan_tf.runs import load_run, load_test_split
from hypergan_tf.training import train

DATA_DIR = os.environ.get(DATA_DIR_ENV)
pytestmark = pytest.mark.skipif(
    not (DATA_DIR and (Path(DATA_DIR) / "mnist").is_dir()), reason=f"${DATA_DIR_ENV} does not point to the shared data sets"
)


def test_real_mnist_and_notmnist_load_exactly():
    mnist = load_dataset("mnist")
    assert mnist.train_images.shape == (60000, 28, 28, 1) and mnist.test_images.shape == (10000, 28, 28, 1)
    # the md5 of the uncompressed t10k-images file, header included (datasets README)
    header = bytes.fromhex("00000803") + (10000).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
    assert hashlib.md5(header + mnist.test_images.tobytes()).hexdigest() == "2646ac647ad5339dbf082846283269ea"
    assert np.bincount(mnist.train_labels).min() > 5000
    notmnist = load_dataset("notmnist", need_train=False)
    assert notmnist.test_images.shape == (10000, 28, 28, 1) and np.bincount(notmnist.test_labels).tolist() == [1000] * 10


@pytest.mark.slow
def test_short_training_on_real_mnist(tmp_path):
    """200 steps with 8 networks: the whole pipeline, far above chance on the real test set."""
    config = TrainConfig(dataset="mnist", steps=200, networks_per_step=8, summary_networks=10)
    summary = train(config, tmp_path / "run", verbose=0)
    assert summary["steps"] == 200
    config, model = load_run(tmp_path / "run")
    result = evaluate(model, load_test_split(config), ensemble_sizes=(1, 10), num_networks=10)
    assert result["num_test_examples"] == 10000
    assert result["single_network"]["accuracy_mean"] > 0.9, result
    assert result["ensembles"]["10"]["accuracy"] > 0.9, result
