"""The feature-diversity term (objectives/feature_diversity.py): its CKA, the features it
reads from the step's forward pass, and what training with it does."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from conftest import train_tiny_sampler
from hypergan_tf.analysis.diversity import feature_similarity as measured_similarity
from hypergan_tf.config import TrainConfig
from hypergan_tf.errors import HyperganError
from hypergan_tf.objectives.feature_diversity import feature_layers, feature_repulsion, mean_pairwise_cka
from hypergan_tf.samplers import build_sampler
from hypergan_tf.targets import get_target


def reference_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear CKA by its textbook formula: HSIC with the centring matrix H."""
    n = len(x)
    h = np.eye(n) - 1.0 / n
    k, l_ = h @ x @ x.T @ h, h @ y @ y.T @ h
    return float(np.trace(k @ l_) / np.sqrt(np.trace(k @ k) * np.trace(l_ @ l_)))


def test_cka_is_the_textbook_formula_and_ignores_rotations_and_scale():
    rng = np.random.default_rng(0)
    a, b, c = (rng.normal(size=(24, 7)) for _ in range(3))
    features = np.stack([a, b, c])
    expected = np.mean([reference_cka(features[i], features[j]) for i in range(3) for j in range(3) if i != j])
    assert float(mean_pairwise_cka(tf.constant(features), tf.float64)) == pytest.approx(expected, rel=1e-9)
    rotation, _ = np.linalg.qr(rng.normal(size=(7, 7)))
    same = np.stack([a, 3.0 * a @ rotation + 5.0])  # rotated, scaled and shifted: the same features
    assert float(mean_pairwise_cka(tf.constant(same), tf.float64)) == pytest.approx(1.0, abs=1e-9)
    assert float(mean_pairwise_cka(tf.constant(same[:1]))) == 0.0  # one network: no pair


def test_repulsion_pushes_hardest_where_the_features_converge_and_stays_finite():
    """At two networks with the same features CKA is at its maximum and its gradient
    vanishes; the repulsion's gradient grows instead. Constant features give no NaN."""
    base = tf.random.stateless_normal([1, 16, 6], seed=(1, 2))
    gradients = {}
    for gap in (1e-1, 1e-2):
        features = tf.Variable(tf.concat([base, base + gap * tf.random.stateless_normal([1, 16, 6], seed=(3, 4))], axis=0))
        with tf.GradientTape(persistent=True) as tape:
            cka = mean_pairwise_cka(features)
            repelled = feature_repulsion({"layer": features})[0]
        gradients[gap] = (float(tf.norm(tape.gradient(cka, features))), float(tf.norm(tape.gradient(repelled, features))))
    assert gradients[1e-2][0] < 0.2 * gradients[1e-1][0]  # CKA: the closer, the weaker the push
    assert gradients[1e-2][1] > 3.0 * gradients[1e-1][1]  # repulsion: the closer, the stronger
    logged = feature_repulsion({"layer": features, "same": features})[1]  # the mean CKA, from the same Gram matrices
    assert float(logged) == pytest.approx(float(mean_pairwise_cka(features)), rel=1e-6)
    constant = tf.Variable(tf.concat([tf.ones([1, 8, 5]), tf.random.stateless_normal([2, 8, 5], seed=(1, 2))], axis=0))
    with tf.GradientTape() as tape:
        value = sum(feature_repulsion({"layer": constant})) + mean_pairwise_cka(constant)
    assert np.isfinite(float(value))
    assert np.all(np.isfinite(tape.gradient(value, constant).numpy()))


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_forward_and_features_match_forward_and_each_networks_features(tiny_config, precision):
    model = build_sampler(tiny_config)
    target = model.target
    weights = {name: tf.constant(value) for name, value in model.sample_networks(3, 5).items()}
    x = tf.random.stateless_uniform((20, *target.input_shape), seed=(3, 4))
    logits, kept = target.forward_and_features(x, weights, precision, tuple(target.layer_names[:-1]), 6)
    np.testing.assert_array_equal(logits.numpy(), target.forward(x, weights, precision).numpy())
    assert list(kept) == target.layer_names[:-1]
    reference = target.features(x, weights)
    tolerance = 1e-5 if precision == "float32" else 0.05
    for name, value in kept.items():
        assert value.dtype == tf.float32 and value.shape[:2] == (3, 6)
        np.testing.assert_allclose(value.numpy(), reference[name][:, :6].numpy(), atol=tolerance * float(tf.reduce_max(tf.abs(value))))


def test_layers_default_to_the_hidden_ones_and_unknown_names_are_refused():
    target = get_target("cifar-mednet")
    assert feature_layers(target, None) == ("conv1", "conv2", "conv3", "linear1")
    assert feature_layers(target, " conv3, linear1") == ("conv3", "linear1")
    with pytest.raises(HyperganError, match="conv4 is not a layer of target cifar-mednet; its layers: conv1, conv2"):
        feature_layers(target, "conv3,conv4")


def test_config_refuses_the_term_where_it_cannot_work():
    with pytest.raises(HyperganError, match="--recompute drops"):
        TrainConfig(feature_diversity_weight=0.5, recompute=8)
    with pytest.raises(HyperganError, match="applies to HyperGAN runs only"):
        TrainConfig(method="ensemble", feature_diversity_weight=0.5)
    with pytest.raises(HyperganError, match="must be >= 0"):
        TrainConfig(feature_diversity_weight=-1.0)


def test_training_with_the_term_makes_the_networks_features_differ(tiny_config):
    """The same tiny HyperGAN trained with and without the term: with it, the networks'
    hidden features are less alike by CKA on test images the term never saw (without
    it they are one representation: CKA above 0.999), the step logs the similarity,
    accuracy is kept, and the option survives get_config. (Here 0.1 already costs
    the accuracy: 0.22 against 0.76 when this was written.)"""
    from hypergan_tf.data import load_dataset

    data = load_dataset("digits")
    results = {}
    for weight in (0.0, 0.03):
        config = dataclasses.replace(tiny_config, steps=80, feature_diversity_weight=weight, diversity_weight=0.0)
        model, logs = train_tiny_sampler(config)
        weights = model.sample_networks(8, 1)
        similarity = measured_similarity(model, data.test_images[:200], weights)
        logits = model.classify(data.test_images, weights).numpy()
        results[weight] = {"hidden": np.mean([similarity[name] for name in model.target.layer_names[:-1]]),
                           "accuracy": float((logits.mean(0).argmax(-1) == data.test_labels).mean()),
                           "logged": float(logs["feature_similarity"]) if weight else None, "config": model.get_config()}
    assert results[0.0]["hidden"] > 0.999 and results[0.03]["hidden"] < 0.995, results
    assert 0.0 < results[0.03]["logged"] < 1.0
    assert results[0.0]["accuracy"] > 0.6 and results[0.03]["accuracy"] > 0.6
    restored = type(model).from_config(results[0.03]["config"])
    assert restored.feature_diversity_weight == 0.03 and restored.feature_layer_names == tuple(model.target.layer_names[:-1])
