"""The HyperGAN paper's Table 2 on this machine: our test accuracy beside the paper's.

For each data set (MNIST, MNIST-5000, CIFAR-5, CIFAR-10) and method (HyperGAN, the
random-start ensemble, MC dropout) it trains the run with the data set's own defaults
(`hypergan-tf train --dataset D`, `hypergan-tf baseline --method M --dataset D`: no other
option, so the table shows what users get), evaluates it on the test split, and for the
data sets with an out-of-distribution partner (data.OOD_PARTNERS: MNIST and MNIST-5000
-> notMNIST, CIFAR-5 -> CIFAR-10 classes 5-9) scores the detection. Finished work in
--root is reused (weights, evaluation, OOD results); an interrupted training resumes
from its last backup. A run trained with an older recipe of its data set (a value of
config.DATASET_DEFAULTS that has changed since) is refused, not reused. Cells of
earlier invocations are kept in the table (benchmarks/results/paper_table.json); one
whose run has an older recipe by now is marked with * and a note of what changed.

    python benchmarks/paper_table.py --data-dir ../shared/datasets                     # everything
    python benchmarks/paper_table.py --data-dir ../shared/datasets --datasets cifar10 --methods hypergan

Prints Markdown tables and writes benchmarks/results/paper_table.json and .md. Every
figure comes from the test split; the networks are the evaluate command's (seed 12345).
Training times here: MNIST about 10 min, CIFAR-5 and CIFAR-10 up to an hour each on 2 CPU
cores (the baselines less).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from results_io import RESULTS, run_cli, write_result

# The paper's Table 2 (test accuracy %): HyperGAN with 1 / 5 / 10 / 100 networks, and its
# baselines with 100-member ensembles on the same target networks.
PAPER = {
    "mnist": {"hypergan": {"1": 98.64, "5": 98.75, "10": 99.22, "100": 99.31}, "mc-dropout": 98.73, "ensemble": 99.14},
    "mnist5000": {"hypergan": {"1": 96.69, "5": 97.24, "10": 97.33, "100": 97.71}, "mc-dropout": 95.58, "ensemble": 97.09},
    "cifar5": {"hypergan": {"1": 84.50, "5": 85.51, "10": 85.54, "100": 85.81}, "mc-dropout": 84.00, "ensemble": 83.84},
    "cifar10": {"hypergan": {"1": 76.32, "5": 76.84, "10": 77.52, "100": 77.71}, "mc-dropout": 72.75, "ensemble": 74.79},
}
METHODS = ("hypergan", "ensemble", "mc-dropout")
NAMES = {"hypergan": "HyperGAN", "ensemble": "random-start ensemble", "mc-dropout": "MC dropout"}


def is_fresh(result: Path, weights: Path) -> bool:
    return result.is_file() and result.stat().st_mtime_ns >= weights.stat().st_mtime_ns


def recipe_changes(run: Path, dataset: str, method: str) -> dict:
    """{option: (the run's value, today's default)} for each recipe value (config.DATASET_DEFAULTS)
    that `run` was trained without: a run of an older recipe is not what users get now. Only
    the options the method's command takes count (a baseline has no diversity term)."""
    from hypergan_tf.config import DATASET_DEFAULTS, TrainConfig
    from hypergan_tf_cli.commands.train import baseline, train

    takes = {parameter.name for parameter in (train if method == "hypergan" else baseline).params}

    def here(key, value):  # --precision auto is the format it resolves to on this machine
        return TrainConfig(precision=value).resolved_precision() if key == "precision" else value

    recorded = TrainConfig.load(run / "config.json").to_dict()  # a key older than the run: its default, as train reads it
    today = TrainConfig.for_dataset({"dataset": dataset, "method": method}).to_dict()
    return {key: (recorded[key], today[key]) for key in DATASET_DEFAULTS.get(dataset, {})
            if key in takes and here(key, recorded[key]) != here(key, today[key])}


