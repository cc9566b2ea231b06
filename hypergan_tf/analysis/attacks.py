"""Adversarial examples against a whole ensemble (FGSM, PGD) and what its entropy sees.

The attacks follow the gradient of the cross-entropy of the ensemble's *mean*
prediction, so they target the ensemble, not one member. Pixels stay in [0, 1] and
within `epsilon` (L-infinity) of the clean image.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from hypergan_tf.analysis.uncertainty import detection, entropy
from hypergan_tf.atomic import save_figure
from hypergan_tf.data import Dataset
from hypergan_tf.errors import HyperganError
from hypergan_tf.resources import check_memory, training_bytes_per_network
from hypergan_tf.samplers import NETWORK_SEED, WeightSampler

METHODS = ("fgsm", "pgd")


def ensemble_gradient(model: WeightSampler, weights: dict[str, tf.Tensor]):
    """A tf.function: (images [B, H, W, C], labels [B]) -> (mean probabilities, d loss / d images)."""

    @tf.function(reduce_retracing=True)
    def gradient(images, labels):
        with tf.GradientTape() as tape:
            tape.watch(images)
            probabilities = tf.reduce_mean(tf.nn.softmax(model.classify(images, weights, inference=False)), axis=0)
            picked = tf.gather(probabilities, labels, batch_dims=1)
            loss = -tf.reduce_sum(tf.math.log(picked + 1e-12))
        return probabilities, tape.gradient(loss, images)

    return gradient


def fgsm(gradient, images: tf.Tensor, labels: tf.Tensor, epsilon: float) -> tf.Tensor:
    """One step of size epsilon along the sign of the gradient, clipped to [0, 1]."""
    _, grad = gradient(images, labels)
    return tf.clip_by_value(images + epsilon * tf.sign(grad), 0.0, 1.0)


def pgd(gradient, images: tf.Tensor, labels: tf.Tensor, epsilon: float, steps: int = 10, step_size: float | None = None, seed: int = 0) -> tf.Tensor:
    """Projected gradient descent from a random start in the epsilon-ball (Madry et al.)."""
    step_size = 2.5 * epsilon / steps if step_size is None else step_size
    noise = tf.random.stateless_uniform(tf.shape(images), seed=[seed, 0], minval=-epsilon, maxval=epsilon)
    adversarial = tf.clip_by_value(images + noise, 0.0, 1.0)
    for _ in range(steps):
        _, grad = gradient(adversarial, labels)
        adversarial = adversarial + step_size * tf.sign(grad)
        adversarial = tf.clip_by_value(tf.clip_by_value(adversarial, images - epsilon, images + epsilon), 0.0, 1.0)
    return adversarial


def attack(model: WeightSampler, data: Dataset, method: str, epsilons, ensemble_size: int = 10, num_examples: int = 1000,
           steps: int = 10, seed: int = NETWORK_SEED, batch_size: int = 250, progress=None, plot=None) -> dict:
    """Accuracy, mean entropy and entropy-based detection AUROC under attack, per epsilon."""
    if method not in METHODS:
        raise HyperganError(f"unknown attack {method!r}; choose one of: {', '.join(METHODS)}")
    if not epsilons or min(epsilons) <= 0:
        raise HyperganError("--epsilons must be positive numbers, e.g. 0.01,0.05,0.1")
    if ensemble_size < 1 or num_examples < 1 or steps < 1:
        raise HyperganError("--ensemble-size, --num-examples and --steps must be at least 1")
    ensemble_size = model.networks_available(ensemble_size)
    check_memory("--ensemble-size", ensemble_size, training_bytes_per_network(model.target, batch_size),
                 f"the networks' weights and the activations of a gradient on {batch_size} images")
    images = data.test_images[:num_examples].astype(np.float32) / 255.0
    labels = data.test_labels[:num_examples].astype(np.int32)
    weights = {k: tf.constant(v) for k, v in model.sample_networks(ensemble_size, seed).items()}
    gradient = ensemble_gradient(model, weights)

    def evaluate(batches):
        probabilities = np.concatenate([gradient(tf.constant(x), tf.constant(y))[0].numpy() for x, y in batches])
        return float(np.mean(probabilities.argmax(-1) == labels)), entropy(probabilities)

    def batches(source):
        return [(source[i : i + batch_size], labels[i : i + batch_size]) for i in range(0, len(labels), batch_size)]

    clean_accuracy, clean_entropy = evaluate(batches(images))
    total, done = len(epsilons) * len(batches(images)), 0
    result = {
        "dataset": data.name, "method": method, "ensemble_size": ensemble_size, "num_examples": int(len(labels)),
        "steps": steps if method == "pgd" else 1,
        "clean": {"accuracy": clean_accuracy, "mean_entropy": float(clean_entropy.mean())},
        "epsilons": {},
    }
    for epsilon in epsilons:
        adversarial = []
        for x, y in batches(images):
            x, y = tf.constant(x), tf.constant(y)
            attacked = fgsm(gradient, x, y, epsilon) if method == "fgsm" else pgd(gradient, x, y, epsilon, steps, seed=seed)
            adversarial.append(attacked.numpy())
            done += 1
            if progress is not None:
                progress(done, total)
        accuracy, adversarial_entropy = evaluate(batches(np.concatenate(adversarial)))
        result["epsilons"][f"{epsilon:g}"] = {
            "accuracy": accuracy,
            "mean_entropy": float(adversarial_entropy.mean()),
            "auroc_entropy": detection(clean_entropy, adversarial_entropy)["auroc"],
        }
    if plot is not None:
        plot_entropy_vs_epsilon(result, plot)
    return result


def plot_entropy_vs_epsilon(result: dict, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    eps = [0.0] + [float(e) for e in result["epsilons"]]
    mean_entropy = [result["clean"]["mean_entropy"]] + [row["mean_entropy"] for row in result["epsilons"].values()]
    accuracy = [result["clean"]["accuracy"]] + [row["accuracy"] for row in result["epsilons"].values()]
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot(eps, mean_entropy, "o-", label="mean predictive entropy (nats)")
    axis.plot(eps, accuracy, "s--", label="accuracy")
    axis.set(xlabel="epsilon (L-inf)", title=f"{result['method'].upper()} against a {result['ensemble_size']}-network ensemble")
    axis.legend()
    figure.tight_layout()
    save_figure(figure, path)
