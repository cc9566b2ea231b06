"""report: runs told apart by name, and results older than the weights refused."""

import json
import os
import shutil

from click.testing import CliRunner

from conftest import train_tiny_run
from hypergan_tf.analysis.report import _unique_names
from hypergan_tf_cli.main import cli


def test_runs_with_the_same_folder_name_get_distinct_labels(tmp_path):
    runs = [tmp_path / "g1" / "run", tmp_path / "g2" / "run", tmp_path / "g2" / "other"]
    assert _unique_names(runs) == {runs[0]: "g1/run", runs[1]: "g2/run", runs[2]: "g2/other"}


def test_report_refuses_results_older_than_the_weights_and_keeps_same_named_runs_apart(tmp_path):
    first = train_tiny_run(tmp_path / "g1" / "run", steps=3)
    second = tmp_path / "g2" / "run"
    shutil.copytree(first, second)
    runner = CliRunner()
    assert runner.invoke(cli, ["evaluate", str(first), "--num-networks", "2", "--ensemble-sizes", "1,2"]).exit_code == 0
    assert runner.invoke(cli, ["evaluate", str(second), "--num-networks", "2", "--ensemble-sizes", "1,2"]).exit_code == 0
    result = runner.invoke(cli, ["report", str(first), str(second), "--out", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "report" / "report.md").read_text()
    assert "g1/run (HyperGAN)" in text and "g2/run (HyperGAN)" in text
    assert {p.name for p in (tmp_path / "report").glob("*.png")} == {"g1_run_reliability.png", "g2_run_reliability.png"}
    weights = second / "model.weights.h5"
    later = (second / "evaluation.json").stat().st_mtime + 10
    os.utime(weights, (later, later))  # the weights are now newer than their evaluation
    result = runner.invoke(cli, ["report", str(first), str(second), "--out", str(tmp_path / "report2")])
    assert result.exit_code == 2 and "evaluation.json is older than" in result.output, result.output
    assert not (tmp_path / "report2").exists()  # a failed report leaves no empty folder


def test_report_refuses_truncated_or_incomplete_result_files(tmp_path):
    run = train_tiny_run(tmp_path / "run", steps=3)
    runner = CliRunner()
    assert runner.invoke(cli, ["evaluate", str(run), "--num-networks", "2", "--ensemble-sizes", "1,2"]).exit_code == 0
    assert runner.invoke(cli, ["attack", str(run), "--ensemble-size", "2", "--num-examples", "20", "--epsilons", "0.1"]).exit_code == 0
    evaluation, attack = run / "evaluation.json", run / "attack_fgsm.json"
    good_evaluation, good_attack = evaluation.read_bytes(), attack.read_bytes()
    cases = [
        (evaluation, good_evaluation[: len(good_evaluation) // 2], "evaluation.json is not valid JSON (truncated?)"),
        (evaluation, json.dumps({k: v for k, v in json.loads(good_evaluation).items() if k != "diversity"}).encode(), "lacks 'diversity'"),
        (attack, json.dumps({**json.loads(good_attack), "epsilons": {"0.1": {"accuracy": 0.5}}}).encode(), "lacks 'epsilons.0.1.mean_entropy'"),
        (run / "ood_notmnist.json", b'{"in_dataset": "digits", "out_dataset": "notmnist", "ensemble_size": 2, "scores": {}}',
         "lacks 'scores.entropy'"),
    ]
    for path, content, message in cases:
        path.write_bytes(content)
        result = runner.invoke(cli, ["report", str(run), "--out", str(tmp_path / "report")])
        assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output, result.output
        assert not (tmp_path / "report").exists()
        evaluation.write_bytes(good_evaluation), attack.write_bytes(good_attack)
        (run / "ood_notmnist.json").unlink(missing_ok=True)
    assert runner.invoke(cli, ["report", str(run), "--out", str(tmp_path / "report")]).exit_code == 0
