import json

import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from conftest import train_tiny_run
from hypergan_tf.analysis.attacks import ensemble_gradient, fgsm, pgd
from hypergan_tf.samplers import build_sampler, fixed_noise
from hypergan_tf_cli.main import cli


@pytest.fixture(scope="module")
def gradient():
    from conftest import TINY
    from hypergan_tf.config import TrainConfig

    model = build_sampler(TrainConfig(dataset="digits", num_classes=10, input_mean=0.2, input_std=0.3, **TINY))
    weights = model.weights_from_noise(tf.constant(fixed_noise(3, model.noise_dim, 0)))
    return ensemble_gradient(model, weights)


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    images = rng.random((8, 28, 28, 1)).astype(np.float32)
    images[:, :3] = 0.0  # some pixels on the lower edge, where clipping applies
    images[:, -3:] = 1.0  # and some on the upper edge
    return tf.constant(images), tf.constant(np.arange(8, dtype=np.int32) % 10)


def test_fgsm_moves_every_pixel_by_epsilon_in_the_sign_direction(gradient, batch):
    images, labels = batch
    adversarial = fgsm(gradient, images, labels, 0.1).numpy()
    _, grad = gradient(images, labels)
    expected = np.clip(images.numpy() + 0.1 * np.sign(grad.numpy()), 0, 1)
    np.testing.assert_allclose(adversarial, expected, atol=1e-6)
    interior = (images.numpy() > 0.1) & (images.numpy() < 0.9) & (grad.numpy() != 0)
    assert interior.sum() > 1000
    np.testing.assert_allclose(np.abs(adversarial - images.numpy())[interior], 0.1, atol=1e-6)
    assert adversarial.min() >= 0.0 and adversarial.max() <= 1.0


def test_pgd_stays_in_the_epsilon_ball_and_raises_the_loss(gradient, batch):
    images, labels = batch
    adversarial = pgd(gradient, images, labels, 0.05, steps=5)
    assert np.abs(adversarial.numpy() - images.numpy()).max() <= 0.05 + 1e-6
    assert adversarial.numpy().min() >= 0.0 and adversarial.numpy().max() <= 1.0

    def loss(x):
        probabilities = gradient(x, labels)[0].numpy()
        return -np.log(probabilities[np.arange(8), labels.numpy()]).sum()

    assert loss(adversarial) > loss(images)
    assert loss(fgsm(gradient, images, labels, 0.05)) > loss(images)


def test_attack_command_on_a_tiny_run(tmp_path):
    run_dir = train_tiny_run(tmp_path / "run", steps=40)
    runner = CliRunner()
    result = runner.invoke(cli, ["attack", str(run_dir), "--method", "pgd", "--epsilons", "0.05,0.3", "--steps", "3",
                                 "--ensemble-size", "3", "--num-examples", "100"])
    assert result.exit_code == 0, result.output
    report = json.loads((run_dir / "attack_pgd.json").read_text())
    assert set(report["epsilons"]) == {"0.05", "0.3"} and report["num_examples"] == 100
    assert report["epsilons"]["0.3"]["accuracy"] < report["clean"]["accuracy"]
    for row in report["epsilons"].values():
        assert set(row) == {"accuracy", "mean_entropy", "auroc_entropy"}
    assert (run_dir / "attack_pgd.png").is_file()
