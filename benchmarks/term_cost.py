"""What each optional training term costs per step, against the data set's recipe step.

    python benchmarks/term_cost.py --data-dir ../shared/datasets [--datasets mnist,cifar5] [--steps 20] [--json PATH]

For each data set, the training step `train` runs with its recipe (config.DATASET_DEFAULTS:
target, K, precision, diversity term) on a synthetic batch of the right shape, then the
same step with one term added: the off-data term (`--off-data-weight 0.5
--off-data-objective disagreement`), the feature repulsion (`--feature-diversity-weight
0.1`) and a mixture of 8 modes (`--modes 8`). The configurations are timed in interleaved
rounds (one step of each in turn), so a change in the machine's speed hits all of them alike;
medians, and each term's ratio to the recipe's step. Prints a table and writes JSON
(default benchmarks/results/term_cost.json).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import time

from results_io import RESULTS, write_result

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from hypergan_tf.config import TrainConfig  # noqa: E402
from hypergan_tf.data import load_dataset  # noqa: E402
from hypergan_tf.samplers import build_sampler  # noqa: E402

TERMS = {
    "recipe": {},
    "off-data 0.5 disagreement": {"off_data_weight": 0.5, "off_data_objective": "disagreement"},
    "feature repulsion 0.1": {"feature_diversity_weight": 0.1},
    "8 modes": {"modes": 8},
}


def make_step(dataset: str, options: dict, data_dir):
    """(the compiled training step, its batch, the configuration) for `dataset`'s recipe plus `options`."""
    classes = load_dataset(dataset, data_dir, need_train=False, download=False).num_classes  # the test split tells the classes
    config = TrainConfig.for_dataset({"dataset": dataset})
    config = dataclasses.replace(config, num_classes=classes, input_mean=0.4, input_std=0.25, **options)
    model = build_sampler(config, total_steps=config.steps or 1000)
    model.compile_from_config(config, config.steps or 1000)
    rng = np.random.default_rng(0)
    images = tf.constant(rng.random((config.batch_size, *model.target.input_shape), dtype=np.float32))
    labels = tf.constant(rng.integers(0, classes, config.batch_size).astype(np.int32))
    return tf.function(model.train_step), (images, labels), config


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=None, help="Offline data sets (their test splits give the number of classes).")
    parser.add_argument("--datasets", default="mnist,cifar5", help="comma-separated data sets (their recipes)")
    parser.add_argument("--steps", type=int, default=20, help="timed rounds (one step of every configuration each)")
    parser.add_argument("--json", default=str(RESULTS / "term_cost.json"))
    args = parser.parse_args()

    rows = []
    print(f"{'data set':>9} {'term':>26} {'median s':>9} {'vs recipe':>10}")
    for dataset in args.datasets.split(","):
        steps = {name: make_step(dataset, options, args.data_dir) for name, options in TERMS.items()}
        for step, batch, _ in steps.values():  # trace and warm up
            for _ in range(3):
                step(batch)["g_loss"].numpy()
        times = {name: [] for name in steps}
        for _ in range(args.steps):
            for name, (step, batch, _) in steps.items():
                start = time.perf_counter()
                step(batch)["g_loss"].numpy()
                times[name].append(time.perf_counter() - start)
        base = statistics.median(times["recipe"])
        for name, values in times.items():
            config = steps[name][2]
            row = {"dataset": dataset, "term": name, "options": TERMS[name], "target": config.target,
                   "networks_per_step": config.networks_per_step, "batch_size": config.batch_size,
                   "precision": config.resolved_precision(), "median_s": statistics.median(values),
                   "ratio_to_recipe": statistics.median(values) / base, "times_s": values}
            rows.append(row)
            print(f"{dataset:>9} {name:>26} {row['median_s']:>9.3f} {row['ratio_to_recipe']:>9.2f}x")
    write_result(args.json, {"benchmark": "term_cost", "rounds": args.steps,
                             "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "tensorflow": tf.__version__},
                             "results": rows})


if __name__ == "__main__":
    main()
