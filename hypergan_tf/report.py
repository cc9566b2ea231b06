"""`write_report`: the paper-style tables for several runs side by side, in Markdown.

Reads what the analysis commands wrote into each run directory (`evaluation.json`,
`diversity.json`, `ood_*.json`, `attack_*.json` and their plots), computing the
evaluation and the diversity table where they are missing, and writes `OUT/report.md`
with the plots copied next to it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from hypergan_tf.atomic import write_json, write_text
from hypergan_tf.config import TrainConfig
from hypergan_tf.errors import HyperganError
from hypergan_tf.training import CONFIG_FILE


def _load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def _label(run_dir: Path) -> str:
    config = TrainConfig.load(run_dir / CONFIG_FILE)
    what = "HyperGAN" if config.method == "hypergan" else {"ensemble": f"random-start ensemble ({config.members})", "mc-dropout": "MC dropout", "single": "single network"}[config.method]
    return f"{run_dir.name} ({what})"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)] + ["| " + " | ".join(row) + " |" for row in rows]


def _pct(value) -> str:
    return "" if value is None else f"{100 * value:.2f}%"


def _ensemble_cell(row: dict) -> str:
    """The first n networks' accuracy, and the mean over disjoint groups of n when known."""
    groups = row.get("accuracy_over_groups")
    return _pct(row.get("accuracy")) + (f" ({_pct(groups['mean'])} over {groups['num_groups']} groups)" if groups else "")


def _points(value) -> str:
    return "" if value is None else f"{100 * value:+.2f}"


def write_report(run_dirs, out: str | Path, compute_missing: bool = True) -> Path:
    from hypergan_tf.evaluation import evaluate_run
    from hypergan_tf.diversity import layer_table
    from hypergan_tf.sampling import networks_available
    from hypergan_tf.training import load_run

    runs = [Path(r) for r in run_dirs]
    for run in runs:
        if not (run / CONFIG_FILE).is_file():
            raise HyperganError(f"{run / CONFIG_FILE} not found: is {run} a run directory written by 'hypergan-tf train' or 'baseline'?")
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise HyperganError(f"cannot create {out} ({err.strerror}); choose a writable --out") from None

    labels = {run: _label(run) for run in runs}
    evaluations, diversities = {}, {}
    for run in runs:
        evaluations[run] = _load(run / "evaluation.json")
        if evaluations[run] is None and compute_missing:
            evaluations[run] = evaluate_run(run)
            write_json(run / "evaluation.json", evaluations[run])
        diversities[run] = _load(run / "diversity.json")
        if diversities[run] is None and compute_missing:
            _, model = load_run(run)
            n = networks_available(model, 100)
            diversities[run] = {"num_networks": n, "layers": layer_table(model.target, model.sample_networks(n))}

    lines = ["# HyperGAN report", "", "Runs: " + ", ".join(f"`{labels[r]}`" for r in runs), ""]
    sizes = sorted({int(s) for r in runs if evaluations[r] for s in evaluations[r]["ensembles"]})
    gain_sizes = [s for s in sizes if s >= 2]
    lines += ["## Test accuracy", ""]
    rows = []
    for run in runs:
        ev = evaluations[run]
        if ev is None:
            continue
        single = ev["single_network"]
        rows.append([labels[run], f"{_pct(single['accuracy_mean'])} +- {100 * single['accuracy_std']:.2f}"]
                    + [_ensemble_cell(ev["ensembles"].get(str(s), {})) for s in sizes]
                    + [f"{ev['diversity']['pairwise_disagreement']:.4f}"]
                    + [_points(ev["diversity"].get("ensemble_gain", {}).get(str(s))) for s in gain_sizes])
    lines += _table(["run", "single network"] + [f"{s} networks" for s in sizes] + ["pairwise disagreement"]
                    + [f"gain {s} (points)" for s in gain_sizes], rows) + [""]

    lines += ["## Diversity (L2 norm of each layer's kernel over sampled networks)", ""]
    rows = []
    for run in runs:
        div = diversities[run]
        if div:
            rows += [[labels[run], layer, f"{v['l2_mean']:.3f}", f"{v['l2_std']:.3f}", f"{v['std_over_mean']:.3f}",
                      f"{v['symmetry_aware']:.3f}" if "symmetry_aware" in v else ""] for layer, v in div["layers"].items()]
    lines += _table(["run", "layer", "mean", "std", "std/mean", "modulo scaling (NN distance)"], rows) + [""]

    lines += ["## Out-of-distribution detection (AUROC / AUPR)", ""]
    rows = []
    for run in runs:
        for path in sorted(run.glob("ood_*.json")):
            ood = _load(path)
            rows.append([labels[run], f"{ood['in_dataset']} -> {ood['out_dataset']}", str(ood["ensemble_size"])]
                        + [f"{ood['scores'][k]['auroc']:.4f} / {ood['scores'][k]['aupr']:.4f}" for k in ("entropy", "variance", "mutual_information")])
    lines += (_table(["run", "split", "networks", "entropy", "variance", "mutual information"], rows) if rows
              else ["No OOD results yet: run `hypergan-tf ood RUN --out-dataset notmnist`."]) + [""]

    lines += ["## Adversarial examples (accuracy / mean entropy / detection AUROC by entropy)", ""]
    for method in ("fgsm", "pgd"):
        results = {run: _load(run / f"attack_{method}.json") for run in runs}
        results = {run: r for run, r in results.items() if r}
        if not results:
            lines += [f"No {method.upper()} results yet: run `hypergan-tf attack RUN --method {method}`.", ""]
            continue
        epsilons = sorted({e for r in results.values() for e in r["epsilons"]}, key=float)
        rows = []
        for run, r in results.items():
            rows.append([labels[run], f"{_pct(r['clean']['accuracy'])} / {r['clean']['mean_entropy']:.3f}"]
                        + [(lambda row: f"{_pct(row['accuracy'])} / {row['mean_entropy']:.3f} / {row['auroc_entropy']:.3f}" if row else "")(r["epsilons"].get(e)) for e in epsilons])
        lines += [f"### {method.upper()}", ""] + _table(["run", "clean"] + [f"eps {e}" for e in epsilons], rows) + [""]

    plots = []
    for run in runs:
        for png in sorted(run.glob("*.png")):
            target = out / f"{run.name}_{png.name}"
            shutil.copyfile(png, target)
            plots.append((labels[run], png.stem, target.name))
    if plots:
        lines += ["## Plots", ""] + [f"**{label}, {stem}**\n\n![{stem}]({name})\n" for label, stem, name in plots]
    path = out / "report.md"
    write_text(path, "\n".join(lines) + "\n")
    return path