def run_cell(dataset: str, method: str, root: Path, data_dir: str) -> dict:
    """Train (or reuse), evaluate and score OOD for one data set and method."""
    from hypergan_tf.data import OOD_PARTNERS

    run = root / dataset / method
    weights = run / "model.weights.h5"
    data = ["--data-dir", data_dir]
    if (run / "config.json").is_file() and (changes := recipe_changes(run, dataset, method)):
        listed = ", ".join(f"{key} {old} (now {new})" for key, (old, new) in changes.items())
        sys.exit(f"Error: {run} was trained with an older {dataset} recipe: {listed}; move it aside "
                 "(or give another --root) to train the current one")
    if not weights.is_file():
        command = ["train"] if method == "hypergan" else ["baseline", "--method", method]
        run_cli(*command, "--dataset", dataset, "--run-dir", str(run), *data)  # resumes a run with backups
    if not is_fresh(run / "evaluation.json", weights):
        run_cli("evaluate", str(run), *data)
    partner = OOD_PARTNERS.get(dataset)
    if partner and not is_fresh(run / f"ood_{partner}.json", weights):
        run_cli("ood", str(run), "--out-dataset", partner, *data)
    evaluation = json.loads((run / "evaluation.json").read_text())
    summary = json.loads((run / "train_summary.json").read_text())
    config = json.loads((run / "config.json").read_text())
    cell = {
        "dataset": dataset, "method": method, "run": str(run),
        # The whole run's training time; a run resumed from a backup older than that record: its last part only.
        "train_seconds": summary.get("total_train_seconds") or summary["train_seconds"],
        "last_part_only": summary["resumed"] and not summary.get("total_train_seconds"),
        "resumed": summary["resumed"], "steps": summary["steps"],
        "options": {key: config[key] for key in ("target", "steps", "epochs", "batch_size", "networks_per_step", "members",
                                                 "augment", "precision", "diversity", "diversity_weight", "diversity_scale",
                                                 "diversity_delay", "diversity_warmup", "off_data_weight", "off_data_objective",
                                                 "feature_diversity_weight", "modes") if key in config},
        "single_mean": evaluation["single_network"]["accuracy_mean"],
        "single_std": evaluation["single_network"]["accuracy_std"],
        "ensembles": {size: values["accuracy"] for size, values in evaluation["ensembles"].items()},
        "gain_10": evaluation["diversity"].get("ensemble_gain", {}).get("10"),
    }
    if partner:
        ood = json.loads((run / f"ood_{partner}.json").read_text())
        cell["ood"] = {"out_dataset": partner, "ensemble_size": ood["ensemble_size"],
                       **{score: ood["scores"][score]["auroc"] for score in ("entropy", "variance", "mutual_information")},
                       "aupr_entropy": ood["scores"]["entropy"].get("aupr")}
    return cell


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def older(cell: dict) -> str:
    """" *" after a figure of a run trained with an older recipe (kept from an earlier table)."""
    return " *" if cell.get("older_recipe") else ""


def part(cell: dict) -> str:
    """"+" after the time of a resumed run whose earlier parts' time is unknown."""
    return "+" if cell.get("last_part_only") else ""


