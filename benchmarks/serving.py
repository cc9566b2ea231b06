"""Size, latency and accuracy of an exported SavedModel, measured the way a server sees it.

    python benchmarks/serving.py exports/mnist/1 --data-dir ../shared/datasets [--repeats 20]

Runs in a fresh process that never imports hypergan_tf (only TensorFlow and NumPy):
export size on disk, median latency and throughput (images per second) of
`serving_default` at batch 1 and batch 100, networks generated per second by
`sample_weights` (100 noise vectors per call), and the test accuracy of the served
ensemble on MNIST (read from the IDX files directly).
When the export has a LiteRT classifier beside it (`export --litert`: ../litert/), also
its size, median latency per image and largest difference from the SavedModel's
probabilities on the first --litert-images test images (needs `ai-edge-litert`).
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
    """The phone-side view: the same fixed ensemble through the LiteRT interpreter, one image at a time."""
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=str(classifier)).get_signature_runner()
    probabilities, times = [], []
    for image in images:
        start = time.perf_counter()
        probabilities.append(runner(images=image[None])["probabilities"][0])
        times.append(time.perf_counter() - start)
    return {"size_bytes": classifier.stat().st_size, "median_s_per_image": statistics.median(times[3:]),
            "max_abs_difference_from_savedmodel": float(np.abs(np.array(probabilities) - reference).max()),
            "num_images": len(images)}


def median_seconds(function, repeats: int) -> tuple[float, list[float]]:
    """Median wall time of `function()` over `repeats` calls, after 3 warm-up calls."""
    for _ in range(3):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("export", help="a version folder, e.g. exports/mnist/1")
    parser.add_argument("--data-dir", default=os.environ.get("HYPERGAN_TF_DATA_DIR", "../shared/datasets"))
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--litert-images", type=int, default=200)
    parser.add_argument("--json", default=str(RESULTS / "serving.json"))
    args = parser.parse_args()

    export = Path(args.export)
    size = sum(p.stat().st_size for p in export.rglob("*") if p.is_file())
    serve = tf.saved_model.load(str(export)).signatures["serving_default"]
    images = read_idx(Path(args.data_dir) / "mnist" / "t10k-images-idx3-ubyte.gz").astype(np.float32)[..., None] / 255.0
    labels = read_idx(Path(args.data_dir) / "mnist" / "t10k-labels-idx1-ubyte.gz")

    latency = {}
    for batch in (1, 100):
        x = tf.constant(images[:batch])
        median, times = median_seconds(lambda: serve(images=x)["probabilities"].numpy(), args.repeats)
        latency[str(batch)] = {"median_s": median, "images_per_second": batch / median, "times_s": times}
    sampling = None
    signatures = tf.saved_model.load(str(export)).signatures
    if "sample_weights" in signatures:
        sample = signatures["sample_weights"]
        noise_dim = sample.structured_input_signature[1]["noise"].shape[-1]
        noise = tf.random.stateless_normal([100, noise_dim], seed=[0, 0])
        median, times = median_seconds(lambda: [v.numpy() for v in sample(noise=noise).values()], args.repeats)
        sampling = {"networks_per_call": 100, "median_s": median, "networks_per_second": 100 / median}

    predicted = np.concatenate([serve(images=tf.constant(images[i : i + 500]))["predicted_class"].numpy() for i in range(0, len(images), 500)])
    accuracy = float(np.mean(predicted == labels))
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
    classifier = export.parent / "litert" / "classifier.tflite"
    if classifier.is_file():
        subset = images[: args.litert_images]
        reference = serve(images=tf.constant(subset))["probabilities"].numpy()
        result["litert"] = litert = litert_figures(classifier, subset, reference)
        print(f"LiteRT classifier: {litert['size_bytes'] / 1e6:.1f} MB, median {litert['median_s_per_image'] * 1000:.1f} ms per image "
              f"({1 / litert['median_s_per_image']:,.0f} images/s), "
              f"largest difference from the SavedModel {litert['max_abs_difference_from_savedmodel']:.1e} over {len(subset)} images")
    write_result(args.json, result)


if __name__ == "__main__":
    main()
