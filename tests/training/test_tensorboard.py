"""Every epoch reaches TensorBoard, whatever step it ends on."""

from pathlib import Path

from click.testing import CliRunner
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from hypergan_tf_cli.main import cli


def scalar_steps(folder: Path, tag: str) -> list[int]:
    events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "tensors": 0})
    events.Reload()
    if tag in events.Tags().get("scalars", []):
        return [e.step for e in events.Scalars(tag)]
    return [e.step for e in events.Tensors(tag)] if tag in events.Tags().get("tensors", []) else []


def test_every_epoch_is_logged(tmp_path):
    run_dir = tmp_path / "run"
    result = CliRunner().invoke(cli, ["train", "--dataset", "digits", "--run-dir", str(run_dir), "--steps", "21", "--backup-every", "7",
                                      "--networks-per-step", "3", "--batch-size", "32", "--code-dim", "8", "--diversity-weight", "0.02"])
    assert result.exit_code == 0, result.output
    # Three 7-step epochs; none ends on a multiple of the batch-level update frequency (100).
    assert scalar_steps(run_dir / "logs" / "train", "epoch_accuracy") == [0, 1, 2]
    assert scalar_steps(run_dir / "logs" / "validation", "epoch_accuracy") == [0, 1, 2]
    assert scalar_steps(run_dir / "logs" / "sampler", "diversity/conv1_l2_std_over_mean") == [1, 2, 3]
