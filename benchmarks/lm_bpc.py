"""HyperLSTM against LSTM (issue 17): bits per character at equal parameter count and equal
training wall time.

The HyperLSTM has the `lm` defaults (or --units / --hyper-units / --hyper-embedding-dim);
the LSTM gets the number of units whose model (same embedding and softmax) has the
parameter count closest to the HyperLSTM's. Each cell then trains with
`hypergan-tf lm --minutes MINUTES` on the same corpus and seed, one after the other (never
at once: they would share the CPU), and is measured on the whole validation and test parts.

    nice -n 10 python benchmarks/lm_bpc.py --corpus shakespeare-plays --minutes 10

Prints a Markdown table and writes benchmarks/results/lm_bpc_<corpus>_<minutes>min_seed<seed>.json.
On a shared machine equal wall time is only approximately equal compute: the load of
other processes changes how many steps fit in the budget.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

from results_io import RESULTS, write_result


def parameters(cell: str, units: int, vocab_size: int, **options) -> int:
    from hypergan_tf.language.config import LMConfig
    from hypergan_tf.language.model import parameters_of

    return parameters_of(LMConfig(cell=cell, units=units, **options), vocab_size)


def matching_lstm_units(target: int, vocab_size: int, embedding_dim: int) -> int:
    """The LSTM units whose model has the parameter count closest to `target` (it grows with
    units): doubling, then bisection, so no needlessly large cell is ever built."""
    def count(units):
        return parameters("lstm", units, vocab_size, embedding_dim=embedding_dim)

    low, high = 1, 2
    while count(high) <= target:
        low, high = high, 2 * high
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if count(middle) <= target else (low, middle)
    return min((low, high), key=lambda units: abs(count(units) - target))


def vocabulary_size(source: list[str]) -> int:
    from hypergan_tf.language.data import load_text, vocabulary_of

    text_file = source[1] if source[0] == "--text" else None
    corpus = source[1] if source[0] == "--corpus" else None
    return len(vocabulary_of(load_text(text_file, corpus)[0]))


def main() -> None:
    from hypergan_tf.language.config import LMConfig

    defaults = LMConfig()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--corpus")
    where.add_argument("--text")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--units", type=int, default=defaults.units, help="of the HyperLSTM")
    parser.add_argument("--hyper-units", type=int, default=defaults.hyper_units)
    parser.add_argument("--hyper-embedding-dim", type=int, default=defaults.hyper_embedding_dim)
    parser.add_argument("--embedding-dim", type=int, default=defaults.embedding_dim)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--work-dir", type=Path, default=Path("runs/lm_bpc"))
    args = parser.parse_args()

    source = ["--corpus", args.corpus] if args.corpus else ["--text", args.text]
    vocab = vocabulary_size(source)
    hyper = {"hyper_units": args.hyper_units, "hyper_embedding_dim": args.hyper_embedding_dim, "embedding_dim": args.embedding_dim}
    hyper_parameters = parameters("hyperlstm", args.units, vocab, **hyper)
    lstm_units = matching_lstm_units(hyper_parameters, vocab, args.embedding_dim)
    common = [*source, "--minutes", str(args.minutes), "--steps", "100000000", "--embedding-dim", str(args.embedding_dim),
              "--seed", str(args.seed), "--overwrite"]
    runs = {
        "hyperlstm": ["--cell", "hyperlstm", "--units", str(args.units), "--hyper-units", str(args.hyper_units),
                      "--hyper-embedding-dim", str(args.hyper_embedding_dim)],
        "lstm": ["--cell", "lstm", "--units", str(lstm_units)],
    }
    rows = []
    for cell, options in runs.items():
        run_dir = args.work_dir / cell
        command = ["hypergan-tf", "lm", *options, *common, "--run-dir", str(run_dir)]
        print("$ " + shlex.join(command), flush=True)
        began = time.monotonic()
        subprocess.run(command, check=True)
        wall = time.monotonic() - began
        result = json.loads((run_dir / "lm_result.json").read_text())
        rows.append({**result, "units": int(options[3]), "wall_seconds": round(wall, 1), "command": shlex.join(command)})

    print()
    print("| cell | units | parameters | steps done | test bpc | validation bpc | training time (wall) | training CPU time | wall time (with evaluation) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['cell']} | {r['units']} | {r['parameters']:,} | {r['steps']:,} | {r['test_bpc']:.3f} | {r['validation_bpc']:.3f} | "
              f"{r['train_seconds'] / 60:.1f} min | {r['train_cpu_seconds'] / 60:.1f} min | {r['wall_seconds'] / 60:.1f} min |")
    gap = abs(rows[0]["parameters"] - rows[1]["parameters"]) / rows[0]["parameters"]
    print(f"\nparameter counts differ by {100 * gap:.2f}%; source: {rows[0]['source']}")
    name = (args.corpus or Path(args.text).stem).replace("/", "_")
    write_result(RESULTS / f"lm_bpc_{name}_{args.minutes:g}min_seed{args.seed}.json",
                 {"minutes": args.minutes, "seed": args.seed, "parameter_gap": gap, "rows": rows, "argv": sys.argv[1:]})


if __name__ == "__main__":
    main()
