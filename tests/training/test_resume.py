"""A training process killed with SIGKILL resumes by re-running the same command."""

import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from hypergan_tf.training.backup import read_state

COMMAND = [
    "train", "--dataset", "digits", "--steps", "60", "--backup-every", "10",
    "--networks-per-step", "2", "--batch-size", "16", "--code-dim", "8",
]


def start(run_dir):
    code = "from hypergan_tf_cli.main import main; main()"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.Popen([sys.executable, "-c", code, *COMMAND, "--run-dir", str(run_dir)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def test_sigkill_at_a_random_step_then_the_same_command_resumes(tmp_path):
    run_dir = tmp_path / "run"
    process = start(run_dir)
    deadline = time.time() + 120
    while read_state(run_dir / "checkpoints") is None:  # wait for the first backup
        assert process.poll() is None, process.stdout.read()
        assert time.time() < deadline, "no backup written in time"
        time.sleep(0.05)
    time.sleep(random.uniform(0.0, 0.8))
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = read_state(run_dir / "checkpoints")
    if killed_at["step"] >= 60:
        pytest.skip("the run finished before the kill landed")
    assert not (run_dir / "model.weights.h5").exists()

    resumed = start(run_dir)
    output, _ = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, output
    assert f"resuming {run_dir} from its backup at step {killed_at['step']} of 60" in output
    summary = json.loads((run_dir / "train_summary.json").read_text())
    assert summary["steps"] == 60 and summary["resumed"] is True
    # The whole run's training time: the killed part's up to its backup, plus this part's.
    assert killed_at["train_seconds"] > 0
    assert summary["total_train_seconds"] == pytest.approx(killed_at["train_seconds"] + summary["train_seconds"], abs=0.2)
    assert not list((run_dir / "checkpoints").glob("*.partial*"))


def test_resumed_optimizer_state_continues(tmp_path, tiny_config):
    """After restore, the optimizer's step counter and moments are the backup's."""
    import keras
    import numpy as np

    from hypergan_tf.training.backup import RunBackup, restore
    from hypergan_tf.samplers import build_sampler

    def compiled():
        model = build_sampler(tiny_config)
        model.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(1e-3))
        return model

    model = compiled()
    x = np.random.default_rng(0).random((64, 28, 28, 1)).astype("float32")
    y = np.arange(64) % 10
    model.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=[RunBackup(tmp_path)])
    fresh = compiled()
    state = restore(fresh, tmp_path)
    assert state["step"] == 4 and int(fresh.g_optimizer.iterations.numpy()) == 4
    for a, b in zip(model.g_optimizer.variables, fresh.g_optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_the_weights_file_holds_the_trained_weights(tmp_path):
    """`train` copies the trained sampler into an uncompiled one, a variable at a time, for
    model.weights.h5: the same weights, modes included, as the last backup holds."""
    import numpy as np

    from hypergan_tf.config import TrainConfig
    from hypergan_tf.runs.load import load_run
    from hypergan_tf.samplers import build_sampler
    from hypergan_tf.training.backup import restore
    from hypergan_tf.training.loop import train
    from conftest import TINY

    config = TrainConfig(dataset="digits", steps=6, backup_every=6, modes=2, **TINY)
    train(config, tmp_path / "run", verbose=0)
    saved_config, final = load_run(tmp_path / "run")
    backed_up = build_sampler(saved_config, 6)
    backed_up.compile_from_config(saved_config, 6)
    assert restore(backed_up, tmp_path / "run" / "checkpoints")["step"] == 6
    assert len(final.weights) == len(backed_up.weights) and final.mode_weights
    fresh = build_sampler(saved_config, 6)
    moved = 0
    for a, b, start in zip(final.weights, backed_up.weights, fresh.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        moved += not np.array_equal(a.numpy(), start.numpy())
    assert moved > len(final.weights) // 2  # trained weights, not a fresh sampler's
