"""HyperGAN as a mixture of modes (`--modes M`, samplers/hypergan.py): which noise falls in
which mode, what a mode adds to a network, and a tiny mixture trained for real."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from conftest import train_tiny_sampler
from hypergan_tf.config import TrainConfig
from hypergan_tf.errors import HyperganError
from hypergan_tf.samplers import build_sampler
from hypergan_tf.samplers.base import fixed_noise


@pytest.fixture
def mixture(tiny_config):
    return build_sampler(dataclasses.replace(tiny_config, modes=4))


def test_stratify_assigns_modes_round_robin_and_keeps_the_noise_normal(mixture):
    noise = tf.constant(fixed_noise(4000, mixture.noise_dim, seed=3))
    arranged = mixture.stratify(noise)
    np.testing.assert_array_equal(mixture.modes_of(arranged).numpy(), np.arange(4000) % 4)
    np.testing.assert_array_equal(arranged[:, 1:].numpy(), noise[:, 1:].numpy())  # only the first coordinate moves
    first = arranged[:, 0].numpy()
    assert abs(first.mean()) < 0.05 and abs(first.std() - 1.0) < 0.05  # still N(0, 1) over the modes
    shifted = mixture.stratify(noise[:6], first=tf.constant(5))
    np.testing.assert_array_equal(mixture.modes_of(shifted).numpy(), (5 + np.arange(6)) % 4)
    # Noise that is already stratified stays in its modes, and the first n networks do not depend on n.
    np.testing.assert_array_equal(mixture.modes_of(mixture.stratify(arranged)).numpy(), np.arange(4000) % 4)
    np.testing.assert_allclose(mixture.network_weights(3)["conv1/kernel"].numpy(), mixture.network_weights(7)["conv1/kernel"].numpy()[:3])


def test_a_mode_adds_its_own_weights_to_the_generated_ones(mixture, tiny_config):
    noise = mixture.stratify(tf.constant(fixed_noise(2, mixture.noise_dim, seed=1)))
    same_codes = tf.concat([noise[:1], noise[:1]], axis=0)  # one noise vector ...
    moved = mixture.stratify(same_codes)  # ... put in modes 0 and 1 (only its first coordinate changes)
    weights = mixture.weights_from_noise(moved)
    generated = mixture.weights_from_codes(mixture.codes(moved))
    for name, value in weights.items():
        own = mixture.mode_weights[name].numpy()[:2]
        np.testing.assert_allclose(value.numpy(), generated[name].numpy() + own, rtol=1e-5, atol=1e-6)
    # The modes start as different networks: kernels at the generators' scale, not zero.
    kernels = mixture.mode_weights["conv1/kernel"].numpy()
    assert kernels.std() > 0.1 * mixture.generators[0].gain and not np.allclose(kernels[0], kernels[1])
    # One mode: no weights of its own, the noise is left as it is.
    single = build_sampler(tiny_config)
    assert single.mode_weights == {} and single.stratify(noise) is noise
    assert len(mixture.generator_variables) == len(single.generator_variables) + 2 * len(mixture.target.layers)


def test_a_trained_mixture_classifies_its_modes_differ_and_it_saves(tiny_config, tmp_path):
    """80 steps on digits, 4 networks a step, one per mode: the networks learn, the modes'
    own weights moved, networks of different modes disagree more than networks of one
    mode, and weights file plus get_config rebuild the same networks."""
    from hypergan_tf.data import load_dataset

    data = load_dataset("digits")
    config = dataclasses.replace(tiny_config, modes=4, diversity_weight=0.0)
    initial = build_sampler(config).mode_weights["conv1/kernel"].numpy()  # seed 0: the trained sampler's start
    model, _ = train_tiny_sampler(config)
    assert not np.allclose(model.mode_weights["conv1/kernel"].numpy(), initial)
    weights = model.sample_networks(16, seed=2)  # modes 0, 1, 2, 3, 0, 1, ...
    predictions = model.classify(data.test_images, weights).numpy().argmax(-1)  # [16, B]
    accuracy = (predictions == data.test_labels).mean(axis=1)
    assert accuracy.mean() > 0.6, accuracy
    modes = np.arange(16) % 4
    disagreement = (predictions[:, None] != predictions[None]).mean(-1)
    pairs = ~np.eye(16, dtype=bool)
    within, across = disagreement[pairs & (modes[:, None] == modes[None])], disagreement[modes[:, None] != modes[None]]
    assert across.mean() > within.mean(), (across.mean(), within.mean())
    path = tmp_path / "model.weights.h5"
    model.save_weights(path)
    restored = type(model).from_config(model.get_config())
    restored.load_weights(path)
    assert restored.modes == 4
    assert restored.describe() == "HyperGAN, a mixture of 4 modes"  # report and evaluate label runs with it
    for name, value in restored.sample_networks(16, seed=2).items():
        np.testing.assert_allclose(value, weights[name], rtol=1e-6)


def test_modes_are_refused_where_they_mean_nothing():
    with pytest.raises(HyperganError, match="--modes must be at least 1"):
        TrainConfig(modes=0)
    with pytest.raises(HyperganError, match="--modes applies to HyperGAN runs only"):
        TrainConfig(method="ensemble", modes=4)
