"""Off-data uncertainty (objectives/off_data.py): the probe inputs, the objectives, and
that training with the term makes the networks uncertain where there is no data."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from conftest import train_tiny_sampler
from hypergan_tf.analysis.ood import entropy_auroc
from hypergan_tf.analysis.predict import predict_probabilities
from hypergan_tf.analysis.uncertainty import predictive_entropy
from hypergan_tf.config import TrainConfig
from hypergan_tf.errors import HyperganError
from hypergan_tf.objectives.off_data import OFF_DATA_INPUTS, OFF_DATA_OBJECTIVES, PATCH_GRID, split_sizes
from hypergan_tf.samplers import build_sampler

SEED = tf.constant([2**31 + 3, 11], tf.int64)


def tiles(images: np.ndarray) -> np.ndarray:
    """[N, H, W, C] -> [N, PATCH_GRID**2, tile pixels] (the whole-tile region)."""
    n, h, w, c = images.shape
    th, tw = h // PATCH_GRID, w // PATCH_GRID
    region = images[:, : th * PATCH_GRID, : tw * PATCH_GRID].reshape(n, PATCH_GRID, th, PATCH_GRID, tw, c)
    return region.transpose(0, 1, 3, 2, 4, 5).reshape(n, PATCH_GRID * PATCH_GRID, -1)


@pytest.mark.parametrize("shape", [(6, 28, 28, 1), (5, 30, 33, 3)])
def test_shuffled_patches_move_whole_tiles_per_image(shape):
    images = tf.random.stateless_uniform(shape, seed=(2, 2))
    shuffled = OFF_DATA_INPUTS["patches"].make(images, SEED).numpy()
    original = images.numpy()
    before, after = tiles(original), tiles(shuffled)
    orders = []
    for b, a in zip(before, after):
        # every tile of the output is one tile of the input, each used once
        matches = [int(np.flatnonzero((b == tile).all(axis=1))[0]) for tile in a]
        assert sorted(matches) == list(range(PATCH_GRID * PATCH_GRID))
        orders.append(matches)
    assert len({tuple(order) for order in orders}) > 1  # drawn per image
    assert orders[0] != list(range(PATCH_GRID * PATCH_GRID))
    th, tw = shape[1] // PATCH_GRID * PATCH_GRID, shape[2] // PATCH_GRID * PATCH_GRID
    np.testing.assert_array_equal(shuffled[:, th:], original[:, th:])  # the remainder stays
    np.testing.assert_array_equal(shuffled[:, :, tw:], original[:, :, tw:])
    np.testing.assert_array_equal(OFF_DATA_INPUTS["patches"].make(images, SEED).numpy(), shuffled)  # (seed, step) alone


def test_every_kind_of_probe_is_an_image_of_the_same_shape_and_range():
    images = tf.random.stateless_uniform((9, 28, 28, 1), seed=(3, 3))
    for name, kind in OFF_DATA_INPUTS.items():
        probes = kind.make(images, SEED).numpy()
        assert probes.shape == images.shape, name
        assert 0 <= probes.min() and probes.max() <= 1, name
        assert probes.std() > 0.05, name
    blends = OFF_DATA_INPUTS["blends"].make(images, SEED).numpy()
    np.testing.assert_allclose(blends[0], 0.5 * (images[0] + images[-1]), atol=1e-6)
    pixels = OFF_DATA_INPUTS["pixels"].make(images, SEED).numpy()
    np.testing.assert_allclose(np.sort(pixels.reshape(9, -1)), np.sort(images.numpy().reshape(9, -1)))
    assert not np.allclose(pixels, images)
    other_step = OFF_DATA_INPUTS["blobs"].make(images, SEED + [0, 1]).numpy()
    assert not np.allclose(other_step, OFF_DATA_INPUTS["blobs"].make(images, SEED).numpy())


def test_mixed_probes_are_a_third_of_each_kind():
    assert split_sizes(tf.constant(8), 3).numpy().tolist() == [3, 3, 2]
    images = tf.random.stateless_uniform((6, 28, 28, 1), seed=(4, 4))
    mixed = OFF_DATA_INPUTS["mixed"].make(images, SEED).numpy()
    np.testing.assert_allclose(mixed[:2], OFF_DATA_INPUTS["blends"].make(images[:2], SEED).numpy(), atol=1e-6)
    np.testing.assert_allclose(mixed[2:4], OFF_DATA_INPUTS["patches"].make(images[2:4], SEED + 1).numpy())
    np.testing.assert_allclose(mixed[4:], OFF_DATA_INPUTS["blobs"].make(images[4:], SEED + 2).numpy())


def test_objectives_measure_the_kind_of_uncertainty_they_name():
    classes = 10
    confident = tf.one_hot([[3, 3], [3, 3], [3, 3]], classes) * 20.0  # three members, two probes, all sure of class 3
    disagreeing = tf.one_hot([[0, 1], [4, 5], [8, 9]], classes) * 20.0  # each sure, of different classes
    unsure = tf.zeros([3, 2, classes])
    value = {name: {case: float(term.uncertainty(logits)) for case, logits in
                    (("confident", confident), ("disagreeing", disagreeing), ("unsure", unsure))}
             for name, term in OFF_DATA_OBJECTIVES.items()}
    assert value["entropy"]["unsure"] == pytest.approx(1.0)
    assert value["entropy"]["confident"] == pytest.approx(0.0, abs=1e-4)
    assert value["entropy"]["disagreeing"] == pytest.approx(np.log(3) / np.log(classes), abs=1e-4)
    assert value["disagreement"]["disagreeing"] == pytest.approx(np.log(3) / np.log(classes), abs=1e-4)
    assert value["disagreement"]["unsure"] == pytest.approx(0.0, abs=1e-6)  # unsure alike: no disagreement
    assert value["uniform"]["unsure"] == pytest.approx(1.0)
    assert value["uniform"]["disagreeing"] == pytest.approx(0.0, abs=1e-4)  # each member is sure


def test_config_checks_the_off_data_options():
    with pytest.raises(HyperganError, match="--off-data-weight must be >= 0"):
        TrainConfig(dataset="digits", off_data_weight=-1)
    with pytest.raises(HyperganError, match="--off-data must be one of"):
        TrainConfig(dataset="digits", off_data="letters")
    with pytest.raises(HyperganError, match="--off-data-objective must be one of"):
        TrainConfig(dataset="digits", off_data_objective="confidence")
    with pytest.raises(HyperganError, match="--off-data-networks must be at least 2"):
        TrainConfig(dataset="digits", off_data_networks=1)
    with pytest.raises(HyperganError, match="--off-data-probes must be at least 1"):
        TrainConfig(dataset="digits", off_data_probes=0)
    with pytest.raises(HyperganError, match="^--off-data-weight applies to HyperGAN runs only$"):
        TrainConfig(dataset="digits", method="ensemble", off_data_weight=0.5)
    with pytest.raises(HyperganError, match="HyperGAN runs on classification data sets only"):
        TrainConfig(dataset="toy-cubic", likelihood="gaussian", diversity="weights", off_data_weight=0.5)


def test_training_with_the_term_makes_the_networks_uncertain_off_the_data(tiny_config):
    """The same tiny HyperGAN trained with and without the term: with it, the networks'
    mean prediction has a higher entropy on random blobs, and the step logs the
    uncertainty it rewards; accuracy on the data is kept."""
    from hypergan_tf.data import load_dataset

    data = load_dataset("digits")
    blobs = OFF_DATA_INPUTS["blobs"].make(tf.zeros([200, *data.image_shape]), tf.constant([5, 5], tf.int64)).numpy()
    results = {}
    for weight in (0.0, 1.0):
        config = dataclasses.replace(tiny_config, steps=80, off_data_weight=weight, off_data="blobs", diversity_weight=0.0)
        model, logs = train_tiny_sampler(config)
        weights = model.sample_networks(8, 1)
        members = predict_probabilities(model, blobs, weights)
        test_members = predict_probabilities(model, data.test_images, weights)
        results[weight] = {"blob_entropy": float(predictive_entropy(members).mean()),
                           "accuracy": float((test_members.mean(0).argmax(-1) == data.test_labels).mean()),
                           "logged": float(logs["off_data_uncertainty"]) if weight else None,
                           "auroc": entropy_auroc(model, data.test_images, blobs, ensemble_size=8, seed=1)}
    assert results[1.0]["blob_entropy"] > results[0.0]["blob_entropy"] + 0.3
    assert results[1.0]["auroc"] > max(results[0.0]["auroc"], 0.9)
    assert results[1.0]["logged"] > 0.5
    assert results[1.0]["accuracy"] > 0.6 and results[0.0]["accuracy"] > 0.6



def test_features_are_each_networks_layer_outputs_and_cka_sees_through_permuted_units(tiny_config):
    """TargetSpec.features gives each network's own layer outputs (the reference is the
    one-network forward pass); networks that differ only by a permutation of conv1's
    units have the same features by CKA (1), random independent networks lower ones (on
    random images even random convolutions look alike to linear CKA, their logits do not)."""
    from hypergan_tf.analysis.diversity import feature_similarity

    model = build_sampler(tiny_config)
    target = model.target
    weights = model.sample_networks(3, 5)
    images = tf.random.stateless_uniform((40, *target.input_shape), seed=(8, 8)).numpy()
    features = model.features(tf.constant(images), {k: tf.constant(v) for k, v in weights.items()})
    assert list(features) == target.layer_names
    np.testing.assert_allclose(features[target.layer_names[-1]].numpy(), model.classify(images, weights).numpy(), rtol=1e-5, atol=1e-5)
    x = tf.constant((images - model.input_mean) / model.input_std, tf.float32)
    first = target.layers[0]
    one = first.forward_one(x, weights[f"{first.name}/kernel"][1], weights[f"{first.name}/bias"][1])
    np.testing.assert_allclose(features[first.name][1].numpy(), tf.reshape(one, [40, -1]).numpy(), rtol=1e-5, atol=1e-5)

    second = target.layers[1]
    order = np.random.default_rng(0).permutation(first.units)
    permuted = {name: value[:1].copy() for name, value in weights.items()}
    permuted[f"{first.name}/kernel"] = permuted[f"{first.name}/kernel"][..., order]
    permuted[f"{first.name}/bias"] = permuted[f"{first.name}/bias"][..., order]
    permuted[f"{second.name}/kernel"] = permuted[f"{second.name}/kernel"][..., order, :]
    pair = {name: np.concatenate([weights[name][:1], permuted[name]]) for name in weights}
    same = feature_similarity(model, images, pair)
    assert all(value == pytest.approx(1.0, abs=1e-4) for value in same.values())
    rng = np.random.default_rng(1)
    independent = {name: rng.normal(0, 0.1, (2, *value.shape[1:])).astype(np.float32) for name, value in weights.items()}
    different = feature_similarity(model, images, independent)
    assert all(0 < value < 0.999 for value in different.values())
    assert different[target.layer_names[-1]] < 0.5
