"""Diversity modulo symmetries, the diversity mechanisms, and the metrics that judge them."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from hypergan_tf.analysis import metrics
from hypergan_tf.analysis.diversity import symmetry_aware_diversity
from hypergan_tf.analysis.evaluate import summarise
from hypergan_tf.config import TrainConfig
from hypergan_tf.errors import HyperganError
from hypergan_tf.objectives.diversity import (MAX_GRADIENT_RATIO, ambiguity, between_class_probes, error_repulsion, gradient_norm_ratio, nearest_neighbour_distances,
                                              pairwise_disagreement, prediction_repulsion, weight_repulsion)
from hypergan_tf.targets.symmetry import canonical_weights, rescale_units
from hypergan_tf.samplers import build_sampler


def rescaled(target, weights, rng):
    """The same networks with every hidden unit scaled by a random c > 0 (and 1/c downstream)."""
    k = next(iter(weights.values())).shape[0]
    scales = {layer.name: rng.uniform(0.2, 5.0, size=(k, layer.units)).astype(np.float32) for layer in target.layers[:-1]}
    return rescale_units(target, weights, scales)


@pytest.mark.parametrize("target", ["mnist-small", "cifar-small"])
def test_rescaled_networks_compute_the_same_function_and_have_the_same_canonical_form(tiny_config, target):
    model = build_sampler(dataclasses.replace(tiny_config, target=target))
    weights = model.sample_networks(3, seed=1)
    scaled = rescaled(model.target, weights, np.random.default_rng(0))
    images = tf.random.stateless_uniform((2,) + model.target.input_shape, seed=(3, 4))
    np.testing.assert_allclose(model.classify(images, weights), model.classify(images, scaled), rtol=1e-4, atol=1e-4)
    assert not np.allclose(weights["conv1/kernel"], scaled["conv1/kernel"])  # the L2 norms differ ...
    for name, canonical in canonical_weights(model.target, weights).items():  # ... the canonical forms do not
        np.testing.assert_allclose(canonical, canonical_weights(model.target, scaled)[name], atol=1e-5)


def test_symmetry_aware_diversity_ignores_rescaling_but_not_real_differences(tiny_config):
    model = build_sampler(tiny_config)
    one = {name: np.repeat(value[:1], 4, axis=0) for name, value in model.sample_networks(1, seed=2).items()}
    copies = rescaled(model.target, one, np.random.default_rng(1))  # 4 rescaled copies of one network
    assert max(metrics.l2_std_over_mean(copies).values()) > 0.1  # the paper's measure calls them diverse
    assert max(symmetry_aware_diversity(model.target, copies).values()) < 1e-3
    assert min(symmetry_aware_diversity(model.target, model.sample_networks(4, seed=2)).values()) > 0.01


def test_nearest_neighbour_distances():
    points = tf.constant([[0.0, 0.0], [3.0, 4.0], [3.0, 5.0]])
    np.testing.assert_allclose(nearest_neighbour_distances(points), [5.0, 1.0, 1.0], rtol=1e-4)


def test_repulsion_gradient_spreads_the_networks(tiny_config):
    model = build_sampler(tiny_config)
    variables = model.generator_variables
    optimizer = keras.optimizers.Adam(1e-3)
    noise = model.sample_noise(8)

    def spread():
        _, weights = model.generate(noise)
        return float(tf.reduce_mean(nearest_neighbour_distances(canonical_weights(model.target, weights)["conv2"])))

    before = spread()
    for _ in range(20):
        with tf.GradientTape() as tape:
            loss = weight_repulsion(model.target, model.generate(noise, training=True)[1])
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    assert spread() > 1.2 * before


def test_ambiguity_is_what_the_ensemble_gains_in_cross_entropy():
    logits = tf.random.stateless_normal((6, 50, 4), seed=(5, 6))
    labels = tf.random.stateless_uniform((50,), seed=(7, 8), maxval=4, dtype=tf.int32)
    probabilities = tf.nn.softmax(logits).numpy()
    member_ce = -np.log(probabilities[:, np.arange(50), labels.numpy()]).mean()
    ensemble_ce = -np.log(probabilities.mean(0)[np.arange(50), labels.numpy()]).mean()
    assert float(ambiguity(logits, labels)) == pytest.approx(member_ce - ensemble_ce, rel=1e-4)
    assert member_ce - ensemble_ce > 0
    assert float(ambiguity(tf.repeat(logits[:1], 6, axis=0), labels)) == pytest.approx(0.0, abs=1e-5)


def test_probes_blend_mirrored_images_and_repulsion_rewards_disagreeing_on_them():
    images = tf.reshape(tf.range(4 * 2, dtype=tf.float32), (4, 2, 1, 1))
    np.testing.assert_allclose(between_class_probes(images, 3)[:, :, 0, 0], [[3, 4], [3, 4], [3, 4]])
    assert between_class_probes(images, 10).shape[0] == 4  # at most the batch
    agree = tf.constant([[[4.0, 0.0]], [[4.0, 0.0]], [[4.1, 0.0]]])  # [K=3, P=1, C=2]
    disagree = tf.constant([[[4.0, 0.0]], [[0.0, 4.0]], [[0.0, 0.0]]])
    assert float(prediction_repulsion(disagree)) < float(prediction_repulsion(agree)) - 2.0


def test_error_repulsion_ignores_the_true_class_and_rewards_different_mistakes():
    rng = np.random.default_rng(0)
    logits = tf.constant(rng.normal(size=(4, 6, 5)), tf.float32)  # [K=4, B=6, C=5]
    labels = tf.constant(rng.integers(0, 5, size=6))
    # Raising or lowering each network's confidence in the right answer changes nothing.
    shift = tf.one_hot(labels, 5)[None] * tf.constant(rng.normal(scale=3.0, size=(4, 1, 1)), tf.float32)
    np.testing.assert_allclose(float(error_repulsion(logits + shift, labels)), float(error_repulsion(logits, labels)), rtol=1e-5)
    assert float(prediction_repulsion(logits + shift)) != pytest.approx(float(prediction_repulsion(logits)), rel=1e-3)
    # All sure of class 0; they agree or differ on the runner-up (class 1 vs classes 1..3).
    same_runner_up = tf.constant([[[8.0, 2.0, 0.0, 0.0]]] * 3 + [[[8.0, 2.1, 0.0, 0.0]]])
    different = tf.constant([[[8.0, 2.0, 0.0, 0.0]], [[8.0, 0.0, 2.0, 0.0]], [[8.0, 0.0, 0.0, 2.0]], [[8.0, 0.0, 0.0, 0.0]]])
    assert float(error_repulsion(different, tf.constant([0]))) < float(error_repulsion(same_runner_up, tf.constant([0]))) - 2.0


def test_tensorflow_disagreement_matches_numpy():
    logits = tf.random.stateless_normal((5, 40, 3), seed=(1, 2))
    expected = metrics.pairwise_disagreement(tf.nn.softmax(logits).numpy())
    assert float(pairwise_disagreement(logits)) == pytest.approx(expected, abs=1e-6)
    assert float(pairwise_disagreement(tf.repeat(logits[:1], 5, axis=0))) == pytest.approx(0.0, abs=1e-7)


def test_ensemble_gain_is_ensemble_minus_mean_member_accuracy(tiny_config):
    labels = np.array([0, 1, 2, 0])
    # Three networks, each wrong on a different input: members 3/4 right, the vote 4/4.
    probabilities = np.full((3, 4, 3), 0.1)
    for network in range(3):
        probabilities[network, np.arange(4), labels] = 0.8
        probabilities[network, network, (labels[network] + 1) % 3] = 0.9
        probabilities[network, network, labels[network]] = 0.05
    model = build_sampler(tiny_config)
    result = summarise(probabilities, labels, model.sample_networks(3, seed=0), [1, 3], model.target)
    assert result["diversity"]["ensemble_gain"] == {"3": pytest.approx(0.25)}
    assert set(result["diversity"]["symmetry_aware"]) == {"conv1", "conv2", "linear1"}


def test_ensemble_accuracy_over_disjoint_groups():
    labels = np.array([0, 1])
    probabilities = np.zeros((5, 2, 2))
    probabilities[:, :, 1] = 1.0  # every network says class 1: right on input 1 only
    probabilities[0:2, :, :] = [[1.0, 0.0], [0.0, 1.0]]  # networks 0 and 1 right on both
    result = summarise(probabilities, labels, {}, [1, 2, 5])
    # Groups of 2: {0, 1} right on both, {2, 3} on one; network 4 is left over.
    assert result["ensembles"]["2"]["accuracy_over_groups"] == {"mean": 0.75, "std": 0.25, "num_groups": 2}
    assert "accuracy_over_groups" not in result["ensembles"]["1"] and "accuracy_over_groups" not in result["ensembles"]["5"]


def test_beta_schedule_moves_linearly_then_holds(tiny_config):
    model = build_sampler(dataclasses.replace(tiny_config, beta=1.0, beta_final=3.0), total_steps=10)
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(1e-3))
    values = []
    for step in (0, 5, 10, 20):
        model.g_optimizer.iterations.assign(step)
        values.append(float(model.current_beta()))
    assert values == pytest.approx([1.0, 2.0, 3.0, 3.0])
    assert not build_sampler(dataclasses.replace(tiny_config, beta=0.0)).uses_discriminator
    assert build_sampler(dataclasses.replace(tiny_config, beta=0.0, beta_final=1.0)).uses_discriminator


def test_per_layer_discriminator_trains_one_head_per_layer(tiny_config):
    model = build_sampler(dataclasses.replace(tiny_config, per_layer_discriminator=True))
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(1e-3))
    heads = model.discriminator.heads
    assert len(heads) == 3
    before = [h.out.kernel.numpy().copy() for h in heads]
    model.discriminator_step(4)
    assert all(not np.array_equal(b, h.out.kernel.numpy()) for b, h in zip(before, heads))
    assert not np.allclose(heads[0].out.kernel.numpy(), heads[1].out.kernel.numpy())


def test_mixer_noise_perturbs_codes_only_in_training(tiny_config):
    model = build_sampler(dataclasses.replace(tiny_config, mixer_noise=0.5))
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(1e-3))  # steps key the noise
    noise = model.sample_noise(2)
    np.testing.assert_array_equal(model.codes(noise), model.codes(noise))
    assert not np.allclose(model.codes(noise), model.codes(noise, training=True))


def test_recomputed_batch_norm_statistics_match_the_batch_statistics(tiny_config):
    model = build_sampler(dataclasses.replace(tiny_config, batch_norm=True))
    noise = tf.constant(np.random.default_rng(0).standard_normal((512, model.noise_dim)).astype(np.float32))
    # Fresh layers hold moving statistics (0, 1) that do not describe what they see.
    gap_before = np.abs(model.generate(noise)[1]["conv1/kernel"] - model.generate(noise, training=True)[1]["conv1/kernel"]).mean()
    assert model.recompute_batch_norm_statistics(num_networks=4096) == 8  # 2 in the mixer, 2 in each of 3 generators
    gap_after = np.abs(model.generate(noise)[1]["conv1/kernel"] - model.generate(noise, training=True)[1]["conv1/kernel"]).mean()
    assert gap_after < 0.2 * gap_before
    one = model.generate(noise[:1])[1]["conv1/kernel"]  # a network sampled alone is well defined
    np.testing.assert_allclose(one[0], model.generate(noise)[1]["conv1/kernel"][0], rtol=1e-4, atol=1e-6)


def test_gradient_norm_ratio_gives_the_term_the_likelihoods_gradient_norm():
    logits = tf.random.stateless_normal([6, 20, 10], seed=(2, 3)) * 3.0
    labels = tf.range(20) % 10
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(logits)
        nll = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(tf.broadcast_to(labels, [6, 20]), logits))
        term = error_repulsion(logits, labels)
    ratio = gradient_norm_ratio(tape, nll, term, logits)
    scaled = ratio * tape.gradient(term, logits)  # the gradient of ratio * term: the ratio is a constant
    np.testing.assert_allclose(tf.norm(scaled).numpy(), tf.norm(tape.gradient(nll, logits)).numpy(), rtol=1e-5)
    assert abs(ratio.numpy() - 1.0) > 0.01  # the two gradients differ in norm: the ratio did something


@pytest.mark.parametrize("scale", ["absolute", "relative"])
def test_logged_strength_is_the_terms_gradient_norm_over_the_likelihoods(tiny_config, scale):
    """Relative scale: the logged strength is the weight itself. Absolute scale: it is the
    weight over the step's gradient-norm ratio, which varies with the data."""
    model = build_sampler(dataclasses.replace(tiny_config, diversity="errors", diversity_weight=0.5, diversity_scale=scale))
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(1e-3))
    images = tf.random.stateless_uniform((8, 28, 28, 1), seed=(1, 1))
    logs = model.generator_step(images, tf.range(8) % 10, 4)
    strength = float(logs["diversity_strength"])
    if scale == "relative":
        assert strength == pytest.approx(0.5)
    else:
        assert np.isfinite(strength) and strength > 0 and strength != pytest.approx(0.5)


