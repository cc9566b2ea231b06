"""The run directory: --overwrite removes exactly the files a run owns; one writer at a time."""

import multiprocessing

import pytest
from click.testing import CliRunner

from conftest import train_tiny_run
from hypergan_tf.errors import HyperganError
from hypergan_tf.runs import owned_paths
from hypergan_tf.runs.directory import locked
from hypergan_tf_cli.main import cli


def test_overwrite_leaves_no_file_of_the_old_run(tmp_path):
    run_dir = train_tiny_run(tmp_path / "run", steps=4)
    runner = CliRunner()
    for args in (["evaluate", run_dir, "--num-networks", "3", "--ensemble-sizes", "1,3"],
                 ["diversity", run_dir, "--num-networks", "3"],
                 ["attack", run_dir, "--num-examples", "20", "--epsilons", "0.1", "--ensemble-size", "2"]):
        assert runner.invoke(cli, [str(a) for a in args]).exit_code == 0
    (run_dir / "ood_notmnist.json").write_text("{}")  # as `ood` would write (notmnist is not available in every test)
    (run_dir / "notes.txt").write_text("mine")  # not the run's: must survive
    old = {p.name for p in owned_paths(run_dir)}
    assert {"evaluation.json", "reliability.png", "diversity.json", "attack_fgsm.json", "attack_fgsm.png", "ood_notmnist.json"} <= old
    result = runner.invoke(cli, ["train", "--dataset", "digits", "--run-dir", str(run_dir), "--steps", "2", "--networks-per-step", "2",
                                 "--batch-size", "16", "--code-dim", "8", "--overwrite"])
    assert result.exit_code == 0, result.output
    assert {p.name for p in owned_paths(run_dir)} == {"config.json", "model.weights.h5", "train_summary.json", "checkpoints", "logs"}
    assert (run_dir / "notes.txt").read_text() == "mine"


def _hold(run_dir, ready, release):
    with locked(run_dir):
        ready.set()
        release.wait(30)


def test_a_second_writer_fails_at_once(tmp_path):
    run_dir = tmp_path / "run"
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold, args=(run_dir, ready, release))
    holder.start()
    try:
        assert ready.wait(60)
        result = CliRunner().invoke(cli, ["train", "--dataset", "digits", "--run-dir", str(run_dir), "--steps", "2"])
        assert result.exit_code == 2
        assert "is being written by another hypergan-tf process" in result.output
        assert not (run_dir / "config.json").exists()
    finally:
        release.set()
        holder.join(30)
    with locked(run_dir):  # released with its process
        pass


def test_a_failed_start_leaves_no_empty_run_directory(tmp_path):
    result = CliRunner().invoke(cli, ["train", "--dataset", "mnist", "--data-dir", str(tmp_path / "nothing"), "--run-dir", str(tmp_path / "run")])
    assert result.exit_code == 2 and "not found" in result.output
    assert not (tmp_path / "run").exists()


def test_the_lock_is_exclusive(tmp_path):
    with locked(tmp_path / "run"):
        with pytest.raises(HyperganError, match="being written by another"):
            with locked(tmp_path / "run"):
                pass
