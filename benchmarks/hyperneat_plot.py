"""Plot HyperNEAT runs: validation accuracy of each generation's fittest network against
the generation and against wall time, from their RUN/train_summary.json.

    python benchmarks/hyperneat_plot.py --out docs/hyperneat.png LABEL=RUN [LABEL=RUN ...]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from hypergan_tf.atomic import save_figure  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="LABEL=RUN_DIR")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    figure, (by_generation, by_time) = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
    for item in args.runs:
        label, _, run = item.partition("=")
        history = json.loads((Path(run) / "train_summary.json").read_text())["history"]
        generations = range(1, len(history["val_accuracy"]) + 1)
        by_generation.plot(generations, history["val_accuracy"], label=label)
        by_time.plot([s / 60 for s in history["seconds"]], history["val_accuracy"], label=label)
    by_generation.set(xlabel="generation", ylabel="validation accuracy (fittest network)", title="HyperNEAT: accuracy by generation")
    by_time.set(xlabel="wall time, minutes (shared 2-core CPU)", title="... and by wall time")
    by_generation.axhline(0.1, color="grey", linestyle=":", linewidth=1)
    by_time.axhline(0.1, color="grey", linestyle=":", linewidth=1, label="chance")
    by_time.legend(fontsize=8)
    figure.tight_layout()
    save_figure(figure, args.out)


if __name__ == "__main__":
    main()
