import json

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import make_idx_dataset, train_tiny_run
from hypergan_tf.analysis import uncertainty
from hypergan_tf_cli.main import cli


def test_entropy_of_uniform_prediction_is_log_c():
    assert uncertainty.entropy(np.full((3, 7), 1 / 7)) == pytest.approx(np.full(3, np.log(7)))
    assert uncertainty.entropy(np.eye(4)) == pytest.approx(np.zeros(4), abs=1e-9)


def test_mutual_information_is_zero_when_members_agree_and_positive_when_not():
    same = np.tile([[[0.7, 0.2, 0.1]]], (5, 1, 1))
    assert uncertainty.mutual_information(same) == pytest.approx([0.0], abs=1e-9)
    assert uncertainty.member_variance(same) == pytest.approx([0.0], abs=1e-12)
    split = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])  # two confident members that disagree
    assert uncertainty.mutual_information(split) == pytest.approx([np.log(2)], abs=1e-6)
    assert uncertainty.member_variance(split) == pytest.approx([0.5])


def test_auroc_and_aupr_of_separable_scores_are_one():
    result = uncertainty.detection(np.array([0.1, 0.2, 0.3]), np.array([0.5, 0.9]))
    assert result == {"auroc": 1.0, "aupr": 1.0}
    assert uncertainty.detection(np.array([0.5, 0.9]), np.array([0.1, 0.2]))["auroc"] == 0.0


def test_ood_command_on_a_tiny_run(tmp_path):
    run_dir = train_tiny_run(tmp_path / "run", steps=30)
    runner = CliRunner()
    make_idx_dataset(tmp_path / "data" / "notmnist", splits=("t10k",), num_test=40)
    result = runner.invoke(cli, ["ood", str(run_dir), "--out-dataset", "notmnist", "--data-dir", str(tmp_path / "data"),
                                 "--ensemble-size", "4"])
    assert result.exit_code == 0, result.output
    report = json.loads((run_dir / "ood_notmnist.json").read_text())
    assert report["num_in"] == 360 and report["num_out"] == 40 and report["ensemble_size"] == 4
    assert set(report["scores"]) == {"entropy", "variance", "mutual_information"}
    for row in report["scores"].values():
        assert set(row) == {"auroc", "aupr", "mean_in", "mean_out"} and 0 <= row["auroc"] <= 1
    # stripes of bright rows on noise look nothing like digits: entropy should flag them
    assert report["scores"]["entropy"]["auroc"] > 0.5
    by_size = report["entropy_auroc_by_ensemble_size"]  # the first n of the same networks
    assert list(by_size) == ["1", "2", "4"] and by_size["4"] == report["scores"]["entropy"]["auroc"]
    assert all(0 <= auroc <= 1 for auroc in by_size.values()) and "entropy AUROC of the first n networks: 1:" in result.output
    assert (run_dir / "ood_notmnist.png").stat().st_size > 1000
    written = (run_dir / "ood_notmnist.json").read_bytes()
    refused = runner.invoke(cli, ["ood", str(run_dir), "--ensemble-size", "2"])  # digits has no OOD set of its own
    assert refused.exit_code == 2 and refused.output.startswith("Error: digits has no out-of-distribution test set")
    assert "--out-dataset" in refused.output and "Traceback" not in refused.output
    assert (run_dir / "ood_notmnist.json").read_bytes() == written


def test_ood_scores_a_run_against_its_data_sets_own_partner_by_default(tmp_path):
    """MNIST runs -> notMNIST without --out-dataset (a digits run, with no partner, is
    refused in the test above)."""
    data = tmp_path / "data"
    make_idx_dataset(data / "mnist", num_train=60, num_test=20)
    make_idx_dataset(data / "notmnist", splits=("t10k",), num_test=30, seed=1)
    runner, run_dir = CliRunner(), tmp_path / "run"
    trained = runner.invoke(cli, ["train", "--dataset", "mnist", "--data-dir", str(data), "--run-dir", str(run_dir), "--steps", "2",
                                  "--networks-per-step", "2", "--batch-size", "10", "--code-dim", "8"])
    assert trained.exit_code == 0, trained.output
    result = runner.invoke(cli, ["ood", str(run_dir), "--data-dir", str(data), "--ensemble-size", "2"])
    assert result.exit_code == 0, result.output
    report = json.loads((run_dir / "ood_notmnist.json").read_text())
    assert (report["in_dataset"], report["out_dataset"], report["num_in"], report["num_out"]) == ("mnist", "notmnist", 20, 30)
