"""Size, latency and accuracy of an exported SavedModel, measured the way a server sees it.

    python benchmarks/serving.py exports/mnist/1 --data-dir ../shared/datasets [--repeats 20] [--baseline OTHER/1]

Runs in a fresh process that never imports hypergan_tf (only TensorFlow and NumPy):
export size on disk, median latency and throughput (images per second) of
`serving_default` at batch 1 and batch 100, networks generated per second by
`sample_weights` (100 noise vectors per call), and the test accuracy of the served
ensemble on MNIST (read from the IDX files directly).
When the export has a LiteRT classifier beside it (`export --litert`: ../litert/), also
its size, median latency per image with 1 interpreter thread (LiteRT's default here) and
with one per core, and the largest difference from the SavedModel's probabilities on the
first --litert-images test images (needs `ai-edge-litert`).
With `--baseline` (another export of the same run, e.g. its float32 one beside a
`--precision bfloat16` one), both are timed in the same process, their calls interleaved,
and the figures include the speed-up over the baseline and how far the two exports'
answers on the MNIST test images are apart.
Prints the figures and writes JSON (default benchmarks/results/serving.json).
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import sys
import time
from pathlib import Path

from results_io import RESULTS, write_result

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402


def read_idx(path: Path) -> np.ndarray:
    raw = gzip.open(path).read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def litert_figures(classifier: Path, images: np.ndarray, reference: np.ndarray) -> dict:
    """The phone-side view: the same fixed ensemble through the LiteRT interpreter, one image
    at a time, with one thread (the interpreter's default here) and with one per core; the
    two interpreters take turns image by image."""
    from ai_edge_litert.interpreter import Interpreter

    threads = sorted({1, os.cpu_count() or 1})
    runners = {n: Interpreter(model_path=str(classifier), num_threads=n).get_signature_runner() for n in threads}
    probabilities, times = {n: [] for n in threads}, {n: [] for n in threads}
    for image in images:
        for n, runner in runners.items():
            start = time.perf_counter()
            probabilities[n].append(runner(images=image[None])["probabilities"][0])
            times[n].append(time.perf_counter() - start)
    return {"size_bytes": classifier.stat().st_size, "num_images": len(images),
            "median_s_per_image": {str(n): statistics.median(times[n][3:]) for n in threads},
            "max_abs_difference_from_savedmodel": max(float(np.abs(np.array(probabilities[n]) - reference).max()) for n in threads)}


def median_seconds(functions: dict, repeats: int) -> dict[str, tuple[float, list[float]]]:
    """Median wall time of each of `functions` (name -> callable) over `repeats` calls, after
    3 warm-up calls each; the calls of the different functions are interleaved, so a change
    in the machine's speed meets all of them."""
    for function in functions.values():
        for _ in range(3):
            function()
    times = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(values), values) for name, values in times.items()}


