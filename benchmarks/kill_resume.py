"""Kill-and-resume trials: SIGKILL a real training at random moments, resume, repeat.

    python benchmarks/kill_resume.py [--kills 5] [--steps 400] [--backup-every 50] [--json PATH]

Trains on the bundled digits set (no data needed) through the real CLI. Each trial
waits for a new backup, kills the process with SIGKILL a random 0-6 s later and re-runs
the same command. The work lost per kill is the time between the last backup and the
kill (the steps after that backup are redone). It checks that every re-run says it
resumes from the last backup and that no partial file is left behind, then lets the
last run finish. Prints a table and writes JSON (default
benchmarks/results/kill_resume.json).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results_io import RESULTS, write_result

CODE = "from hypergan_tf_cli.main import main; main()"


def read_state(run_dir: Path) -> dict | None:
    path = run_dir / "checkpoints" / "state.json"
    return json.loads(path.read_text()) if path.is_file() else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--backup-every", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0, help="seed of the random kill times")
    parser.add_argument("--json", default=str(RESULTS / "kill_resume.json"))
    args = parser.parse_args()

    rng = random.Random(args.seed)
    run_dir = Path(tempfile.mkdtemp(prefix="kill-resume-")) / "run"
    command = [sys.executable, "-c", CODE, "train", "--dataset", "digits", "--run-dir", str(run_dir),
               "--steps", str(args.steps), "--backup-every", str(args.backup_every), "--networks-per-step", "8"]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    trials = []
    for trial in range(args.kills + 1):
        before = read_state(run_dir)
        started = time.time()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        if trial == args.kills:  # the last run finishes
            output, _ = process.communicate()
            assert process.returncode == 0, output
            break
        # Let it get past start-up and at least one backup interval, then kill at random.
        first_backup_deadline = time.time() + 300
        while (read_state(run_dir) or {}).get("step", -1) == (before or {}).get("step", -1):
            if process.poll() is not None or time.time() > first_backup_deadline:
                break
            time.sleep(0.05)
        backup_seen = time.time()
        time.sleep(rng.uniform(0.0, 6.0))
        process.send_signal(signal.SIGKILL)
        killed_at = time.time()
        output, _ = process.communicate()
        after = read_state(run_dir)
        partial = sorted(p.name for p in (run_dir / "checkpoints").glob("*.partial*"))
        resumed_line = [line for line in output.splitlines() if line.startswith("resuming")]
        trials.append({
            "trial": trial + 1,
            "resumed_from_step": (before or {}).get("step", 0),
            "backup_step_at_kill": (after or {}).get("step", 0),
            "seconds_after_start": round(killed_at - started, 2),
            "seconds_lost": round(killed_at - backup_seen, 2),
            "partial_files_left": partial,
            "resume_message": resumed_line[0] if resumed_line else None,
        })
    summary = json.loads((run_dir / "train_summary.json").read_text())
    for row in trials[1:]:
        assert row["resume_message"] is not None, row
    result = {"trials": trials, "final_steps": summary["steps"], "steps_requested": args.steps, "backup_every": args.backup_every}
    print(f"{'trial':>5} {'resumed from':>12} {'backup at kill':>14} {'killed after s':>15} {'seconds lost':>15} partial files")
    for row in trials:
        print(f"{row['trial']:>5} {row['resumed_from_step']:>12} {row['backup_step_at_kill']:>14} {row['seconds_after_start']:>15} "
              f"{row['seconds_lost']:>15} {len(row['partial_files_left'])}")
    print(f"final run finished at step {summary['steps']} of {args.steps}")
    write_result(args.json, result)


if __name__ == "__main__":
    main()
