"""Peak memory and step time of MNIST training for K = 32 and 100, per precision, with and
without --recompute (groups of --group networks).

    python benchmarks/memory.py --data-dir ../shared/datasets [--networks 32,100] [--steps 20] [--group 8]

Each configuration is a real `hypergan-tf train --dataset mnist --steps N` in its own
process (the defaults otherwise; one validation, summary and backup at the end): its
peak resident memory (max RSS, os.wait4) and its mean step time: the run's "steps"
phase over its steps but the first, which traces the graph (training/callbacks.py PhaseClock). Prints
a table and writes JSON (default benchmarks/results/memory.json). The runs go to a
temporary folder and are deleted.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from results_io import RESULTS, run_cli, write_result

PRECISIONS = ("float32", "bfloat16")


def train(run: Path, data_dir: str, networks: int, steps: int, precision: str, recompute: int) -> dict:
    args = ["train", "--dataset", "mnist", "--data-dir", data_dir, "--run-dir", str(run), "--steps", str(steps),
            "--networks-per-step", str(networks), "--precision", precision, "--recompute", str(recompute)]
    peak = run_cli(*args, quiet=True)
    summary = json.loads((run / "train_summary.json").read_text())
    return {"networks_per_step": networks, "precision": precision, "recompute": recompute, "steps": steps,
            "peak_rss_bytes": peak, "seconds_per_step": summary["phase_seconds"]["steps"] / (steps - 1),
            "phase_seconds": summary["phase_seconds"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--networks", default="32,100")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--group", type=int, default=8, help="networks per --recompute group")
    parser.add_argument("--json", default=str(RESULTS / "memory.json"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for networks in (int(k) for k in args.networks.split(",")):
            for recompute in (0, args.group):
                for precision in PRECISIONS:
                    rows.append(train(Path(folder) / f"k{networks}-{precision}-{recompute}", args.data_dir, networks, args.steps, precision, recompute))
    print(f"\n{'K':>4} {'precision':<9} {'recompute':>9} {'peak RSS GiB':>12} {'s/step':>7}")
    for row in rows:
        print(f"{row['networks_per_step']:>4} {row['precision']:<9} {row['recompute']:>9} {row['peak_rss_bytes'] / 2**30:>12.2f} {row['seconds_per_step']:>7.3f}")
    write_result(args.json, {"benchmark": "memory", "dataset": "mnist", "batch_size": 100, "results": rows})


if __name__ == "__main__":
    main()
