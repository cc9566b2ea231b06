"""Ablation of the diversity mechanisms (issue 3): one training run per mechanism, same budget.

Each row trains `hypergan-tf train --dataset D --steps STEPS` (D: --dataset, MNIST by
default) with the mechanism's options on top of PLAIN (every mechanism off: the
straightforward HyperGAN), then runs `hypergan-tf evaluate` and `hypergan-tf ood` against
the data set's out-of-distribution test set (data.OOD_PARTNERS: notMNIST for MNIST, CIFAR-10
classes 5-9 for CIFAR-5). Finished steps found in --work-dir (weights, evaluation, OOD
result) are reused, so an interrupted ablation continues where it stopped.

    python benchmarks/ablation.py --data-dir ../shared/datasets                  # every row
    python benchmarks/ablation.py --data-dir ../shared/datasets --rows plain,errors-1.0
    python benchmarks/ablation.py --data-dir ../shared/datasets --dataset cifar5 --steps 3150 --rows errors-1.0

Every row also gets a proxy of out-of-distribution detection that is not the OOD test set
(`proxy_aurocs`: validation images against rotated, upside-down and inverted copies and
against images of another kind: grey CIFAR-10 for digits, MNIST digits in colour for
CIFAR): the off-data rows of issue 18 are chosen by it and by the validation accuracy,
never by the OOD test set.

Prints a Markdown table and writes benchmarks/results/ablation_steps<STEPS>.json and .md
(ablation_<D>_steps<STEPS>.* for a data set other than MNIST).
Rows measured earlier at the same budget stay in those files (a run of a few rows
updates them), so the table always shows every row finished so far, in ROWS order.
Each row costs a training run (about 4-5 min at the default 1,100 steps on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

from results_io import RESULTS, write_result

from hypergan_tf.data import OOD_PARTNERS

# Every mechanism off (explicit, so the rows do not move when a default changes).
PLAIN = ["--diversity-weight", "0", "--no-batch-norm", "--batch-norm-affine", "--mixer-pretrain-steps", "0",
         "--mixer-noise", "0", "--beta", "1"]

DEFAULT_TERM = ["--diversity", "errors", "--diversity-weight", "1.0"]
SCREENED_PROBES = ["--off-data-probes", "48", "--off-data-networks", "32"]

# name -> (options added to PLAIN, what the row tests). Every row spells out its options, so a
# row keeps its meaning when the defaults change; errors-1.0 is the shipped default.
ROWS: dict[str, tuple[list[str], str]] = {
    "plain": ([], "every mechanism off: shared discriminator, beta 1"),
    "batch-norm": (["--batch-norm"], "batch norm over the K networks in mixer and generators (statistics recomputed at the end)"),
    "batch-norm-no-affine": (["--batch-norm", "--no-batch-norm-affine"], "the same without learned scale and shift"),
    "mixer-noise": (["--mixer-noise", "0.1"], "N(0, 0.1^2) added to the mixer's input"),
    "per-layer-d": (["--per-layer-discriminator"], "one discriminator per layer code"),
    "pretrain": (["--mixer-pretrain-steps", "500"], "mixer pre-trained to N(0, I) moments"),
    "beta-decay": (["--beta-final", "0"], "beta 1 -> 0 over training"),
    "function-0.5": (["--diversity", "function", "--diversity-weight", "0.5"], "ambiguity on the batch"),
    "weights-0.05": (["--diversity", "weights", "--diversity-weight", "0.05"], "repulsion of weights modulo scaling, weak"),
    "weights-0.5": (["--diversity", "weights", "--diversity-weight", "0.5"], "repulsion of weights modulo scaling"),
    "probes-0.1": (["--diversity", "probes", "--diversity-weight", "0.1"], "repulsion of predictions on between-class probes"),
    "probes-0.5": (["--diversity", "probes", "--diversity-weight", "0.5"], "the same, stronger"),
    "predictions-0.1": (["--diversity", "predictions", "--diversity-weight", "0.1"], "repulsion of predictions on the training batch"),
    "predictions-0.3": (["--diversity", "predictions", "--diversity-weight", "0.3"], "the same, stronger"),
    "errors-0.1": (["--diversity", "errors", "--diversity-weight", "0.1"], "repulsion of the distributions over the wrong classes on the batch"),
    "errors-0.3": (["--diversity", "errors", "--diversity-weight", "0.3"], "the same, stronger"),
    "errors-1.0": (["--diversity", "errors", "--diversity-weight", "1.0"], "the same, stronger: the shipped default"),
    "predictions-0.02": (["--diversity", "predictions", "--diversity-weight", "0.02"], "repulsion of predictions, weak: the default before errors-1.0"),
    # Issue 18: the shipped default plus uncertainty on inputs made away from the data (these rows
    # were screened with every network of the step on 48 probes, before the cheaper 8 x 32 default).
    "errors-1.0+off-entropy-0.5": (DEFAULT_TERM + SCREENED_PROBES + ["--off-data-weight", "0.5", "--off-data", "mixed", "--off-data-objective", "entropy"],
                                   "the default, plus the mean prediction's entropy on blends, shuffled patches and blobs"),
    "errors-1.0+off-disagreement-0.5": (DEFAULT_TERM + SCREENED_PROBES + ["--off-data-weight", "0.5", "--off-data", "mixed", "--off-data-objective", "disagreement"],
                                        "the same with the members' disagreement (mutual information) rewarded"),
    "errors-1.0+off-uniform-0.5": (DEFAULT_TERM + SCREENED_PROBES + ["--off-data-weight", "0.5", "--off-data", "mixed", "--off-data-objective", "uniform"],
                                   "the same with every member's own entropy rewarded (outlier exposure)"),
    "errors-1.0+off-entropy-0.1": (DEFAULT_TERM + SCREENED_PROBES + ["--off-data-weight", "0.1", "--off-data", "mixed", "--off-data-objective", "entropy"],
                                   "the entropy row, weaker"),
    # Issue 18: the shipped default plus the networks' repulsion in feature space (CKA between
    # their hidden layers' outputs on 32 images of the batch).
    "errors-1.0+features-0.01": (DEFAULT_TERM + ["--feature-diversity-weight", "0.01"], "the default, plus repulsion of the networks' hidden features (CKA)"),
    "errors-1.0+features-0.03": (DEFAULT_TERM + ["--feature-diversity-weight", "0.03"], "the same, stronger"),
    "errors-1.0+features-0.1": (DEFAULT_TERM + ["--feature-diversity-weight", "0.1"], "the same, stronger still"),
    "errors-1.0+modes-8": (DEFAULT_TERM + ["--modes", "8"], "the default, as a mixture of 8 modes (independently initialised weights of each mode)"),
    "predictions-0.02+early-stopping": (["--diversity", "predictions", "--diversity-weight", "0.02", "--early-stopping", "1", "--backup-every", "275"],
                                        "keep the best validation ensemble gain, checked every 275 steps"),
}


def hypergan_tf(*args: str) -> None:
    """Run the CLI as users do; a failing row stops the ablation with its output."""
    command = [sys.executable, "-m", "hypergan_tf_cli.main", *args]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{done.stdout}\n{done.stderr}")


def run_row(name: str, steps: int, work_dir: Path, data_dir: str, dataset: str = "mnist") -> dict:
    options, description = ROWS[name]
    run = work_dir / name
    partner = OOD_PARTNERS[dataset]
    ood_file = run / f"ood_{partner}.json"
    train_options = PLAIN + options
    if not (run / "model.weights.h5").exists():
        if run.exists():
            shutil.rmtree(run)
        hypergan_tf("train", "--dataset", dataset, "--data-dir", data_dir, "--run-dir", str(run), "--steps", str(steps), *train_options)
    evaluation_file = run / "evaluation.json"
    if not evaluation_file.exists() or "accuracy_over_groups" not in json.loads(evaluation_file.read_text())["ensembles"]["10"]:
        hypergan_tf("evaluate", str(run), "--data-dir", data_dir)  # absent, or from before the group means
    if not ood_file.exists():
        hypergan_tf("ood", str(run), "--out-dataset", partner, "--data-dir", data_dir)
    evaluation = json.loads((run / "evaluation.json").read_text())
    ood = json.loads(ood_file.read_text())
    single = evaluation["single_network"]["accuracy_mean"]
    ensembles = evaluation["ensembles"]
    diversity = evaluation["diversity"]
    return {
        "row": name,
        "options": " ".join(["plain:"] + options),
        "description": description,
        "train_seconds": json.loads((run / "train_summary.json").read_text())["train_seconds"],
        "single": single,
        "single_std": evaluation["single_network"]["accuracy_std"],
        "ensemble_10": ensembles["10"]["accuracy"],
        "ensemble_10_over_groups": ensembles["10"]["accuracy_over_groups"]["mean"],
        "ensemble_100": ensembles["100"]["accuracy"],
        "gain_10": diversity["ensemble_gain"]["10"],
        "gain_100": diversity["ensemble_gain"]["100"],
        "disagreement": diversity["pairwise_disagreement"],
        "l2_std_over_mean": diversity["l2_std_over_mean"],
        "modulo_scaling": diversity["symmetry_aware"],
        "ood_auroc_entropy": ood["scores"]["entropy"]["auroc"],
        "ood_auroc_by_ensemble_size": ood.get("entropy_auroc_by_ensemble_size"),
        "proxy_auroc_entropy": proxy_aurocs(run, data_dir),
    }


def proxy_aurocs(run: Path, data_dir: str) -> dict[str, float]:
    """What rows are chosen by, instead of the OOD test set: the entropy AUROC (100 networks)
    of telling 2,000 of the run's validation images from the same images rotated by 90
    degrees, upside down, inverted (1 - x), and from 2,000 test images of another kind at
    the run's size: CIFAR-10 in grey for grey images (`cifar10-grey`), MNIST digits in
    colour (grey in every channel) for colour ones (`mnist-colour`); `mean` is their mean.
    No row trains on any of these. Cached in the run."""
    cache = run / "proxy_ood.json"
    if cache.exists():
        return json.loads(cache.read_text())
    import numpy as np
    import tensorflow as tf

    from hypergan_tf.analysis.ood import entropy_auroc
    from hypergan_tf.data import load_dataset
    from hypergan_tf.data.pipelines import as_inputs, split_validation
    from hypergan_tf.runs.load import load_run

    config, model = load_run(run)
    data = load_dataset(config.dataset, data_dir)
    _, (images, _) = split_validation(data.train_images, data.train_labels, config.validation_examples, config.seed)
    images = as_inputs(images)[:2000]
    size = images.shape[1:3]
    if images.shape[-1] == 1:
        foreign = load_dataset("cifar10", data_dir, need_train=False).test_images[:2000]
        kind = {"cifar10-grey": tf.image.resize(tf.image.rgb_to_grayscale(as_inputs(foreign)), size).numpy()}
    else:
        foreign = load_dataset("mnist", data_dir, need_train=False).test_images[:2000]
        kind = {"mnist-colour": np.repeat(tf.image.resize(as_inputs(foreign), size).numpy(), images.shape[-1], axis=-1)}
    outside = {"rot90": np.rot90(images, 1, axes=(1, 2)).copy(), "upside-down": images[:, ::-1].copy(), "inverted": 1.0 - images,
               **kind}
    result = {name: entropy_auroc(model, images, other) for name, other in outside.items()}
    result["mean"] = float(np.mean(list(result.values())))
    cache.write_text(json.dumps(result))
    return result

def table(rows: list[dict]) -> str:
    header = ["row", "options", "single %", "10 nets %", "10 nets, mean of 10 groups %", "100 nets %", "gain 10", "gain 100", "disagreement",
              "L2 std/mean c1/c2/l1", "mod. scaling c1/c2/l1", "OOD AUROC", "proxy AUROC (mean)"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for r in rows:
        lines.append("| " + " | ".join([
            r["row"], f"`{r['options']}`", f"{100 * r['single']:.2f} +- {100 * r['single_std']:.2f}",
            f"{100 * r['ensemble_10']:.2f}", f"{100 * r['ensemble_10_over_groups']:.2f}", f"{100 * r['ensemble_100']:.2f}",
            f"{100 * r['gain_10']:+.2f}", f"{100 * r['gain_100']:+.2f}", f"{r['disagreement']:.4f}",
            "/".join(f"{v:.2f}" for v in r["l2_std_over_mean"].values()),
            "/".join(f"{v:.2f}" for v in r["modulo_scaling"].values()),
            f"{r['ood_auroc_entropy']:.3f}",
            f"{r['proxy_auroc_entropy']['mean']:.3f}" if "proxy_auroc_entropy" in r else "",
        ]) + " |")
    return "\n".join(lines)


def merged_rows(results_file: Path, new_rows: list[dict]) -> list[dict]:
    """Earlier rows of the same budget, replaced by the new ones where measured again, in ROWS order."""
    by_name = {}
    if results_file.exists():
        by_name = {row["row"]: row for row in json.loads(results_file.read_text())["rows"] if row["row"] in ROWS}
    by_name.update({row["row"]: row for row in new_rows})
    return [by_name[name] for name in ROWS if name in by_name]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, help="Folder with mnist/, notmnist/ and cifar10/ (e.g. ../shared/datasets).")
    parser.add_argument("--dataset", default="mnist", choices=list(OOD_PARTNERS),
                        help="What every row trains on (a data set with an out-of-distribution test set).")
    parser.add_argument("--steps", type=int, default=1100, help="Training steps per row (same budget for all).")
    parser.add_argument("--rows", default=",".join(ROWS), help=f"Comma-separated subset of: {', '.join(ROWS)}.")
    parser.add_argument("--work-dir", default=str(RESULTS / "ablation_runs"), help="Where the runs go (reused when present).")
    args = parser.parse_args()
    names = [name.strip() for name in args.rows.split(",") if name.strip()]
    unknown = [name for name in names if name not in ROWS]
    if unknown:
        parser.error(f"unknown rows {unknown}; choose from {', '.join(ROWS)}")
    budget = f"steps{args.steps}" if args.dataset == "mnist" else f"{args.dataset}_steps{args.steps}"
    work_dir = Path(args.work_dir) / budget
    rows = []
    for name in names:
        rows.append(run_row(name, args.steps, work_dir, args.data_dir, args.dataset))
        print(f"{name}: single {100 * rows[-1]['single']:.2f}%, 10 nets {100 * rows[-1]['ensemble_10']:.2f}%, "
              f"gain {100 * rows[-1]['gain_10']:+.2f} points", flush=True)
    results_file = RESULTS / f"ablation_{budget}.json"
    rows = merged_rows(results_file, rows)
    markdown = table(rows)
    print(markdown)
    write_result(results_file, {"steps": args.steps, "rows": rows})
    results_file.with_suffix(".md").write_text(markdown + "\n")


if __name__ == "__main__":
    main()