def test_relative_scale_needs_a_term_of_the_outputs():
    with pytest.raises(HyperganError, match="--diversity-scale relative"):
        TrainConfig(dataset="digits", diversity="weights", diversity_scale="relative")
    TrainConfig(dataset="digits", diversity="function", diversity_scale="relative")


def test_diversity_warmup_ramps_the_weight_up_then_holds(tiny_config):
    config = dataclasses.replace(tiny_config, diversity_weight=2.0, diversity_scale="relative", diversity_warmup=0.5)
    model = build_sampler(config, total_steps=4)  # the ramp spans the first 2 steps
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(1e-3))
    images = tf.random.stateless_uniform((8, 28, 28, 1), seed=(1, 1))
    weights = []
    for _ in range(4):
        weights.append(float(model.current_diversity_weight()))
        model.generator_step(images, tf.range(8) % 10, 4)
    assert weights == pytest.approx([0.0, 1.0, 2.0, 2.0])
    with pytest.raises(HyperganError, match="--diversity-warmup"):
        TrainConfig(dataset="digits", diversity_warmup=1.5)


@pytest.mark.parametrize("warmup, expected", [(0.25, [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 2.0]), (0.0, [0.0, 0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 2.0])])
def test_diversity_delay_holds_the_term_off_then_ramps_it_in(tiny_config, warmup, expected):
    config = dataclasses.replace(tiny_config, diversity_weight=2.0, diversity_scale="relative", diversity_warmup=warmup, diversity_delay=0.5)
    model = build_sampler(config, total_steps=8)  # off for 4 steps, then a ramp over 2 (or a step up at the 5th)
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(1e-3))
    images = tf.random.stateless_uniform((8, 28, 28, 1), seed=(1, 1))
    weights, strengths = [], []
    for _ in range(8):
        weights.append(float(model.current_diversity_weight()))
        strengths.append(float(model.generator_step(images, tf.range(8) % 10, 4)["diversity_strength"]))
    assert weights == pytest.approx(expected)
    assert strengths[3] == 0.0 and strengths[-1] > 0  # the mean logged strength: 0 while held off
    assert build_sampler(config, total_steps=8).get_config()["diversity_delay"] == 0.5
    with pytest.raises(HyperganError, match="--diversity-delay must be"):
        TrainConfig(dataset="digits", diversity_delay=1.0)
    with pytest.raises(HyperganError, match="--diversity-delay plus --diversity-warmup"):
        TrainConfig(dataset="digits", diversity_delay=0.5, diversity_warmup=0.6)


def test_gradient_norm_ratio_stays_finite_when_the_networks_fit_the_batch_exactly():
    """A batch fitted with certainty has a cross-entropy gradient of exactly 0 in float32:
    the logged strength (term over likelihood) must not become infinite (a non-finite
    metric stops training as diverged), and it is capped when the gradient is merely tiny."""
    labels = tf.range(20) % 10
    certain = tf.one_hot(labels, 10)[None] * 1e4 + tf.random.stateless_normal([6, 20, 10], seed=(4, 4))
    for logits in (certain, certain * 1e-2):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(logits)
            nll = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(tf.broadcast_to(labels, [6, 20]), logits))
            term = error_repulsion(logits, labels)
        for numerator, denominator in ((term, nll), (nll, term)):
            assert 0 <= gradient_norm_ratio(tape, numerator, denominator, logits).numpy() <= MAX_GRADIENT_RATIO
