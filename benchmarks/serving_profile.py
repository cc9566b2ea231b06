"""Where the served ensemble's time goes: its forward pass, layer by layer.

    python benchmarks/serving_profile.py [--target mnist-small] [--networks 100]
        [--batches 1,100] [--rounds 20] [--json PATH]

The exported classifier (`hypergan-tf export`) evaluates a fixed ensemble of N networks
with `TargetSpec.forward(..., inference=True)` and averages their softmax. This times, for
each batch size and precision (float32, bfloat16), that whole forward pass, the same pass
in the training steps' order (`inference=False`: what exports computed until 2026-11-28),
and each target layer alone (`TargetLayer.infer` on the previous layer's output, as the
export runs it: convolution or matmul, bias and activation, pooling), each with the
reordering of the kernels into the grouped-convolution layout that every call does. Weights are random with the
ensemble's shapes (the time does not depend on their values). Each part is its own
tf.function; the rounds interleave one call of every part, medians reported, with each
part's FLOPs (TensorFlow's profiler, which counts convolutions and matmuls but not
einsums: a dense layer of the K networks shows only its bias adds) and GFLOP/s, and the
day's matmul speed for scale.
Prints a table and writes JSON (default benchmarks/results/serving_profile.json).
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

from hypergan_tf.config import NUMBER_FORMATS  # noqa: E402
from hypergan_tf.targets import get_target  # noqa: E402


def flops(function) -> float:
    """FLOPs of one call of a traced tf.function with no arguments (TensorFlow's profiler)."""
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return float(tf.compat.v1.profiler.profile(function.get_concrete_function().graph, options=options).total_float_ops)


WHOLE = "whole forward + softmax"


def parts_of(target, weights: dict, images: tf.Tensor, precision: str, inference: bool = True) -> dict:
    """{part name: tf.function of no arguments} for one batch and precision (the layers:
    `TargetLayer.infer`, or `forward` when not `inference`)."""
    dtype = tf.as_dtype(precision)
    weights = {name: tf.Variable(tf.cast(value, dtype)) for name, value in weights.items()}  # as the export stores them
    parts = {name: tf.function(lambda order=order: tf.reshape(tf.nn.softmax(target.forward(images, weights, precision, inference=order)), [-1])[:1])
             for name, order in ((WHOLE, inference), ("whole, training order", False))}
    x, layout = tf.cast(images, dtype), "shared"

    def run(layer):
        return layer.infer if inference else layer.forward

    for layer in target.layers:
        kernel, bias = weights[f"{layer.name}/kernel"], weights[f"{layer.name}/bias"]
        # Bind this layer's input now: each part starts from a computed tensor. A part returns one
        # value of its output, so that copying the output out of TensorFlow is not timed.
        parts[f"{layer.name} ({layer.kind})"] = tf.function(lambda layer=layer, x=x, layout=layout, kernel=kernel, bias=bias:
                                                            tf.reshape(run(layer)(x, layout, kernel, bias)[0], [-1])[:1])
        x, layout = run(layer)(x, layout, kernel, bias)
    return parts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target", default="mnist-small", help="a target preset")
    parser.add_argument("--networks", type=int, default=100, help="networks in the ensemble (the export's default)")
    parser.add_argument("--batches", default="1,100", help="comma-separated batch sizes")
    parser.add_argument("--rounds", type=int, default=20, help="interleaved rounds (one call of every part each)")
    parser.add_argument("--json", default=str(RESULTS / "serving_profile.json"))
    args = parser.parse_args()

    from profile_step import matmul_gflops

    target = get_target(args.target)
    rng = np.random.default_rng(0)
    weights = {name: rng.normal(0.0, 0.05, (args.networks, *shape)).astype(np.float32) for name, shape in target.param_shapes.items()}
    speed = matmul_gflops(10)
    print(f"matmul 2048 x 2048: float32 {speed['float32']} GFLOP/s, bfloat16 {speed['bfloat16']} GFLOP/s")
    rows = []
    print(f"{'batch':>5} {'precision':>9} {'part':>28} {'median ms':>10} {'share':>6} {'GFLOP':>7} {'GFLOP/s':>8}")
    for batch in [int(v) for v in args.batches.split(",")]:
        images = tf.constant(rng.random((batch, *target.input_shape), dtype=np.float32))
        timed = {(precision, name): function for precision in NUMBER_FORMATS
                 for name, function in parts_of(target, weights, images, precision).items()}
        # FLOPs from the training order's graphs: the same work, without the while loop of a
        # first conv image by image, whose body the profiler does not count.
        counted = {(precision, name): function for precision in NUMBER_FORMATS
                   for name, function in parts_of(target, weights, images, precision, inference=False).items()}
        for function in timed.values():  # trace and warm up
            for _ in range(3):
                function().numpy()
        times = {key: [] for key in timed}
        for _ in range(args.rounds):
            for key, function in timed.items():
                start = time.perf_counter()
                function().numpy()
                times[key].append(time.perf_counter() - start)
        for (precision, name), values in times.items():
            median = statistics.median(values)
            whole = statistics.median(times[(precision, WHOLE)])
            work = flops(counted[(precision, name)])
            row = {"batch": batch, "precision": precision, "part": name, "networks": args.networks, "median_s": median,
                   "share_of_whole": median / whole, "gflop": work / 1e9, "gflops_per_s": work / 1e9 / median, "times_s": values}
            rows.append(row)
            print(f"{batch:>5} {precision:>9} {name:>28} {median * 1e3:>10.2f} {row['share_of_whole']:>5.0%} "
                  f"{row['gflop']:>7.3f} {row['gflops_per_s']:>8.0f}")
    write_result(args.json, {"benchmark": "serving_profile", "target": args.target, "networks": args.networks,
                             "rounds": args.rounds, "matmul_gflops": speed,
                             "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "tensorflow": tf.__version__},
                             "results": rows})


if __name__ == "__main__":
    main()
