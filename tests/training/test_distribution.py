"""tf.distribute: 2 logical CPUs with `mirrored`, and 2 local workers with `multiworker`."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

WORKER = str(Path(__file__).with_name("distributed_worker.py"))
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(Path(__file__).parents[2])}


def test_mirrored_on_two_logical_cpus_matches_one_device(tmp_path):
    result = subprocess.run([sys.executable, WORKER, "mirrored", str(tmp_path)], capture_output=True, text=True, env=ENV, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    assert report["loss_mirrored"] == pytest.approx(report["loss_default"], rel=1e-4), report
    # Summing the two shards' gradients changes float rounding; Adam normalises each
    # update, so a weight whose gradient is ~0 may step either way (|diff| <= 2 lr per
    # step). All but a few weights must agree closely.
    assert report["p99_abs_diff"] < 2e-4, report
    assert report["fraction_over_1e-4"] < 0.02, report
    assert report["max_abs_diff"] < 6 * 2e-3, report  # 6 steps of at most 2 * lr


def free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def test_two_workers_on_localhost_end_with_identical_weights(tmp_path):
    workers = [f"localhost:{free_port()}", f"localhost:{free_port()}"]
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        processes.append(subprocess.Popen(
            [sys.executable, WORKER, "multiworker", str(tmp_path / f"worker{index}")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**ENV, "TF_CONFIG": json.dumps(tf_config)},
        ))
    outputs = [p.communicate(timeout=600)[0] for p in processes]
    for p, output in zip(processes, outputs):
        assert p.returncode == 0, output
    first, second = (np.load(tmp_path / f"worker{i}" / "final_weights.npz") for i in range(2))
    assert len(first.files) > 10
    for name in first.files:
        np.testing.assert_array_equal(first[name], second[name])
    for index in range(2):
        summary = json.loads((tmp_path / f"worker{index}" / "train_summary.json").read_text())
        assert summary["steps"] == 6 and summary["replicas"] == 2, summary
