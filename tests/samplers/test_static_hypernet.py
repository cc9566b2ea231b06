"""Ha et al.'s static hypernetwork: kernels from embeddings through a shared linear hypernetwork."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from hypergan_tf.data import load_dataset
from hypergan_tf.data.pipelines import evaluation_batches, training_batches
from hypergan_tf.errors import HyperganError
from hypergan_tf.samplers import StaticHypernet
from hypergan_tf.targets import PRESETS, Conv, Dense, TargetSpec
from hypergan_tf_cli.main import cli


def test_generated_kernel_follows_ha_et_al_equation_2():
    """K_i = W_out (W_i z + B_i) + B_out for every input slice i, stacked on the input axis."""
    model = StaticHypernet(PRESETS["mnist-small"], seed=1)
    assert model.generated_layers == ["conv2"]  # all but the first and last
    layer = model.target.layers[1]
    kernel = model.generated_kernel(layer).numpy()
    assert kernel.shape == (5, 5, 32, 32)
    w_in, b_in, w_out, b_out = [v.numpy() for v in model.hypernets["5x5x32x32"]]
    z = model.embeddings["conv2"].numpy()
    gain = np.sqrt(2.0 / layer.fan_in)
    for i in (0, 17):
        slice_i = ((w_in[i] @ z + b_in[i]) @ w_out + b_out) * gain
        np.testing.assert_allclose(kernel[:, :, i, :], slice_i.reshape(5, 5, 32), rtol=1e-5, atol=1e-6)


def test_layers_of_the_same_shape_share_one_hypernetwork():
    target = TargetSpec("deep", (16, 16, 1), 10, (
        Conv("c1", 8, padding="same", pool=False), Conv("c2", 8, padding="same", pool=False),
        Conv("c3", 8, padding="same"), Dense("out", 10, activation=None)))
    model = StaticHypernet(target)
    assert model.generated_layers == ["c2", "c3"] and list(model.hypernets) == ["3x3x8x8"]
    k2, k3 = model.generated_kernel(target.layers[1]), model.generated_kernel(target.layers[2])
    assert not np.allclose(k2, k3)  # own embeddings


def test_fewer_trainable_parameters_than_the_network_it_generates():
    counts = StaticHypernet(PRESETS["mnist-small"], embedding_dim=4).parameter_counts()
    # z (4) + W_in 32x4x4 + B_in 32x4 + W_out 4x800 + B_out 800 = 4,644 for 25,600 kernel weights
    assert counts["hypernetwork"] == 4 + 512 + 128 + 3200 + 800
    assert counts["generated_kernel_weights"] == 25600
    assert counts["sampler_trainable"] == counts["hypernetwork"] + counts["direct"] < counts["target_network"] == 31594


def test_unknown_layer_is_rejected():
    with pytest.raises(HyperganError, match="--hyper-layers names \\[.conv9.\\]"):
        StaticHypernet(PRESETS["mnist-small"], ["conv9"])


def test_training_on_digits_beats_chance_and_moves_the_embeddings():
    data = load_dataset("digits")
    model = StaticHypernet(PRESETS["mnist-small"], input_mean=0.2, input_std=0.3)
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    before = model.embeddings["conv2"].numpy().copy()
    model.fit(training_batches(data.train_images, data.train_labels, 32, seed=0, num_batches=80), epochs=1, shuffle=False, verbose=0)
    assert not np.allclose(before, model.embeddings["conv2"].numpy())
    result = model.evaluate(evaluation_batches(data.test_images, data.test_labels, 120), return_dict=True, verbose=0)
    assert result["accuracy"] > 0.7, result  # chance is 0.1


def test_end_to_end_train_evaluate_export_sample(tmp_path):
    run_dir = tmp_path / "static"
    runner = CliRunner()
    result = runner.invoke(cli, ["train", "--method", "static-hypernet", "--dataset", "digits", "--run-dir", str(run_dir),
                                 "--steps", "30", "--batch-size", "32"])
    assert result.exit_code == 0, result.output
    assert "parameters: sampler trainable" in result.output and "hypernetwork 4,644" in result.output
    summary = json.loads((run_dir / "train_summary.json").read_text())
    assert summary["parameters"]["generated_kernel_weights"] == 25600
    result = runner.invoke(cli, ["evaluate", str(run_dir)])
    assert result.exit_code == 0, result.output
    report = json.loads((run_dir / "evaluation.json").read_text())
    assert report["single_network"]["num_networks"] == 1 and set(report["ensembles"]) == {"1"}
    assert report["single_network"]["accuracy_mean"] == report["ensembles"]["1"]["accuracy"]
    result = runner.invoke(cli, ["export", str(run_dir), "--out", str(tmp_path / "export")])
    assert result.exit_code == 0 and "signatures serving_default; 1 networks" in result.output, result.output
    result = runner.invoke(cli, ["sample", str(run_dir), "-n", "5", "--out", str(tmp_path / "nets")])
    assert result.exit_code == 0 and "wrote 1 networks" in result.output, result.output
    network = keras.models.load_model(tmp_path / "nets" / "network_000.keras")
    served = tf.saved_model.load(str(tmp_path / "export" / "1")).signatures["serving_default"]
    images = load_dataset("digits").test_images[:4].astype(np.float32) / 255.0
    np.testing.assert_allclose(network(images).numpy(), served(images=tf.constant(images))["probabilities"].numpy(), rtol=1e-4, atol=1e-5)


def test_a_layer_the_target_does_not_have_is_refused_before_anything_is_written(tmp_path):
    result = CliRunner().invoke(cli, ["train", "--method", "static-hypernet", "--dataset", "digits", "--run-dir", str(tmp_path / "run"),
                                      "--hyper-layers", "conv2,conv9"])
    assert result.exit_code == 2 and "--hyper-layers names ['conv9']" in result.output
    assert not (tmp_path / "run").exists()
