"""Median time of one HyperGAN training step: vectorised vs a per-network Python loop.

    python benchmarks/train_step.py [--networks 32,100] [--steps 15] [--json PATH]

Both versions run the same mixer, generators, discriminator and optimizers in graph
mode (tf.function) on the same synthetic batch (mnist-small, batch 100); only the
evaluation of the K target networks differs: `TargetSpec.forward` (grouped
convolution) or `TargetSpec.forward_loop` (one network at a time, as in the authors'
PyTorch code), the loop both traced into one graph and run eagerly step by step.
Also reports the first call (tracing) of each graph, and the vectorised step with the
default diversity term ("default s": the step of the one-mode HyperGAN, TrainConfig's
defaults; `train --dataset mnist`'s recipe adds 8 modes and the off-data term, timed by
term_cost.py), and that step at --precision bfloat16 ("bfloat16 s"). Adam is FusedAdam, as in `train`. Prints a table and writes JSON
(default benchmarks/results/train_step.json).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

from results_io import RESULTS, write_result

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from hypergan_tf.config import TrainConfig  # noqa: E402
from hypergan_tf.optimizers import FusedAdam  # noqa: E402
from hypergan_tf.samplers import HyperGAN, build_sampler  # noqa: E402
from hypergan_tf.targets import standardise  # noqa: E402


class PerNetworkLoopHyperGAN(HyperGAN):
    """The baseline: identical model, target networks evaluated one after another."""

    def classify(self, images, weights, precision="float32", recompute=0, inference=True):
        return self.target.forward_loop(standardise(images, self.input_mean, self.input_std), weights)


def step_times(model_class, networks: int, steps: int, batch_size: int = 100, graph: bool = True,
               diversity_weight: float = 0.0, precision: str = "float32") -> tuple[list[float], float]:
    """(times of `steps` timed steps, seconds of the first call, which traces the graph).

    `diversity_weight` 0 times the core HyperGAN step; the default adds the diversity
    term (repulsion of the predictions, no extra forward pass)."""
    config = TrainConfig(networks_per_step=networks, batch_size=batch_size, num_classes=10, input_mean=0.13, input_std=0.31)
    reference = build_sampler(config)  # build the sub-models from the config, then wrap them
    model = model_class(
        reference.target, reference.mixer, reference.generators, reference.discriminator,
        noise_dim=config.noise_dim, code_dim=config.code_dim, networks_per_step=networks,
        beta=config.beta, input_mean=config.input_mean, input_std=config.input_std, seed=0,
        diversity=config.diversity, diversity_weight=diversity_weight,
    )
    model.compile(g_optimizer=FusedAdam(1e-3), d_optimizer=FusedAdam(1e-4))  # as train compiles it
    model.training_precision = precision
    rng = np.random.default_rng(0)
    images = tf.constant(rng.random((batch_size, 28, 28, 1), dtype=np.float32))
    labels = tf.constant(rng.integers(0, 10, batch_size).astype(np.int32))
    step = tf.function(model.train_step) if graph else model.train_step
    start = time.perf_counter()
    step((images, labels))["g_loss"].numpy()
    first = time.perf_counter() - start
    for _ in range(2):  # warm up
        step((images, labels))["g_loss"].numpy()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step((images, labels))["g_loss"].numpy()
        times.append(time.perf_counter() - start)
    return times, first


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--networks", default="32,100", help="comma-separated K values")
    parser.add_argument("--steps", type=int, default=15, help="timed steps per configuration")
    parser.add_argument("--json", default=str(RESULTS / "train_step.json"))
    args = parser.parse_args()

    rows = []
    print(f"{'K':>5} {'vectorised s':>13} {'graph loop s':>13} {'eager loop s':>13} {'vs graph loop':>14} {'vs eager loop':>14} {'trace s (vec/loop)':>19} {'default s':>10} {'bfloat16 s':>11}")
    for k in [int(v) for v in args.networks.split(",")]:
        vectorised, vectorised_trace = step_times(HyperGAN, k, args.steps)
        default, _ = step_times(HyperGAN, k, args.steps, diversity_weight=TrainConfig().diversity_weight)
        bfloat16, _ = step_times(HyperGAN, k, args.steps, diversity_weight=TrainConfig().diversity_weight, precision="bfloat16")
        loop, loop_trace = step_times(PerNetworkLoopHyperGAN, k, args.steps)
        eager, _ = step_times(PerNetworkLoopHyperGAN, k, max(3, args.steps // 3), graph=False)
        row = {
            "networks_per_step": k,
            "batch_size": 100,
            "vectorised_median_s": statistics.median(vectorised),
            "graph_loop_median_s": statistics.median(loop),
            "eager_loop_median_s": statistics.median(eager),
            "default_median_s": statistics.median(default),  # with the default diversity term
            "bfloat16_median_s": statistics.median(bfloat16),  # the same, --precision bfloat16
            "vectorised_trace_s": vectorised_trace,
            "graph_loop_trace_s": loop_trace,
            "vectorised_times_s": vectorised,
            "graph_loop_times_s": loop,
            "eager_loop_times_s": eager,
            "default_times_s": default,
            "bfloat16_times_s": bfloat16,
        }
        row["speedup_vs_graph_loop"] = row["graph_loop_median_s"] / row["vectorised_median_s"]
        row["speedup_vs_eager_loop"] = row["eager_loop_median_s"] / row["vectorised_median_s"]
        rows.append(row)
        print(f"{k:>5} {row['vectorised_median_s']:>13.3f} {row['graph_loop_median_s']:>13.3f} {row['eager_loop_median_s']:>13.3f} "
              f"{row['speedup_vs_graph_loop']:>13.2f}x {row['speedup_vs_eager_loop']:>13.2f}x {vectorised_trace:>9.1f}/{loop_trace:.1f}"
              f"{row['default_median_s']:>11.3f} {row['bfloat16_median_s']:>11.3f}")
    result = {
        "benchmark": "train_step",
        "target": "mnist-small",
        "steps_timed": args.steps,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "tensorflow": tf.__version__},
        "results": rows,
    }
    write_result(args.json, result)


if __name__ == "__main__":
    main()
