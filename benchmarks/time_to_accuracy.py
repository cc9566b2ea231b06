"""Training time until the sampled networks reach 97%, 98% and 98.5% on MNIST, per precision.

    python benchmarks/time_to_accuracy.py --data-dir ../shared/datasets [--precisions float32,bfloat16]

For each --precision it trains the default MNIST HyperGAN (`hypergan-tf train --dataset
mnist`: MNIST's recipe, config.DATASET_DEFAULTS, every other option at its default; runs
under --runs-dir of an older recipe are reused as they are) with one change: a Keras epoch, hence a
validation, every --eval-every steps (`--backup-every`; default 110, five per pass over
the data) instead of every 550, which only changes how often the run is measured. Then:

- the validation curve from the run's train_summary.json ("curve": the mean accuracy of
  10 sampled networks on the 5,000 validation images after every epoch, against the
  training time "steps_seconds": wall time less the first step's tracing, validation,
  summaries and backups, training/callbacks.py PhaseClock) and the first time each
  threshold is reached;
- the whole run's time split by phase, and the wall time of a default run projected
  from it (the validation, summaries and backups of its epochs instead of this run's);
- peak memory (max RSS of the training process) and the test accuracy of `evaluate`
  (seed 12345: mean network, 10 and 100 networks).

Finished runs under --runs-dir are reused (delete one to measure it again). Writes
benchmarks/results/time_to_accuracy.json and a plot of validation accuracy against
training time with the authors' GPU figures (FINDINGS.md: their code on one H200, test
accuracy against wall minutes) beside it: time_to_accuracy.png.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from results_io import RESULTS, run_cli, write_result

from hypergan_tf.config import TrainConfig
from hypergan_tf.data.pipelines import validation_count

THRESHOLDS = (0.97, 0.98, 0.985)
# MNIST's default run: one validation, summary and backup every backup interval (by default
# a pass of 550 steps) and at its last step.
_DEFAULT = TrainConfig.for_dataset({"dataset": "mnist"})
_PASS = (60_000 - validation_count(60_000, _DEFAULT.validation_examples)) // _DEFAULT.batch_size  # MNIST's 60,000 training images
DEFAULT_VALIDATIONS = math.ceil((_DEFAULT.steps or _DEFAULT.epochs * _PASS) / (_DEFAULT.backup_every or _PASS))
# The authors' code on one NVIDIA H200, their MNIST defaults (K = 100): (wall minutes, test accuracy).
AUTHORS_GPU = ((1.4, 0.137), (2.7, 0.370), (3.9, 0.783), (5.2, 0.866))


def first_reached(curve: list[dict], threshold: float) -> dict | None:
    """The first epoch whose mean validation accuracy is >= threshold, or None."""
    return next(({"step": e["step"], "steps_seconds": e["steps_seconds"], "wall_seconds": e["wall_seconds"]}
                 for e in curve if e["val_accuracy"] >= threshold), None)


def measure(precision: str, args, previous: dict) -> dict:
    run = Path(args.runs_dir) / precision
    if (run / "evaluation.json").is_file() and precision in previous:
        print(f"reusing {run}", flush=True)
        return previous[precision]
    peak_file = run.parent / f"{precision}.peak_rss_bytes"  # beside the run: `train --overwrite` would not keep it
    if not (run / "model.weights.h5").is_file():
        peak = run_cli("train", "--dataset", "mnist", "--data-dir", args.data_dir, "--run-dir", str(run), "--seed", str(args.seed),
                       "--backup-every", str(args.eval_every), "--precision", precision)
        peak_file.write_text(str(peak))
    peak = int(peak_file.read_text()) if peak_file.is_file() else None
    run_cli("evaluate", str(run))
    summary = json.loads((run / "train_summary.json").read_text())
    evaluation = json.loads((run / "evaluation.json").read_text())
    phases = summary["phase_seconds"]
    epochs = len(summary["curve"])
    per_epoch = sum(phases[name] for name in ("validation", "summaries", "backups")) / epochs
    projected = phases["first_step"] + phases["steps"] + phases["finish"] + DEFAULT_VALIDATIONS * per_epoch
    return {
        "precision": precision,
        "run": str(run),
        "steps": summary["steps"],
        "validations": epochs,
        "reached": {f"{t:.3f}": first_reached(summary["curve"], t) for t in THRESHOLDS},
        "phase_seconds": phases,
        "wall_seconds": round(sum(phases.values()), 1),
        "projected_default_wall_seconds": round(projected, 1),  # DEFAULT_VALIDATIONS validations, summaries and backups
        "seconds_per_step": round(phases["steps"] / summary["steps"], 4),
        "peak_rss_bytes": peak,
        "test": {
            "single_mean": evaluation["single_network"]["accuracy_mean"],
            "single_std": evaluation["single_network"]["accuracy_std"],
            "ensemble_10": evaluation["ensembles"]["10"]["accuracy"],
            "ensemble_100": evaluation["ensembles"]["100"]["accuracy"],
        },
        "curve": [{"step": e["step"], "steps_seconds": e["steps_seconds"], "val_accuracy": e["val_accuracy"],
                   "val_ensemble_accuracy": e["val_ensemble_accuracy"]} for e in summary["curve"]],
    }


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for axis, low in zip(axes, (0, 95)):  # the whole range, and the last points up close
        for result in results:
            minutes = [e["steps_seconds"] / 60 for e in result["curve"]]
            axis.plot(minutes, [100 * e["val_accuracy"] for e in result["curve"]], marker=".",
                      label=f"hypergan-tf, 2 CPU cores, {result['precision']} (validation, mean network)")
        axis.plot([m for m, _ in AUTHORS_GPU], [100 * a for _, a in AUTHORS_GPU], marker="s", linestyle="--",
                  label="authors' code, one H200 GPU (test, FINDINGS.md)")
        for threshold in THRESHOLDS:
            axis.axhline(100 * threshold, color="grey", linewidth=0.5)
        axis.set_ylim(low, 100)
        axis.set_xlabel("training time (minutes)")
        axis.set_ylabel("accuracy (%)")
    axes[0].legend(fontsize=8, loc="lower right")
    figure.suptitle("MNIST: accuracy of a sampled network against training time")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    print(f"wrote {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", required=True, help="offline data sets, e.g. ../shared/datasets")
    parser.add_argument("--precisions", default="float32,bfloat16")
    parser.add_argument("--eval-every", type=int, default=110, help="steps between validations (--backup-every)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs-dir", default=str(RESULTS / "time_to_accuracy_runs"))
    parser.add_argument("--json", default=str(RESULTS / "time_to_accuracy.json"))
    args = parser.parse_args()
    path = Path(args.json)
    previous = {r["precision"]: r for r in json.loads(path.read_text())["results"]} if path.is_file() else {}
    results = []
    for precision in args.precisions.split(","):
        results.append(measure(precision, args, previous))
        write_result(path, {"benchmark": "time_to_accuracy", "dataset": "mnist", "seed": args.seed, "eval_every": args.eval_every,
                            "thresholds": THRESHOLDS, "authors_gpu_minutes_test_accuracy": AUTHORS_GPU, "results": results})
    print(f"\n{'precision':<10} {'s/step':>7} " + " ".join(f"{'to ' + format(100 * t, 'g') + '%':>10}" for t in THRESHOLDS)
          + f" {'wall':>8} {'default':>8} {'peak GiB':>9} {'test 1 / 10 / 100 (%)':>24}")
    for r in results:
        reached = " ".join(f"{(r['reached'][f'{t:.3f}'] or {}).get('steps_seconds', float('nan')) / 60:>9.2f}m" for t in THRESHOLDS)
        test = r["test"]
        peak = f"{r['peak_rss_bytes'] / 2**30:.2f}" if r["peak_rss_bytes"] else "n/a"
        print(f"{r['precision']:<10} {r['seconds_per_step']:>7.3f} {reached} {r['wall_seconds'] / 60:>7.1f}m "
              f"{r['projected_default_wall_seconds'] / 60:>7.1f}m {peak:>9} "
              f"{100 * test['single_mean']:>8.2f} / {100 * test['ensemble_10']:.2f} / {100 * test['ensemble_100']:.2f}")
    plot(results, path.with_suffix(".png"))


if __name__ == "__main__":
    main()
