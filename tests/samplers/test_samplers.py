"""The weight-sampler interface: every sampler round-trips through get_config, and what the
analysis code uses behaves the same for all of them."""

import dataclasses
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from hypergan_tf.errors import HyperganError
from hypergan_tf.samplers import SAMPLERS, WeightSampler, build_sampler


def config_for(tiny_config, method):
    return dataclasses.replace(tiny_config, method=method, members=3)


@pytest.mark.parametrize("method", sorted(SAMPLERS))
def test_get_config_round_trips_and_the_clone_computes_the_same_networks(tiny_config, method):
    model = build_sampler(config_for(tiny_config, method))
    assert isinstance(model, WeightSampler)
    config = json.loads(json.dumps(model.get_config()))  # JSON-serialisable
    clone = type(model).from_config(config)
    assert json.loads(json.dumps(clone.get_config())) == config
    clone.set_weights(model.get_weights())
    n = model.networks_available(3)
    original, copied = model.sample_networks(n, seed=5), clone.sample_networks(n, seed=5)
    assert original.keys() == copied.keys() == set(model.target.param_shapes)
    for name, value in original.items():
        assert value.shape == (n,) + model.target.param_shapes[name]
        np.testing.assert_array_equal(value, copied[name])


@pytest.mark.parametrize("method", sorted(SAMPLERS))
def test_keras_serialization_rebuilds_the_sampler(tiny_config, method):
    model = build_sampler(config_for(tiny_config, method))
    rebuilt = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(model))
    assert type(rebuilt) is type(model) and rebuilt.get_config() == model.get_config()


@pytest.mark.parametrize("method", sorted(SAMPLERS))
def test_the_interface_is_consistent(tiny_config, method):
    model = build_sampler(config_for(tiny_config, method))
    n = model.networks_available(4)
    assert n == (4 if model.max_networks is None else min(4, model.max_networks))
    weights = model.sample_networks(n, seed=1)
    images = tf.random.stateless_uniform((5, 28, 28, 1), seed=(1, 2))
    logits = model.classify(images, weights)
    assert logits.shape == (n, 5, 10)
    # The same networks for the same seed.
    again = model.sample_networks(n, seed=1)
    assert all(np.array_equal(weights[k], again[k]) for k in weights)
    if model.noise_dim is not None:
        noise = tf.random.stateless_normal((2, model.noise_dim), seed=(3, 4))
        assert {k: tuple(v.shape) for k, v in model.weights_from_noise(noise).items()} == {
            k: (2,) + s for k, s in model.target.param_shapes.items()}
    else:
        with pytest.raises(HyperganError, match="no latent space"):
            model.weights_from_noise(tf.zeros((1, 4)))
    if model.max_networks is not None:
        with pytest.raises(HyperganError, match=f"has {model.max_networks} distinct network"):
            model.sample_networks(model.max_networks + 1)
    counts = model.parameter_counts()
    assert counts["target_network"] == model.target.num_params and all(v > 0 for v in counts.values())


def test_a_sampler_for_a_target_from_a_json_file_reopens_after_the_file_is_gone(tmp_path, tiny_config):
    from hypergan_tf.runs import load_run
    from hypergan_tf.training import train

    spec = tmp_path / "net.json"
    spec.write_text(json.dumps({"name": "net", "input_shape": [28, 28, 1], "num_classes": 10, "layers": [
        {"kind": "conv", "name": "c1", "units": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
        {"kind": "dense", "name": "out", "units": 10, "activation": None}]}))
    config = dataclasses.replace(tiny_config, target=str(spec), steps=3, num_classes=None, input_mean=None, input_std=None)
    train(config, tmp_path / "run", verbose=0)
    spec.unlink()
    _, model = load_run(tmp_path / "run")
    assert model.target.param_shapes["out/kernel"] == (14 * 14 * 4, 10)


def test_a_sampler_must_implement_the_interface():
    class Incomplete(WeightSampler):  # no network_weights, no from_train_config
        pass

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()
