"""`write_report`: the paper-style tables for several runs side by side, in Markdown.

Reads what the analysis commands wrote into each run directory (`evaluation.json`,
`diversity.json`, `ood_*.json`, `attack_*.json` and their plots), computing the
evaluation and the diversity table where they are missing, and writes `OUT/report.md`
with the plots copied next to it.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from hypergan_tf.analysis.diversity import layer_table
from hypergan_tf.analysis.evaluate import evaluate
from hypergan_tf.atomic import write_json, write_text
from hypergan_tf.errors import HyperganError
from hypergan_tf.runs import load_run, load_test_split, require_task
from hypergan_tf.runs.directory import CONFIG_FILE, DIVERSITY_FILE, EVALUATION_FILE, attack_files, is_stale, ood_files


# What the report reads of each result file: keys, nested; "*" stands for every entry.
SCORE = {"auroc": None, "aupr": None}
SCHEMAS = {
    "evaluation": {"single_network": {"accuracy_mean": None, "accuracy_std": None}, "ensembles": None,
                   "diversity": {"pairwise_disagreement": None}},
    "diversity": {"layers": {"*": {"l2_mean": None, "l2_std": None, "std_over_mean": None}}},
    "ood": {"in_dataset": None, "out_dataset": None, "ensemble_size": None,
            "scores": {"entropy": SCORE, "variance": SCORE, "mutual_information": SCORE}},
    "attack": {"clean": {"accuracy": None, "mean_entropy": None},
               "epsilons": {"*": {"accuracy": None, "mean_entropy": None, "auroc_entropy": None}}},
}


_MISSING = object()


def _missing(value, schema: dict | None, where: str = "") -> str | None:
    """The first key `schema` asks for that `value` lacks, as a path ("scores.entropy.auroc")."""
    if schema is None:
        return None
    if not isinstance(value, dict):
        return where or "a JSON object"
    for key, inner in schema.items():
        entries = value.items() if key == "*" else [(key, value.get(key, _MISSING))]
        for name, entry in entries:
            path = f"{where}.{name}" if where else name
            if entry is _MISSING:
                return path
            found = _missing(entry, inner, path)
            if found:
                return found
    return None



def _load(run_dir: Path, path: Path, kind: str) -> dict | None:
    """A result file of the run, refused when it is older than the run's weights, not JSON
    (e.g. truncated by a full disk) or lacking what the report reads."""
    if not path.is_file():
        return None
    if is_stale(run_dir, path):
        raise HyperganError(f"{path} is older than {run_dir}/model.weights.h5: it describes an earlier run. "
                            "Run its analysis command again, or delete the file")
    try:
        value = json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise HyperganError(f"{path} is not valid JSON (truncated?); run its analysis command again, or delete the file") from None
    missing = _missing(value, SCHEMAS[kind])
    if missing:
        raise HyperganError(f"{path} lacks {missing!r} (incomplete, or written by another tool); "
                            "run its analysis command again, or delete the file")
    return value


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


def _unique_names(runs: list[Path]) -> dict[Path, str]:
    """Each run's folder name, with as many parent folders as it takes to tell runs apart
    (g1/run and g2/run), so rows and copied plots never collide."""
    resolved = {run: run.resolve().parts for run in runs}
    for depth in range(1, max(len(parts) for parts in resolved.values()) + 1):
        names = {run: "/".join(parts[-depth:]) for run, parts in resolved.items()}
        if len(set(names.values())) == len(names):
            return names
    return {run: str(run) for run in runs}


def _check_writable(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise HyperganError(f"--out {out} is a file; choose a folder")
    existing = next(parent for parent in [out, *out.parents] if parent.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        raise HyperganError(f"cannot create {out} ({existing} is not a writable folder); choose a writable --out")


def write_report(run_dirs, out: str | Path, compute_missing: bool = True) -> Path:
    runs = [Path(r) for r in run_dirs]
    for run in runs:
        if not (run / CONFIG_FILE).is_file():
            raise HyperganError(f"{run / CONFIG_FILE} not found: is {run} a run directory written by 'hypergan-tf train' or 'baseline'?")
    out = Path(out)
    _check_writable(out)  # now, before the work; the folder is created only when the report is ready

    opened = {run: load_run(run) for run in runs}
    for run, (config, _) in opened.items():
        require_task(config, "classification", f"report ({run})")
    names = _unique_names(runs)
    labels = {run: f"{names[run]} ({model.describe()})" for run, (_, model) in opened.items()}
    evaluations, diversities = {}, {}
    for run in runs:
        config, model = opened[run]
        evaluations[run] = _load(run, run / EVALUATION_FILE, "evaluation")
        if evaluations[run] is None and compute_missing:
            evaluations[run] = evaluate(model, load_test_split(config))
            try:
                write_json(run / EVALUATION_FILE, evaluations[run])
            except HyperganError:
                pass  # a read-only run: the report has the figures all the same
        diversities[run] = _load(run, run / DIVERSITY_FILE, "diversity")
        if diversities[run] is None and compute_missing:
            n = model.networks_available(100)
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
        for path in sorted(run.glob(ood_files("*")[0])):
            ood = _load(run, path, "ood")
            rows.append([labels[run], f"{ood['in_dataset']} -> {ood['out_dataset']}", str(ood["ensemble_size"])]
                        + [f"{ood['scores'][k]['auroc']:.4f} / {ood['scores'][k]['aupr']:.4f}" for k in ("entropy", "variance", "mutual_information")])
    lines += (_table(["run", "split", "networks", "entropy", "variance", "mutual information"], rows) if rows
              else ["No OOD results yet: run `hypergan-tf ood RUN --out-dataset notmnist`."]) + [""]

    lines += ["## Adversarial examples (accuracy / mean entropy / detection AUROC by entropy)", ""]
    for method in ("fgsm", "pgd"):
        results = {run: _load(run, run / attack_files(method)[0], "attack") for run in runs}
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

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise HyperganError(f"cannot create {out} ({err.strerror}); choose a writable --out") from None
    plots = []
    for run in runs:
        for png in sorted(p for p in run.glob("*.png") if not is_stale(run, p)):
            target = out / f"{names[run].replace('/', '_')}_{png.name}"
            shutil.copyfile(png, target)
            plots.append((labels[run], png.stem, target.name))
    if plots:
        lines += ["## Plots", ""] + [f"**{label}, {stem}**\n\n![{stem}]({name})\n" for label, stem, name in plots]
    path = out / "report.md"
    write_text(path, "\n".join(lines) + "\n")
    return path
