"""Where a HyperGAN training step's time goes: every part timed alone, as its own graph.

    python benchmarks/profile_step.py [--networks 32] [--repeats 10] [--json PATH]

The step of the one-mode HyperGAN (TrainConfig's defaults: mnist-small, batch 100, K
networks, the default diversity term; `train --dataset mnist`'s recipe adds 8 modes and
the off-data term) is cut into parts, each traced into its own tf.function and
timed alone (median of --repeats calls after two warm-up calls):

- discriminator step: D's forward, backward and Adam update;
- generators: mixer and per-layer generators, forward, and forward + backward, in each
  precision (--precision bfloat16 runs their output layers' matmuls in bfloat16);
- target layers: each layer of the K generated networks on the batch (through
  `TargetLayer.forward`, as the step runs it), forward, and forward + backward
  (gradients for its weights and, but for the first layer, its input);
- losses: cross-entropy and the diversity term on the logits, forward + backward;
- Adam update of the generators' parameters: Keras' Adam and FusedAdam (optimizers.py);
- the whole step as `train` runs it (tf.function of train_step), and inside `fit()`
  (with the Keras loop, its data iterator and logs);
- the input pipeline alone (`training_batches` over 55,000 generated images);
- the machine's speed: a 2048 x 2048 matmul in float32 and bfloat16 (GFLOP/s), since
  this shared machine's speed moves between days (448 GFLOP/s float32 some days, 200 others).

Target layers and whole step are timed at --precision float32 and bfloat16. The parts
overlap (a backward pass holds its forward) and do not add up to the step exactly.
Prints each part as it is measured, then the table with each part's share of the
float32 step, and writes JSON (default benchmarks/results/profile_step.json).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

from results_io import RESULTS, write_result

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from hypergan_tf.config import NUMBER_FORMATS as PRECISIONS, TrainConfig  # noqa: E402
from hypergan_tf.data.pipelines import training_batches  # noqa: E402
from hypergan_tf.objectives.diversity import StepOutputs, diversity_loss  # noqa: E402
from hypergan_tf.optimizers import FusedAdam  # noqa: E402
from hypergan_tf.samplers import build_sampler  # noqa: E402
from hypergan_tf.targets import standardise  # noqa: E402

BATCH = 100


def median_seconds(function, *args, repeats: int) -> float:
    """Median wall time of `function(*args)` (results fetched), after two warm-up calls."""
    fetch = lambda result: tf.nest.map_structure(lambda t: t.numpy() if hasattr(t, "numpy") else t, result)  # noqa: E731
    for _ in range(2):
        fetch(function(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fetch(function(*args))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


class BatchTimes(keras.callbacks.Callback):
    """Wall time of every batch of a fit, begin hook to end hook."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def make_model(networks: int, precision: str = "float32"):
    config = TrainConfig(networks_per_step=networks, batch_size=BATCH, num_classes=10, input_mean=0.13, input_std=0.31, precision=precision)
    model = build_sampler(config, 3300)
    model.compile_from_config(config, 3300)
    return model, config


def matmul_gflops(repeats: int) -> dict[str, float]:
    """GFLOP/s of one 2048 x 2048 matmul per precision: the day's speed of the machine."""
    n = 2048
    found = {}
    for precision in PRECISIONS:
        a = tf.cast(tf.random.stateless_normal([n, n], seed=[1, 2]), precision)
        matmul = tf.function(lambda a: tf.matmul(a, a))
        found[precision] = round(2 * n**3 / median_seconds(matmul, a, repeats=repeats) / 1e9, 1)
    return found


