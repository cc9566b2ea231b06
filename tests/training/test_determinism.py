"""--deterministic: the same seed gives bit-identical weights (fresh processes, since op
determinism is a process-wide switch)."""

import os
import subprocess
import sys

import numpy as np

from hypergan_tf.runs import load_run

COMMAND = ["train", "--dataset", "digits", "--steps", "8", "--networks-per-step", "3", "--batch-size", "16",
           "--code-dim", "8", "--deterministic"]


def train_in_fresh_process(run_dir, seed=11):
    code = "from hypergan_tf_cli.main import main; main()"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run([sys.executable, "-c", code, *COMMAND, "--seed", str(seed), "--run-dir", str(run_dir)], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return [w.numpy() for w in load_run(run_dir)[1].weights]


def test_same_seed_same_weights(tmp_path):
    first, second = train_in_fresh_process(tmp_path / "a"), train_in_fresh_process(tmp_path / "b")
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    other = train_in_fresh_process(tmp_path / "c", seed=12)
    assert any(not np.array_equal(a, c) for a, c in zip(first, other)), "the seed must matter"
