"""1D regression through the same interfaces as classification: a tiny HyperGAN trained
on toy-cubic through the CLI, its evaluation, and the commands that refuse such a run."""

import json

import pytest
from click.testing import CliRunner

from hypergan_tf.runs import owned_paths
from hypergan_tf_cli.main import cli

TINY = ["--steps", "300", "--backup-every", "100", "--networks-per-step", "8", "--code-dim", "8"]
REGION_KEYS = {"num_examples", "rmse", "rmse_mean_network", "rmse_to_truth", "nll", "std_networks", "std_predictive"}


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def regression_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("regression") / "run"
    result = run("train", "--dataset", "toy-cubic", "--run-dir", run_dir, *TINY)  # --target regression-mlp: the data set's default
    assert result.exit_code == 0, result.output
    evaluated = run("evaluate", run_dir, "--num-networks", "50")
    assert evaluated.exit_code == 0, evaluated.output
    return run_dir, evaluated.output


def test_tiny_regression_run_trains_and_evaluate_writes_the_documented_keys(regression_run):
    run_dir, output = regression_run
    config = json.loads((run_dir / "config.json").read_text())
    assert config["likelihood"] == "gaussian" and config["target"] == "regression-mlp" and config["num_classes"] == 1
    history = json.loads((run_dir / "train_summary.json").read_text())["history"]
    assert len(history["target_loss"]) == 3 and history["target_loss"][-1] < 0.5 * history["target_loss"][0]
    result = json.loads((run_dir / "evaluation.json").read_text())
    assert {"dataset", "task", "num_test_examples", "num_networks", "seed", "likelihood", "noise_std", "training_range",
            "inside", "outside", "all", "std_ratio_outside_inside"} == set(result)
    assert result["training_range"] == [-4.0, 4.0] and result["num_networks"] == 50 and result["noise_std"] == 3.0
    for region in ("inside", "outside", "all"):
        assert set(result[region]) == REGION_KEYS
    assert result["inside"]["num_examples"] + result["outside"]["num_examples"] == result["num_test_examples"] == 241
    # a sensible fit inside the data, and the noise inside the predictive std
    assert result["inside"]["rmse_to_truth"] < 10 and result["inside"]["std_predictive"] > 3.0
    assert result["std_ratio_outside_inside"]["networks"] == pytest.approx(
        result["outside"]["std_networks"] / result["inside"]["std_networks"])
    assert "std outside / inside" in output and (run_dir / "regression.png").stat().st_size > 10_000
    assert run_dir / "regression.png" in owned_paths(run_dir)  # `train --overwrite` removes it


def test_the_networks_disagree_more_away_from_the_data(regression_run):
    result = json.loads((regression_run[0] / "evaluation.json").read_text())
    assert result["std_ratio_outside_inside"]["networks"] > 3


@pytest.mark.parametrize("command", [["ood", "--out-dataset", "digits"], ["attack"], ["export", "--out", "{tmp}/export"],
                                     ["sample", "--out", "{tmp}/networks"], ["report", "--out", "{tmp}/report"],
                                     ["interpolate"], ["distill", "--out", "{tmp}/student.keras"]])
def test_classification_commands_refuse_a_regression_run(regression_run, tmp_path, command):
    run_dir = regression_run[0]
    args = [part.format(tmp=tmp_path) for part in command]
    result = run(args[0], run_dir, *args[1:])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {args[0]}") and "works on classification runs only" in result.output
    assert "toy-cubic, a regression data set" in result.output and "Traceback" not in result.output
    assert not list(tmp_path.iterdir())


def test_a_classification_diversity_term_on_regression_data_fails_before_writing(tmp_path):
    result = run("train", "--dataset", "toy-cubic", "--run-dir", tmp_path / "run", "--diversity", "errors", "--steps", "2")
    assert result.exit_code == 2
    assert result.output.startswith("Error: --diversity errors does not fit toy-cubic, a regression data set; choose one of: weights")
    assert not (tmp_path / "run").exists()


def test_a_classification_target_on_regression_data_fails_clearly(tmp_path):
    result = run("train", "--dataset", "toy-cubic", "--target", "mnist-small", "--run-dir", tmp_path / "run", "--steps", "2")
    assert result.exit_code == 2 and "has images of shape (1,) but target mnist-small expects (28, 28, 1)" in result.output