def profile(networks: int, repeats: int) -> list[dict]:
    rows = []

    def add(part: str, seconds: float, precision: str = "float32"):
        rows.append({"part": part, "precision": precision, "ms": round(1000 * seconds, 2)})
        print(f"{part:<44} {precision:<9} {1000 * seconds:9.1f} ms", flush=True)

    rng = np.random.default_rng(0)
    images = tf.constant(rng.random((BATCH, 28, 28, 1), dtype=np.float32))
    labels = tf.constant(rng.integers(0, 10, BATCH).astype(np.int32))
    model, config = make_model(networks)
    noise = tf.constant(rng.normal(size=(networks, model.noise_dim)).astype(np.float32))
    weights = {name: tf.constant(value) for name, value in model.generate(noise, training=True)[1].items()}

    add("discriminator step", median_seconds(tf.function(lambda: model.discriminator_step(networks)), repeats=repeats))
    for precision in PRECISIONS:  # --precision bfloat16 runs the generators' output layers in bfloat16
        add("generators forward", median_seconds(tf.function(lambda: model.generate(noise, True, precision)[1]), repeats=repeats), precision)

        @tf.function
        def generators_backward():
            with tf.GradientTape() as tape:
                generated = model.generate(noise, True, precision)[1]
                total = tf.add_n([tf.reduce_sum(value) for value in generated.values()])
            return tape.gradient(total, model.generator_variables)

        add("generators forward + backward", median_seconds(generators_backward, repeats=repeats), precision)

    inputs = standardise(images, model.input_mean, model.input_std)
    for precision in PRECISIONS:
        dtype = tf.as_dtype(precision)
        x, layout = tf.cast(inputs, dtype), "shared"
        for index, layer in enumerate(model.target.layers):
            kernel = tf.cast(weights[f"{layer.name}/kernel"], dtype)
            bias = tf.cast(weights[f"{layer.name}/bias"], dtype)
            forward = tf.function(lambda x, kernel, bias, layer=layer, layout=layout: layer.forward(x, layout, kernel, bias)[0])

            @tf.function
            def backward(x, kernel, bias, layer=layer, layout=layout, index=index):
                with tf.GradientTape() as tape:
                    tape.watch([x, kernel, bias])
                    y = layer.forward(x, layout, kernel, bias)[0]
                    total = tf.reduce_sum(tf.cast(y, tf.float32))
                return tape.gradient(total, [kernel, bias] + ([x] if index else []))

            add(f"target {layer.name} ({layer.kind}) forward", median_seconds(forward, x, kernel, bias, repeats=repeats), precision)
            add(f"target {layer.name} ({layer.kind}) forward + backward", median_seconds(backward, x, kernel, bias, repeats=repeats), precision)
            x, layout = layer.forward(x, layout, kernel, bias)

    logits = model.classify(images, weights)

    @tf.function
    def losses(logits):
        with tf.GradientTape() as tape:
            tape.watch(logits)
            loss = model.likelihood.loss(logits, labels) + diversity_loss(
                config.diversity, StepOutputs(logits, labels, images, weights, model.classify, model.target))
        return tape.gradient(loss, logits)

    add(f"cross-entropy + diversity ({config.diversity}) fwd + bwd", median_seconds(losses, logits, repeats=repeats))

    variables = model.generator_variables
    gradients = [tf.constant(1e-6 * rng.standard_normal(v.shape).astype(np.float32)) for v in variables]
    for name, optimizer_class in (("Keras Adam", keras.optimizers.Adam), ("FusedAdam", FusedAdam)):
        optimizer = optimizer_class(1e-3)
        optimizer.build(variables)
        update = tf.function(lambda g, optimizer=optimizer: optimizer.apply_gradients(zip(g, variables)))
        add(f"generators' Adam update: {name}", median_seconds(update, gradients, repeats=repeats))

    for precision in PRECISIONS:
        model, _ = make_model(networks, precision)
        add("whole step (tf.function of train_step)", median_seconds(tf.function(model.train_step), (images, labels), repeats=repeats), precision)

    # Inside fit(): the same step with Keras' loop around it (iterator, logs), timed from
    # each batch's begin hook to its end hook; the first two batches trace and warm up.
    model, _ = make_model(networks)
    batches = BatchTimes()
    model.fit(tf.data.Dataset.from_tensors((images, labels)).repeat(), epochs=1, steps_per_epoch=repeats + 2, verbose=0,
              shuffle=False, callbacks=[batches])
    add("step inside fit()", statistics.median(batches.seconds[2:]))

    pixels = rng.integers(0, 256, (55000, 28, 28, 1), dtype=np.uint8)
    classes = rng.integers(0, 10, 55000).astype(np.int64)
    batches = iter(training_batches(pixels, classes, BATCH, 0, 200 + 50))
    for _ in range(50):
        next(batches)
    start = time.perf_counter()
    for _ in range(200):
        next(batches)
    add("input pipeline, one batch (mean of 200)", (time.perf_counter() - start) / 200)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--networks", type=int, default=32, help="K, networks per step")
    parser.add_argument("--repeats", type=int, default=10, help="timed calls per part")
    parser.add_argument("--json", default=str(RESULTS / "profile_step.json"))
    args = parser.parse_args()
    gflops = matmul_gflops(args.repeats)
    print("matmul 2048 x 2048: " + ", ".join(f"{name} {value:.0f} GFLOP/s" for name, value in gflops.items()))
    rows = profile(args.networks, args.repeats)
    whole = {row["precision"]: row["ms"] for row in rows if row["part"].startswith("whole step")}
    print(f"\nmatmul 2048 x 2048: float32 {gflops['float32']:.0f} GFLOP/s, bfloat16 {gflops['bfloat16']:.0f} GFLOP/s")
    print(f"{'part':<46} {'precision':<9} {'ms':>7} {'of the float32 step':>20}")
    for row in rows:
        row["share_of_float32_step"] = round(row["ms"] / whole["float32"], 3)
        print(f"{row['part']:<46} {row['precision']:<9} {row['ms']:>7.1f} {100 * row['share_of_float32_step']:>19.1f}%")
    write_result(args.json, {
        "benchmark": "profile_step",
        "target": "mnist-small",
        "networks_per_step": args.networks,
        "batch_size": BATCH,
        "repeats": args.repeats,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "tensorflow": tf.__version__},
        "matmul_gflops": gflops,
        "step_speedup_bfloat16": round(whole["float32"] / whole["bfloat16"], 3),
        "parts": rows,
    })


if __name__ == "__main__":
    main()
