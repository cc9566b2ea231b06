"""Where benchmark results go: JSON under benchmarks/results/ (ignored by git); and
`run_cli`, the CLI in a child process whose peak memory is measured."""

import json
import os
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def write_result(path: str | Path, result: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")


def run_cli(*args: str, quiet: bool = False) -> int:
    """`hypergan-tf ARGS` in a child process (its output to ours unless `quiet`); exits on
    failure, else returns the child's peak resident memory in bytes (os.wait4's max RSS)."""
    print("$ hypergan-tf " + " ".join(args), flush=True)
    child = subprocess.Popen([sys.executable, "-m", "hypergan_tf_cli.main", *args], stdout=subprocess.DEVNULL if quiet else None)
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: hypergan-tf {' '.join(args)}")
    return usage.ru_maxrss * 1024  # kilobytes on Linux