def predictions(serve, images: np.ndarray) -> dict[str, np.ndarray]:
    """serving_default's outputs over `images`, 500 at a time."""
    parts = [serve(images=tf.constant(images[i : i + 500])) for i in range(0, len(images), 500)]
    return {key: np.concatenate([part[key].numpy() for part in parts]) for key in ("probabilities", "predicted_class", "entropy")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("export", help="a version folder, e.g. exports/mnist/1")
    parser.add_argument("--baseline", help="another export's version folder, timed in the same run (e.g. the float32 export of the same run)")
    parser.add_argument("--data-dir", default=os.environ.get("HYPERGAN_TF_DATA_DIR", "../shared/datasets"))
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--litert-images", type=int, default=200)
    parser.add_argument("--json", default=str(RESULTS / "serving.json"))
    args = parser.parse_args()

    export = Path(args.export)
    exports = {"export": export, **({"baseline": Path(args.baseline)} if args.baseline else {})}
    size = sum(p.stat().st_size for p in export.rglob("*") if p.is_file())
    signatures = {name: tf.saved_model.load(str(path)).signatures for name, path in exports.items()}
    serves = {name: found["serving_default"] for name, found in signatures.items()}
    serve = serves["export"]
    images = read_idx(Path(args.data_dir) / "mnist" / "t10k-images-idx3-ubyte.gz").astype(np.float32)[..., None] / 255.0
    labels = read_idx(Path(args.data_dir) / "mnist" / "t10k-labels-idx1-ubyte.gz")

    latencies = {name: {} for name in serves}  # export name -> batch -> figures
    for batch in (1, 100):
        x = tf.constant(images[:batch])
        timed = median_seconds({name: (lambda f=f: f(images=x)["probabilities"].numpy()) for name, f in serves.items()}, args.repeats)
        for name, (median, times) in timed.items():
            latencies[name][str(batch)] = {"median_s": median, "images_per_second": batch / median, "times_s": times}
    latency, baseline_latency = latencies["export"], latencies.get("baseline", {})
    sampling = None
    if "sample_weights" in signatures["export"]:
        sample = signatures["export"]["sample_weights"]
        noise_dim = sample.structured_input_signature[1]["noise"].shape[-1]
        noise = tf.random.stateless_normal([100, noise_dim], seed=[0, 0])
        median, times = median_seconds({"sample": lambda: [v.numpy() for v in sample(noise=noise).values()]}, args.repeats)["sample"]
        sampling = {"networks_per_call": 100, "median_s": median, "networks_per_second": 100 / median}

    served = predictions(serve, images)
    accuracy = float(np.mean(served["predicted_class"] == labels))
    assert not any(m.startswith("hypergan_tf") for m in sys.modules), "this benchmark must not import hypergan_tf"

    result = {"export": str(export), "size_bytes": size, "latency": latency, "sample_weights": sampling,
              "mnist_test_accuracy": accuracy, "tensorflow": tf.__version__}
    print(f"export {export}: {size / 1e6:.1f} MB")
    for batch, row in latency.items():
        print(f"serving_default batch {batch:>3}: median {row['median_s'] * 1000:.1f} ms over {args.repeats} calls, "
              f"{row['images_per_second']:,.0f} images/s")
    if sampling:
        print(f"sample_weights, 100 networks a call: median {sampling['median_s'] * 1000:.1f} ms, {sampling['networks_per_second']:,.0f} networks/s")
    print(f"MNIST test accuracy of the served ensemble: {accuracy:.4f}")
    if args.baseline:
        other = predictions(serves["baseline"], images)
        result["baseline"] = {
            "export": args.baseline, "latency": baseline_latency,
            "speedup": {batch: baseline_latency[batch]["median_s"] / row["median_s"] for batch, row in latency.items()},
            "mnist_test_accuracy": float(np.mean(other["predicted_class"] == labels)),
            "same_class": float(np.mean(other["predicted_class"] == served["predicted_class"])),
            "max_abs_probability_difference": float(np.abs(other["probabilities"] - served["probabilities"]).max()),
            "max_abs_entropy_difference": float(np.abs(other["entropy"] - served["entropy"]).max()),
        }
        compared = result["baseline"]
        for batch, row in baseline_latency.items():
            print(f"baseline {args.baseline} batch {batch:>3}: median {row['median_s'] * 1000:.1f} ms "
                  f"(the export is {compared['speedup'][batch]:.2f}x as fast)")
        print(f"baseline's MNIST test accuracy {compared['mnist_test_accuracy']:.4f}; same class on {compared['same_class']:.2%} of the "
              f"test images, probabilities at most {compared['max_abs_probability_difference']:.4f} apart, "
              f"entropy at most {compared['max_abs_entropy_difference']:.4f}")
    classifier = export.parent / "litert" / "classifier.tflite"
    if classifier.is_file():
        subset = images[: args.litert_images]
        reference = serve(images=tf.constant(subset))["probabilities"].numpy()
        result["litert"] = litert = litert_figures(classifier, subset, reference)
        per_image = ", ".join(f"{seconds * 1000:.1f} ms per image with {n} thread{'s' if n != '1' else ''} ({1 / seconds:,.0f} images/s)"
                              for n, seconds in litert["median_s_per_image"].items())
        print(f"LiteRT classifier: {litert['size_bytes'] / 1e6:.1f} MB, median {per_image}, "
              f"largest difference from the SavedModel {litert['max_abs_difference_from_savedmodel']:.1e} over {len(subset)} images")
    write_result(args.json, result)


if __name__ == "__main__":
    main()
