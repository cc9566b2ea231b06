"""Running sampled networks as an ensemble on many images, in chunks.

Memory is bounded by evaluating `network_chunk` networks on `image_batch` images at a
time (activations grow with both: 10 x 500 on mnist-small is about 0.4 GB), while
every chunk is still one vectorised call.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from hypergan_tf.data.pipelines import as_inputs
from hypergan_tf.samplers import WeightSampler


def predict_probabilities(
    model: WeightSampler,
    images: np.ndarray,
    weights: dict[str, np.ndarray],
    network_chunk: int = 10,
    image_batch: int = 500,
    progress=None,
) -> np.ndarray:
    """Softmax outputs of every network on every image: [n_networks, n_images, classes].

    `images` are uint8 or floats in [0, 1]; `progress(done, total)` is called after
    each chunk.
    """
    return _predict(lambda x, w: tf.nn.softmax(model.classify(x, w)), images, weights, network_chunk, image_batch, progress)


def predict_logits(model: WeightSampler, images: np.ndarray, weights: dict[str, np.ndarray], **chunking) -> np.ndarray:
    """Logits of every network on every image, [n_networks, n_images, classes] (for a
    softmax at a temperature; a regression network's predictions, [.., .., 1]);
    `chunking` as for `predict_probabilities`."""
    return _predict(model.classify, images, weights, **chunking)


def _predict(function, images, weights, network_chunk: int = 10, image_batch: int = 500, progress=None) -> np.ndarray:
    """`function(pixels [B, ...], weights of k networks) -> [k, B, C]` over every chunk."""
    classify = tf.function(function)
    num_networks = next(iter(weights.values())).shape[0]
    total = -(-num_networks // network_chunk) * -(-len(images) // image_batch)
    done = 0
    rows = []
    for n0 in range(0, num_networks, network_chunk):
        chunk = {name: tf.constant(value[n0 : n0 + network_chunk]) for name, value in weights.items()}
        columns = []
        for i0 in range(0, len(images), image_batch):
            batch = as_inputs(images[i0 : i0 + image_batch])
            columns.append(classify(tf.constant(batch), chunk).numpy())
            done += 1
            if progress is not None:
                progress(done, total)
        rows.append(np.concatenate(columns, axis=1))
    return np.concatenate(rows, axis=0)