def tables(cells: list[dict]) -> str:
    datasets = [d for d in PAPER if any(c["dataset"] == d for c in cells)]
    at = {(c["dataset"], c["method"]): c for c in cells}
    lines = ["Test accuracy %, ours (paper). HyperGAN: the mean single network over 100 sampled networks, then ensembles "
             "of the first 5 / 10 / 100; baselines: their whole ensemble (the paper's used 100 members).", "",
             "| | " + " | ".join(datasets) + " |", "| --- |" + " --- |" * len(datasets)]
    for size, label in (("1", "HyperGAN, 1 network (mean)"), ("5", "HyperGAN, 5 networks"), ("10", "HyperGAN, 10 networks"),
                        ("100", "HyperGAN, 100 networks")):
        row = []
        for d in datasets:
            cell = at.get((d, "hypergan"))
            ours = None if cell is None else cell["single_mean"] if size == "1" else cell["ensembles"].get(size)
            row.append(f"{pct(ours)}{older(cell or {})} ({PAPER[d]['hypergan'][size]:.2f})")
        lines.append(f"| {label} | " + " | ".join(row) + " |")
    for method in ("mc-dropout", "ensemble"):
        row = []
        for d in datasets:
            cell = at.get((d, method))
            ours = None if cell is None else cell["ensembles"][max(cell["ensembles"], key=int)]
            row.append(f"{pct(ours)}{older(cell or {})} ({PAPER[d][method]:.2f})")
        lines.append(f"| {NAMES[method]} | " + " | ".join(row) + " |")
    lines += ["", "Training wall time (minutes; a resumed run counts each part up to its last backup; + : its last part only, "
              "resumed from a backup too old to record the earlier time) and steps:", "",
              "| method | " + " | ".join(datasets) + " |", "| --- |" + " --- |" * len(datasets)]
    for method in METHODS:
        row = [f"{at[(d, method)]['train_seconds'] / 60:.1f}{part(at[(d, method)])}{older(at[(d, method)])} ({at[(d, method)]['steps']:,} steps)"
               if (d, method) in at else "-" for d in datasets]
        lines.append(f"| {NAMES[method]} | " + " | ".join(row) + " |")
    ood_cells = [c for c in cells if "ood" in c]
    if ood_cells:
        lines += ["", "Out-of-distribution detection, AUROC (test split in, the partner set out):", "",
                  "| data set -> out | method | networks | entropy | variance | mutual information | AUPR (entropy) |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        for c in ood_cells:
            o = c["ood"]
            aupr = "-" if o["aupr_entropy"] is None else f"{o['aupr_entropy']:.3f}"
            lines.append(f"| {c['dataset']} -> {o['out_dataset']} | {NAMES[c['method']]}{older(c)} | {o['ensemble_size']} | {o['entropy']:.3f} | "
                         f"{o['variance']:.3f} | {o['mutual_information']:.3f} | {aupr} |")
    stale = [c for c in cells if c.get("older_recipe")]
    if stale:
        lines += ["", "\\* trained with an older recipe of its data set, kept from an earlier table (retrain it to update): " + "; ".join(
            f"{c['dataset']} {NAMES[c['method']]}: " + ", ".join(f"{key} {old} (now {new})" for key, (old, new) in c["older_recipe"].items())
            for c in stale) + "."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="Folder with mnist/, notmnist/ and cifar10/ (e.g. ../shared/datasets).")
    parser.add_argument("--datasets", default=",".join(PAPER), help=f"Comma-separated subset of: {', '.join(PAPER)}.")
    parser.add_argument("--methods", default=",".join(METHODS), help=f"Comma-separated subset of: {', '.join(METHODS)}.")
    parser.add_argument("--root", default=str(RESULTS / "paper_runs"), help="Where the runs go (reused when present).")
    args = parser.parse_args()
    datasets = [d.strip() for d in args.datasets.split(",") if d.strip()]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if set(datasets) - set(PAPER) or set(methods) - set(METHODS):
        parser.error(f"choose --datasets from {', '.join(PAPER)} and --methods from {', '.join(METHODS)}")
    results_file = RESULTS / "paper_table.json"
    earlier = json.loads(results_file.read_text())["cells"] if results_file.is_file() else []
    cells = {}
    for cell in earlier:  # kept, but marked if their recipe has changed since
        run = Path(cell["run"])
        cell["older_recipe"] = recipe_changes(run, cell["dataset"], cell["method"]) if (run / "config.json").is_file() else {}
        cells[(cell["dataset"], cell["method"])] = cell
    for dataset in datasets:
        for method in methods:
            cells[(dataset, method)] = run_cell(dataset, method, Path(args.root), args.data_dir)
            write_result(results_file, {"cells": list(cells.values())})  # after each cell: an interruption keeps the finished ones
    ordered = [cells[key] for key in sorted(cells, key=lambda k: (list(PAPER).index(k[0]), METHODS.index(k[1])))]
    markdown = tables(ordered)
    print(markdown)
    results_file.with_suffix(".md").write_text(markdown + "\n")


if __name__ == "__main__":
    main()
