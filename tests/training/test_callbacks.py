"""The divergence guard on a real (tiny, untrained) sampler."""

import numpy as np

from hypergan_tf.samplers import build_sampler
from hypergan_tf.training.callbacks import DivergenceGuard, all_weights_finite


def _guarded(tiny_config):
    model = build_sampler(tiny_config, total_steps=10)
    guard = DivergenceGuard()
    guard.set_model(model)
    return model, guard


def test_finite_weights_pass_and_a_single_nan_weight_stops_training(tiny_config):
    model, guard = _guarded(tiny_config)
    guard.on_train_batch_end(0, {"loss": 0.5})
    guard.on_epoch_end(0)
    assert guard.diverged_at is None and not getattr(model, "stop_training", False) and all_weights_finite(model)

    variable = model.trainable_variables[-1]
    value = variable.numpy()
    value.flat[0] = np.inf
    variable.assign(value)
    guard.on_train_batch_end(1, {"loss": 0.5})  # the loss alone does not show it
    assert guard.diverged_at is None
    guard.on_epoch_end(0)
    assert guard.diverged_at == 2 and guard.reason == "non-finite weights" and model.stop_training


def test_a_non_finite_loss_stops_at_that_step(tiny_config):
    model, guard = _guarded(tiny_config)
    guard.on_train_batch_end(0, {"loss": 0.5, "d_loss": 1.0})
    guard.on_train_batch_end(1, {"loss": float("nan"), "d_loss": 1.0})
    assert guard.diverged_at == 2 and guard.reason == "non-finite loss" and model.stop_training


def test_a_run_reports_where_its_time_went_and_its_validation_curve(tmp_path):
    """PhaseClock on a real tiny run: every phase measured, the curve one entry per epoch."""
    import json

    from click.testing import CliRunner

    from hypergan_tf_cli.main import cli

    run_dir = tmp_path / "run"
    result = CliRunner().invoke(cli, ["train", "--dataset", "digits", "--run-dir", str(run_dir), "--steps", "9", "--backup-every", "3",
                                      "--networks-per-step", "3", "--batch-size", "32", "--code-dim", "8"])
    assert result.exit_code == 0, result.output
    summary = json.loads((run_dir / "train_summary.json").read_text())
    phases = summary["phase_seconds"]
    assert f"time: first step {phases['first_step']:.0f} s, steps {phases['steps']:.0f} s, validation" in result.output
    assert set(phases) == {"first_step", "steps", "validation", "summaries", "backups", "finish"}
    assert all(value > 0 for value in phases.values()), phases
    # the phases of the fit add up to its wall time (less Keras' setup before the first hook)
    fit = sum(value for name, value in phases.items() if name != "finish")
    assert 0.5 * summary["train_seconds"] < fit <= summary["train_seconds"] + 0.1
    curve = summary["curve"]
    assert [entry["step"] for entry in curve] == [3, 6, 9]
    assert all(0 < a["steps_seconds"] < b["steps_seconds"] for a, b in zip(curve, curve[1:]))
    assert all(entry["steps_seconds"] < entry["wall_seconds"] for entry in curve)
    assert curve[-1]["val_accuracy"] == summary["final"]["val_accuracy"]


def test_the_progress_line_of_a_cut_short_epoch_counts_the_steps_it_ran(tmp_path):
    """7 steps with a backup every 3: Keras epochs of 3, 3 and 1 step. The last line must say
    1/1, not the nominal 3/3 (which also divides the time by 3)."""
    import re

    from click.testing import CliRunner

    from hypergan_tf_cli.main import cli

    result = CliRunner().invoke(cli, ["train", "--dataset", "digits", "--run-dir", str(tmp_path / "run"), "--steps", "7",
                                      "--backup-every", "3", "--networks-per-step", "3", "--batch-size", "32", "--code-dim", "8"])
    assert result.exit_code == 0, result.output
    counts = re.findall(r"^(\d+)/(\d+) - \d+s - \d+m?s/step", result.output, flags=re.MULTILINE)
    assert counts == [("3", "3"), ("3", "3"), ("1", "1")], result.output
