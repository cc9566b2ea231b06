import json

import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from hypergan_tf.samplers.baselines import BaselineEnsemble
from hypergan_tf.data import load_dataset
from hypergan_tf.errors import HyperganError
from hypergan_tf.targets import get_target
from hypergan_tf.data.pipelines import evaluation_batches, training_batches
from hypergan_tf_cli.main import cli


def baseline(method, **kwargs):
    model = BaselineEnsemble(get_target("mnist-small"), method, input_mean=0.2, input_std=0.3, seed=1, **kwargs)
    import keras

    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def test_random_starts_are_independent_members():
    model = baseline("ensemble", members=4)
    kernels = model.sample_networks(4)["conv1/kernel"]
    assert kernels.shape == (4, 5, 5, 1, 32)
    assert not np.allclose(kernels[0], kernels[1])
    assert kernels.std() == pytest.approx(np.sqrt(2 / 25), rel=0.1)  # He initialisation
    with pytest.raises(HyperganError, match="has 4 distinct network"):
        model.sample_networks(5)


def test_dropout_members_zero_input_rows_and_rescale_the_rest():
    model = baseline("mc-dropout", dropout_rate=0.5)
    masks = model.random_masks(3, tf.constant([0, 0]))
    weights = model.masked(masks)
    base = model.params["conv2/kernel"].numpy()[0]
    for k in range(3):
        keep = masks["conv2"].numpy()[k].astype(bool)
        np.testing.assert_allclose(weights["conv2/kernel"].numpy()[k][:, :, keep], base[:, :, keep] * 2.0, rtol=1e-6)
        assert not weights["conv2/kernel"].numpy()[k][:, :, ~keep].any()
    np.testing.assert_array_equal(weights["conv1/kernel"].numpy()[2], model.params["conv1/kernel"].numpy()[0])
    a, b = model.sample_networks(2, seed=5), model.sample_networks(2, seed=5)
    np.testing.assert_array_equal(a["linear1/kernel"], b["linear1/kernel"])  # members are fixed by the seed


@pytest.mark.parametrize("method,precision", [("ensemble", "float32"), ("mc-dropout", "float32"), ("single", "float32"),
                                              ("mc-dropout", "bfloat16")])
def test_short_fit_on_digits_beats_chance(method, precision):
    data = load_dataset("digits")
    model = baseline(method, members=3, masks_per_step=3, eval_networks=3)
    model.training_precision = precision  # as compile_from_config takes it from --precision
    model.fit(training_batches(data.train_images, data.train_labels, 32, seed=0, num_batches=80), epochs=1, steps_per_epoch=80, shuffle=False, verbose=0)
    result = model.evaluate(evaluation_batches(data.test_images, data.test_labels, 120), return_dict=True, verbose=0)
    assert result["accuracy"] > 0.7 and result["ensemble_accuracy"] > 0.7, result


def test_baseline_command_and_analysis_of_its_run(tmp_path):
    run_dir = tmp_path / "ensemble"
    runner = CliRunner()
    result = runner.invoke(cli, ["baseline", "--method", "ensemble", "--members", "3", "--dataset", "digits",
                                 "--run-dir", str(run_dir), "--steps", "20", "--batch-size", "32"])
    assert result.exit_code == 0, result.output
    config = json.loads((run_dir / "config.json").read_text())
    assert config["method"] == "ensemble" and config["members"] == 3
    result = runner.invoke(cli, ["evaluate", str(run_dir)])  # asks for 100 networks by default
    assert result.exit_code == 0, result.output
    report = json.loads((run_dir / "evaluation.json").read_text())
    assert report["single_network"]["num_networks"] == 3 and set(report["ensembles"]) == {"1"}
    result = runner.invoke(cli, ["diversity", str(run_dir)])
    assert result.exit_code == 0 and json.loads((run_dir / "diversity.json").read_text())["num_networks"] == 3
    # Any sampler exports: a random-start ensemble has no latent space, so serving_default only,
    # and it serves exactly the members' mean prediction.
    result = runner.invoke(cli, ["export", str(run_dir), "--out", str(tmp_path / "export")])
    assert result.exit_code == 0, result.output
    assert "signatures serving_default; 3 networks" in result.output
    loaded = tf.saved_model.load(str(tmp_path / "export" / "1"))
    assert set(loaded.signatures) == {"serving_default"}
    from hypergan_tf.runs import load_run

    _, model = load_run(run_dir)
    images = load_dataset("digits").test_images[:5].astype(np.float32) / 255.0
    expected = tf.reduce_mean(tf.nn.softmax(model.classify(images, model.network_weights(3))), axis=0)
    served = loaded.signatures["serving_default"](images=tf.constant(images))["probabilities"]
    np.testing.assert_allclose(served.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)


def test_report_puts_runs_side_by_side(tmp_path):
    from conftest import train_tiny_run

    hypergan_run = train_tiny_run(tmp_path / "hg", steps=10)
    runner = CliRunner()
    result = runner.invoke(cli, ["baseline", "--method", "mc-dropout", "--dataset", "digits", "--run-dir", str(tmp_path / "mcd"),
                                 "--steps", "10", "--batch-size", "32", "--networks-per-step", "2"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(cli, ["attack", str(hypergan_run), "--epsilons", "0.1", "--ensemble-size", "2", "--num-examples", "50"]).exit_code == 0
    result = runner.invoke(cli, ["report", str(hypergan_run), str(tmp_path / "mcd"), "--out", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "report" / "report.md").read_text()
    assert "hg (HyperGAN)" in text and "mcd (MC dropout)" in text
    assert "## Test accuracy" in text and "| hg (HyperGAN) | conv1 |" in text
    assert "% over 10 groups)" in text  # 10-network ensembles: first ten and the mean of ten disjoint ones
    assert "### FGSM" in text and "eps 0.1" in text and "No PGD results yet" in text
    assert (tmp_path / "report" / "hg_attack_fgsm.png").is_file()
    assert json.loads((tmp_path / "mcd" / "evaluation.json").read_text())["single_network"]["num_networks"] == 100
