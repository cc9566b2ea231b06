"""Where benchmark results go: JSON under benchmarks/results/ (ignored by git)."""

import json
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def write_result(path: str | Path, result: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")
