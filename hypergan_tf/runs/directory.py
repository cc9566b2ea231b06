"""The run directory: every file a run owns, named in one place.

    RUN/config.json                  the resolved TrainConfig (train)
    RUN/model.weights.h5             final weights (train, when training ends)
    RUN/hyperneat_genomes.json       HyperNEAT runs: the kept CPPN genomes as JSON (training/evolution.py)
    RUN/train_summary.json           final metrics and timing (train)
    RUN/checkpoints/                 the last backup: weights + optimizer state (training/backup.py)
    RUN/logs/{train,validation}/     Keras scalars; RUN/logs/sampler/ diversity, histograms, HParams
    RUN/evaluation.json, reliability.png           evaluate (classification runs)
    RUN/evaluation.json, regression.png            evaluate (regression runs)
    RUN/ood_<dataset>.json, ood_<dataset>.png      ood
    RUN/attack_<method>.json, attack_<method>.png  attack
    RUN/diversity.json                             diversity
    RUN/interpolation.json, interpolation.png      interpolate
    RUN/distill.json                               distill (the student .keras goes to --out)
    RUN/lm_result.json               lm: bits per character (a language model run: config.json,
                                     model.weights.h5 and logs/ as above; language/train.py)
    RUN/.lock                        held while `train` writes the run

`train --overwrite` removes exactly these (never anything else in the folder), so no
result of an old run survives next to a new run's weights.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

from hypergan_tf.atomic import exclusive_lock
from hypergan_tf.errors import HyperganError

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
GENOMES_FILE = "hyperneat_genomes.json"
SUMMARY_FILE = "train_summary.json"
CHECKPOINTS = "checkpoints"
LOGS = "logs"
EVALUATION_FILE = "evaluation.json"
RELIABILITY_PLOT = "reliability.png"
REGRESSION_PLOT = "regression.png"
# The figure `evaluate` writes into a run, by the task of its data set.
EVALUATION_PLOTS = {"classification": RELIABILITY_PLOT, "regression": REGRESSION_PLOT}
DIVERSITY_FILE = "diversity.json"
INTERPOLATION_FILE = "interpolation.json"
INTERPOLATION_PLOT = "interpolation.png"
DISTILL_FILE = "distill.json"
LM_RESULT_FILE = "lm_result.json"
LOCK_FILE = ".lock"


def ood_files(out_dataset: str) -> tuple[str, str]:
    return f"ood_{out_dataset}.json", f"ood_{out_dataset}.png"


def attack_files(method: str) -> tuple[str, str]:
    return f"attack_{method}.json", f"attack_{method}.png"


# Written by training / by the analysis commands; glob patterns for the per-dataset files.
TRAINING_FILES = (CONFIG_FILE, WEIGHTS_FILE, GENOMES_FILE, SUMMARY_FILE, CHECKPOINTS, LOGS)
RESULT_FILES = (EVALUATION_FILE, RELIABILITY_PLOT, REGRESSION_PLOT, DIVERSITY_FILE, *ood_files("*"), *attack_files("*"),
                INTERPOLATION_FILE, INTERPOLATION_PLOT, DISTILL_FILE, LM_RESULT_FILE)


def owned_paths(run_dir: str | Path) -> list[Path]:
    """The files and folders of `run_dir` that belong to the run (those that exist)."""
    run_dir = Path(run_dir)
    found = []
    for pattern in TRAINING_FILES + RESULT_FILES:
        found += sorted(run_dir.glob(pattern)) if "*" in pattern else [run_dir / pattern] if (run_dir / pattern).exists() else []
    return found


def remove_run(run_dir: str | Path) -> None:
    """Remove every file the run owns, and nothing else."""
    for path in owned_paths(run_dir):
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)


def is_stale(run_dir: str | Path, result: str | Path) -> bool:
    """True when `result` was written before the run's final weights (an older run's)."""
    weights = Path(run_dir) / WEIGHTS_FILE
    return weights.is_file() and Path(result).stat().st_mtime_ns < weights.stat().st_mtime_ns


@contextlib.contextmanager
def locked(run_dir: str | Path):
    """Hold RUN/.lock while a process writes the run: a second writer fails at once with a
    clear error instead of mixing its files with the first one's."""
    path = Path(run_dir) / LOCK_FILE
    created = not Path(run_dir).exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError as err:
        raise HyperganError(f"cannot create run directory {run_dir} ({err.strerror}); choose a writable --run-dir") from None
    try:
        with exclusive_lock(path, f"{run_dir} is being written by another hypergan-tf process; wait for it, or choose another --run-dir"):
            yield
    finally:
        if created and [p.name for p in Path(run_dir).iterdir()] == [LOCK_FILE]:
            # Failed before writing anything: leave no empty run directory behind.
            path.unlink(missing_ok=True)
            Path(run_dir).rmdir()
