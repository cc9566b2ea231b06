import json

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import TINY, make_idx_dataset
from hypergan_tf_cli.main import cli

TINY_TRAIN_OPTIONS = [
    "--steps", "6", "--networks-per-step", "3", "--batch-size", "16", "--code-dim", str(TINY["code_dim"]),
]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One tiny run on the bundled digits set, shared by the tests that read a run."""
    run_dir = tmp_path_factory.mktemp("runs") / "digits"
    result = run("train", "--dataset", "digits", "--run-dir", run_dir, *TINY_TRAIN_OPTIONS)
    assert result.exit_code == 0, result.output
    return run_dir, result.output


def test_help_lists_the_commands():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("train", "evaluate", "datasets"):
        assert command in result.output


def test_train_writes_config_weights_and_logs(trained_run):
    run_dir, output = trained_run
    config = json.loads((run_dir / "config.json").read_text())
    assert config["dataset"] == "digits" and config["steps"] == 6 and config["networks_per_step"] == 3
    assert config["num_classes"] == 10 and 0 < config["input_mean"] < 1
    assert (run_dir / "model.weights.h5").is_file()
    state = json.loads((run_dir / "checkpoints" / "state.json").read_text())
    assert state["step"] == 6 and (run_dir / "checkpoints" / state["checkpoint"]).is_file()
    assert list((run_dir / "logs" / "sampler").glob("events.out.tfevents.*"))
    assert list((run_dir / "logs" / "train").glob("events.out.tfevents.*"))
    summary = json.loads((run_dir / "train_summary.json").read_text())
    assert summary["steps"] == 6 and summary["precision"] == "float32"
    assert "trained 6 steps" in output and "scikit-learn" in output
    assert "step 6/6 (100%), done in" in output  # output to a log (not a terminal) gets progress lines


def test_evaluate_writes_json_in_the_documented_shape(trained_run, tmp_path):
    run_dir, _ = trained_run
    path = tmp_path / "eval.json"
    result = run("evaluate", run_dir, "--ensemble-sizes", "1,3", "--num-networks", "4", "--json", path)
    assert result.exit_code == 0, result.output
    report = json.loads(path.read_text())
    assert set(report) == {"dataset", "num_test_examples", "single_network", "ensembles", "diversity"}
    assert report["dataset"] == "digits" and report["num_test_examples"] == 360
    assert set(report["single_network"]) == {"accuracy_mean", "accuracy_std", "num_networks"}
    assert report["single_network"]["num_networks"] == 4
    assert set(report["ensembles"]) == {"1", "3"}
    for row in report["ensembles"].values():
        assert set(row) == {"accuracy", "nll", "ece", "brier"} and 0 <= row["accuracy"] <= 1
    assert set(report["diversity"]["l2_std_over_mean"]) == {"conv1", "conv2", "linear1"}
    assert set(report["diversity"]["symmetry_aware"]) == {"conv1", "conv2", "linear1"}
    assert 0 <= report["diversity"]["pairwise_disagreement"] <= 1
    gain = report["diversity"]["ensemble_gain"]
    assert set(gain) == {"3"}  # sizes >= 2 only
    assert -1 < gain["3"] < 1  # its arithmetic: tests/test_diversity.py
    assert "single network: accuracy" in result.output
    assert (tmp_path / "eval.png").stat().st_size > 1000  # the reliability diagram, beside --json


def test_results_elsewhere_leave_the_run_directory_untouched(trained_run, tmp_path):
    """A run may be read-only (or another user's): with --json elsewhere, the plots go beside it."""
    run_dir, _ = trained_run
    before = {p: p.stat().st_mtime_ns for p in run_dir.rglob("*")}
    for command, extra in (("evaluate", ["--ensemble-sizes", "1,2", "--num-networks", "2"]),
                           ("attack", ["--ensemble-size", "2", "--num-examples", "20", "--epsilons", "0.1"])):
        result = run(command, run_dir, *extra, "--json", tmp_path / f"{command}.json")
        assert result.exit_code == 0, result.output
        assert (tmp_path / f"{command}.json").is_file() and (tmp_path / f"{command}.png").stat().st_size > 1000
    assert {p: p.stat().st_mtime_ns for p in run_dir.rglob("*")} == before


def test_existing_run_is_not_overwritten_without_flag(trained_run):
    run_dir, _ = trained_run
    before = (run_dir / "config.json").read_text()
    result = run("train", "--dataset", "digits", "--run-dir", run_dir, *TINY_TRAIN_OPTIONS, "--beta", "0.5")
    assert result.exit_code == 2
    assert "already holds a run" in result.output and "--overwrite" in result.output
    assert (run_dir / "config.json").read_text() == before


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--dataset", "imagenet", "--run-dir", "x"], "Invalid value for '--dataset'"),
        (["train", "--networks-per-step", "0", "--run-dir", "x"], "--networks-per-step must be at least 1"),
        (["train", "--beta", "-1", "--run-dir", "x"], "--beta must be >= 0"),
        (["evaluate", "no-such-run"], "no-such-run/config.json not found"),
        (["evaluate", "x", "--ensemble-sizes", "1,a"], "not a comma-separated list"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_train_mnist_never_substitutes_data(tmp_path):
    result = run("train", "--dataset", "mnist", "--data-dir", tmp_path, "--run-dir", tmp_path / "run", "--steps", "1")
    assert result.exit_code == 2
    assert "dataset 'mnist' not found" in result.output
    assert not (tmp_path / "run").exists()


def test_datasets_check_and_listing(tmp_path):
    make_idx_dataset(tmp_path / "mnist")
    assert run("datasets", "--data-dir", tmp_path, "--check", "mnist").exit_code == 0
    assert run("datasets", "--data-dir", tmp_path, "--check", "notmnist").exit_code == 2
    listing = run("datasets", "--data-dir", tmp_path).output
    assert "mnist" in listing and "60 train" in listing and "scikit-learn" in listing


def test_diversity_table(trained_run):
    run_dir, _ = trained_run
    result = run("diversity", run_dir, "--num-networks", "5")
    assert result.exit_code == 0, result.output
    report = json.loads((run_dir / "diversity.json").read_text())
    assert report["num_networks"] == 5 and set(report["layers"]) == {"conv1", "conv2", "linear1"}
    for row in report["layers"].values():
        assert row["l2_mean"] > 0 and row["std_over_mean"] == pytest.approx(row["l2_std"] / row["l2_mean"])
        assert 0 < row["symmetry_aware"] < 2
    assert "modulo scaling" in result.output and "feature_similarity" not in report
    result = run("diversity", run_dir, "--num-networks", "5", "--features", "digits")
    assert result.exit_code == 0, result.output
    report = json.loads((run_dir / "diversity.json").read_text())
    assert report["feature_networks"] == 5 and report["feature_images"] == 360
    assert set(report["feature_similarity"]["digits"]) == {"conv1", "conv2", "linear1"}
    assert all(0 < value <= 1 + 1e-9 for value in report["feature_similarity"]["digits"].values())
    assert "feature similarity" in result.output


def test_ensemble_gain_in_the_json_is_the_ensemble_over_its_own_members(trained_run, tmp_path):
    run_dir, _ = trained_run
    path = tmp_path / "eval.json"
    assert run("evaluate", run_dir, "--ensemble-sizes", "1,3", "--num-networks", "3", "--json", path).exit_code == 0
    report = json.loads(path.read_text())  # 3 networks: the single-network mean is over the ensemble's members
    expected = report["ensembles"]["3"]["accuracy"] - report["single_network"]["accuracy_mean"]
    assert report["diversity"]["ensemble_gain"]["3"] == pytest.approx(expected, abs=1e-9)


def test_early_stopping_keeps_the_epoch_with_the_best_validation_gain(tmp_path):
    run_dir = tmp_path / "early"
    result = run("train", "--dataset", "digits", "--run-dir", run_dir, "--steps", "24", "--backup-every", "4",
                 "--networks-per-step", "3", "--batch-size", "16", "--code-dim", "8", "--early-stopping", "2")
    assert result.exit_code == 0, result.output
    summary = json.loads((run_dir / "train_summary.json").read_text())
    gains = summary["history"]["val_ensemble_gain"]
    assert summary["kept_epoch"] == int(np.argmax(gains)) + 1
    assert summary["final"]["val_ensemble_gain"] == pytest.approx(max(gains))
    assert f"kept the weights of epoch {summary['kept_epoch']}" in result.output


def test_precision_auto_is_recorded_as_given_and_as_resolved(tmp_path):
    from hypergan_tf.config import TrainConfig

    run_dir = tmp_path / "auto"
    result = run("train", "--dataset", "digits", "--run-dir", run_dir, "--precision", "auto", *TINY_TRAIN_OPTIONS)
    assert result.exit_code == 0, result.output
    resolved = TrainConfig(precision="auto").resolved_precision()  # bfloat16 on CPUs with AVX512_BF16, as CI's
    assert json.loads((run_dir / "config.json").read_text())["precision"] == "auto"  # so it resolves again where it runs
    assert json.loads((run_dir / "train_summary.json").read_text())["precision"] == resolved
    assert f"({resolved}, from --precision auto)" in result.output


def test_tensorboard_serves_the_run_without_tensorflow_start_up_lines(trained_run):
    import re
    import subprocess
    import sys
    import time
    import urllib.request

    run_dir, _ = trained_run
    process = subprocess.Popen([sys.executable, "-m", "hypergan_tf_cli.main", "tensorboard", str(run_dir), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline()
        url = re.search(r"http://\S+/", first).group(0)
        for _ in range(60):  # TensorBoard reads the logs in a background thread
            with urllib.request.urlopen(url + "data/runs", timeout=30) as response:
                runs = json.loads(response.read())
            if {"train", "sampler"} <= set(runs):
                break
            time.sleep(0.5)
        assert {"train", "sampler"} <= set(runs), runs
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    assert f"TensorBoard on {run_dir / 'logs'}" in first
    assert "cuInit" not in stderr and "oneDNN" not in stderr and "absl" not in stderr, stderr


def test_hidden_units_sets_the_width_of_the_mlps_and_is_recorded(tmp_path):
    from hypergan_tf.runs.load import load_run

    run_dir = tmp_path / "narrow"
    result = run("train", "--dataset", "digits", "--run-dir", run_dir, "--steps", "2", "--networks-per-step", "2",
                 "--batch-size", "16", "--code-dim", "8", "--hidden-units", "24")
    assert result.exit_code == 0, result.output
    assert json.loads((run_dir / "config.json").read_text())["hidden_units"] == 24
    _, sampler = load_run(run_dir)
    widths = {int(w.shape[-1]) for w in sampler.generators[0].trainable_weights if len(w.shape) == 2}
    assert 24 in widths and 512 not in widths, widths
