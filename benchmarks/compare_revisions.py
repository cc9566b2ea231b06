"""Is this working tree's HyperGAN training step slower than an earlier revision's?

    python benchmarks/compare_revisions.py --base REV [--networks 32,100] [--precision float32] [--rounds 4] [--steps 8] [--json PATH]

Both packages are loaded into one process (REV's `hypergan_tf` is extracted with
`git archive` and imported under another name), both models are built from the same
default TrainConfig (with --precision, where the revision has it), and their graph-mode train steps are timed in interleaved rounds
(ABAB, then BABA), so a machine that slows down or speeds up during the run affects
both alike. Each model is compiled as `train` compiles it (`compile_from_config`, where
the revision has it), so a change of optimizer counts. Prints the medians and their ratio and writes JSON (default
benchmarks/results/compare_revisions.json). Absolute times on a shared machine move
(the same step has measured 0.22 s and 0.41 s on this machine class on different days);
the ratio is the figure to quote.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import platform
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from results_io import RESULTS, write_result

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BASE_PACKAGE = "hypergan_tf_base"


def import_base(rev: str, folder: Path):
    """REV's hypergan_tf, importable as `hypergan_tf_base`."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "hypergan_tf"], check=True, capture_output=True).stdout
    tarfile.open(fileobj=io.BytesIO(archive)).extractall(folder, filter="data")
    (folder / "hypergan_tf").rename(folder / BASE_PACKAGE)
    for path in (folder / BASE_PACKAGE).rglob("*.py"):
        path.write_text(re.sub(r"\bhypergan_tf\b", BASE_PACKAGE, path.read_text()))
    sys.path.insert(0, str(folder))
    return importlib.import_module(BASE_PACKAGE)


def build(package: str, networks: int, precision: str):
    """A compiled HyperGAN of `package` (either layout: samplers.build_sampler or hypergan.build_hypergan)."""
    config_module = importlib.import_module(f"{package}.config")
    extra = {"precision": precision} if precision != "float32" else {}  # revisions before --precision ran float32
    config = config_module.TrainConfig(networks_per_step=networks, num_classes=10, input_mean=0.13, input_std=0.31, **extra)
    try:
        model = importlib.import_module(f"{package}.samplers").build_sampler(config)
    except ModuleNotFoundError:
        model = importlib.import_module(f"{package}.hypergan").build_hypergan(config)
    if hasattr(model, "compile_from_config"):  # the optimizers `train` builds (FusedAdam since issue 15)
        model.compile_from_config(config, 3300)
    else:
        model.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(1e-4))
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True, help="git revision to compare against, e.g. HEAD~1")
    parser.add_argument("--networks", default="32,100", help="comma-separated K values")
    parser.add_argument("--precision", default="float32", choices=("float32", "bfloat16"), help="the steps' --precision")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds (each times both)")
    parser.add_argument("--steps", type=int, default=8, help="timed steps per model per round")
    parser.add_argument("--json", default=str(RESULTS / "compare_revisions.json"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        import_base(args.base, Path(folder))
        rng = np.random.default_rng(0)
        images = tf.constant(rng.random((100, 28, 28, 1), dtype=np.float32))
        labels = tf.constant(rng.integers(0, 10, 100).astype(np.int32))
        rows = []
        print(f"{'K':>5} {'base s':>8} {'this tree s':>12} {'ratio':>7}   (base: {args.base}, {args.precision})")
        for k in [int(v) for v in args.networks.split(",")]:
            steps = {name: tf.function(build(package, k, args.precision).train_step) for name, package in (("base", BASE_PACKAGE), ("tree", "hypergan_tf"))}
            for step in steps.values():
                for _ in range(3):  # trace and warm up
                    step((images, labels))["g_loss"].numpy()
            times = {"base": [], "tree": []}
            for round_ in range(args.rounds):
                for name in (("base", "tree") if round_ % 2 == 0 else ("tree", "base")):
                    for _ in range(args.steps):
                        start = time.perf_counter()
                        steps[name]((images, labels))["g_loss"].numpy()
                        times[name].append(time.perf_counter() - start)
            row = {"networks_per_step": k, "base_median_s": statistics.median(times["base"]),
                   "tree_median_s": statistics.median(times["tree"]), "base_times_s": times["base"], "tree_times_s": times["tree"]}
            row["tree_over_base"] = row["tree_median_s"] / row["base_median_s"]
            rows.append(row)
            print(f"{k:>5} {row['base_median_s']:>8.3f} {row['tree_median_s']:>12.3f} {row['tree_over_base']:>6.2f}x")
    write_result(args.json, {
        "benchmark": "compare_revisions", "base": args.base, "precision": args.precision, "steps_per_round": args.steps, "rounds": args.rounds,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "tensorflow": tf.__version__},
        "results": rows,
    })


if __name__ == "__main__":
    main()
