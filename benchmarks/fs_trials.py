"""File-system trials: a full disk, a read-only run, concurrent writers and a killed export.

Each trial runs the real `hypergan-tf` command in its own process against a real file
system condition (small tmpfs mounts, a read-only bind mount), then checks what a user
would: the exit code, that the output is one `Error:` line (no traceback), and what was
left on disk (nothing half-written, the last good backup intact, a retry that works).

Needs root (it mounts tmpfs file systems); elsewhere it says so and exits. Usage:

    python benchmarks/fs_trials.py [--out benchmarks/fs_trials.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [sys.executable, "-m", "hypergan_tf_cli.main"]
TINY = ["--dataset", "digits", "--networks-per-step", "4", "--batch-size", "32", "--code-dim", "8"]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}


def hypergan(*args, timeout=900) -> subprocess.CompletedProcess:
    return subprocess.run(CLI + [str(a) for a in args], capture_output=True, text=True, timeout=timeout, env=ENV)


def start(*args) -> subprocess.Popen:
    return subprocess.Popen(CLI + [str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)


@contextlib.contextmanager
def tmpfs(size: str):
    folder = Path(tempfile.mkdtemp(prefix="hypergan-fs-"))
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
        folder.rmdir()


@contextlib.contextmanager
def read_only(source: Path):
    folder = Path(tempfile.mkdtemp(prefix="hypergan-ro-"))
    subprocess.run(["mount", "--bind", str(source), str(folder)], check=True)
    subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
        folder.rmdir()


def one_error_line(result) -> bool:
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    return result.returncode == 2 and len(errors) == 1 and "Traceback" not in result.stderr and "Segmentation" not in result.stderr


def error_of(result) -> str:
    return next((line for line in (result.stdout + result.stderr).splitlines() if line.startswith("Error:")), result.stderr[-300:])


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


def fill(folder: Path, leave_bytes: int) -> Path:
    """A file that takes all the free space of `folder`'s file system but `leave_bytes`."""
    filler = folder / "filler"
    free = shutil.disk_usage(folder).free
    with open(filler, "wb") as f:
        f.truncate(0)
        chunk = b"\0" * 2**20
        for _ in range(max(0, free - leave_bytes) // len(chunk)):
            f.write(chunk)
    return filler


def trial_disk_full_at_start(work: Path) -> dict:
    with tmpfs("40m") as fs:
        result = hypergan("train", *TINY, "--steps", "20", "--run-dir", fs / "run")
        return {"ok": one_error_line(result) and not (fs / "run").exists(), "error": error_of(result), "left": listing(fs)}


def trial_disk_full_during_training(work: Path) -> dict:
    with tmpfs("520m") as fs:
        run = fs / "run"
        args = ["train", *TINY, "--steps", "40", "--backup-every", "10", "--run-dir", run]
        process = start(*args)
        state = run / "checkpoints" / "state.json"
        while not state.exists() and process.poll() is None:
            time.sleep(0.2)
        filler = fill(fs, leave_bytes=60 * 2**20)  # the next backup (217 MB) cannot fit
        out, err = process.communicate(timeout=900)
        result = subprocess.CompletedProcess(args, process.returncode, out, err)
        kept = json.loads(state.read_text())
        intact = (run / "checkpoints" / kept["checkpoint"]).is_file() and not list(run.rglob("*.partial*"))
        filler.unlink()
        retry = hypergan(*args)
        return {"ok": one_error_line(result) and intact and retry.returncode == 0 and "resuming" in retry.stdout,
                "error": error_of(result), "backup_kept_at_step": kept["step"],
                "retry_after_freeing_space": "resumed and finished" if retry.returncode == 0 else error_of(retry)}


def trial_export_into_a_full_disk(run: Path) -> dict:
    with tmpfs("30m") as fs:  # the generators alone are 71 MB
        result = hypergan("export", run, "--out", fs / "exports", "--ensemble-size", "10")
        left = listing(fs)
        return {"ok": one_error_line(result) and not any("partial" in p or p.isdigit() for p in left), "error": error_of(result), "left": left}


def trial_sample_into_a_full_disk(run: Path) -> dict:
    with tmpfs("1m") as fs:
        result = hypergan("sample", run, "-n", "20", "--out", fs / "networks")
        return {"ok": one_error_line(result) and not listing(fs), "error": error_of(result)}


def trial_read_only_run(run: Path, work: Path) -> dict:
    with read_only(run) as ro:
        before = listing(ro)
        default = hypergan("evaluate", ro, "--num-networks", "3", "--ensemble-sizes", "1,3")
        elsewhere = hypergan("evaluate", ro, "--num-networks", "3", "--ensemble-sizes", "1,3", "--json", work / "ro-eval.json")
        overwrite = hypergan("train", *TINY, "--steps", "20", "--run-dir", ro, "--overwrite")
        report = hypergan("report", ro, "--out", work / "ro-report")
        unchanged = listing(ro) == before
        return {"ok": one_error_line(default) and elsewhere.returncode == 0 and (work / "ro-eval.png").is_file()
                and one_error_line(overwrite) and report.returncode == 0 and unchanged,
                "evaluate_default": error_of(default), "evaluate_json_elsewhere": "works, plot beside the JSON",
                "train_overwrite": error_of(overwrite), "report": "works" if report.returncode == 0 else error_of(report),
                "run_unchanged": unchanged}


def trial_two_trainings_on_one_run(work: Path) -> dict:
    run = work / "concurrent"
    args = ["train", *TINY, "--steps", "30", "--run-dir", run]
    first = start(*args)
    while not (run / "config.json").exists() and first.poll() is None:
        time.sleep(0.1)
    started = time.monotonic()
    second = hypergan(*args)
    second_seconds = time.monotonic() - started
    first.communicate(timeout=900)
    summary = json.loads((run / "train_summary.json").read_text())
    config = json.loads((run / "config.json").read_text())
    return {"ok": one_error_line(second) and first.returncode == 0 and summary["steps"] == 30 and config["steps"] == 30,
            "second_writer": error_of(second), "second_failed_after_seconds": round(second_seconds, 1),
            "first_finished": first.returncode == 0}


def trial_two_exports_and_a_killed_one(run: Path, work: Path) -> dict:
    out = work / "exports"
    first = start("export", run, "--out", out, "--ensemble-size", "10")
    while not list(out.glob(".*.partial-*")) and first.poll() is None:
        time.sleep(0.01)
    first.send_signal(signal.SIGSTOP)  # frozen in the middle of writing its export
    second = hypergan("export", run, "--out", out, "--ensemble-size", "10")
    first.send_signal(signal.SIGKILL)
    first.wait()
    left_by_kill = [p.name for p in out.glob(".*.partial-*")]
    third = hypergan("export", run, "--out", out, "--ensemble-size", "10")
    after = sorted(p.name for p in out.iterdir() if not p.name.startswith(".export"))
    return {"ok": one_error_line(second) and third.returncode == 0 and after == ["1"],
            "second_export_meanwhile": error_of(second), "left_by_the_kill": left_by_kill,
            "after_the_next_export": after}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/fs_trials.json")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("fs_trials needs root to mount small tmpfs file systems; skipped")
        return
    work = Path(tempfile.mkdtemp(prefix="hypergan-trials-"))
    run = work / "run"
    trained = hypergan("train", *TINY, "--steps", "20", "--run-dir", run)
    assert trained.returncode == 0, trained.stderr
    trials = {
        "disk full when training starts": lambda: trial_disk_full_at_start(work),
        "disk full during training": lambda: trial_disk_full_during_training(work),
        "export into a full disk": lambda: trial_export_into_a_full_disk(run),
        "sample into a full disk": lambda: trial_sample_into_a_full_disk(run),
        "read-only run directory": lambda: trial_read_only_run(run, work),
        "two trainings on one run directory": lambda: trial_two_trainings_on_one_run(work),
        "two exports at once, then one killed": lambda: trial_two_exports_and_a_killed_one(run, work),
    }
    results = {}
    for name, trial in trials.items():
        started = time.monotonic()
        results[name] = trial()
        results[name]["seconds"] = round(time.monotonic() - started, 1)
        print(f"{'PASS' if results[name]['ok'] else 'FAIL'}  {name}: " + "; ".join(
            f"{k}={v}" for k, v in results[name].items() if k not in ("ok", "seconds")))
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {args.out}")
    sys.exit(0 if all(r["ok"] for r in results.values()) else 1)


if __name__ == "__main__":
    main()
