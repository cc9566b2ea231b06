import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from hypergan_tf.errors import HyperganError
from hypergan_tf.targets import PRESETS, Conv, Dense, TargetSpec, get_target, layers


def random_weights(spec, k, seed=0):
    rng = np.random.default_rng(seed)
    return {name: tf.constant(rng.normal(0, 0.2, (k,) + shape).astype(np.float32)) for name, shape in spec.param_shapes.items()}


def explicit_loop(spec, images, weights):
    """Each network alone with Keras layers built from the spec (the `to_keras` conversion):
    an implementation independent of `forward`'s grouped convolutions."""
    k = next(iter(weights.values())).shape[0]
    numpy_weights = {name: np.asarray(value) for name, value in weights.items()}
    logits = []
    for n in range(k):
        network = spec.to_keras(numpy_weights, n, 0.0, 1.0)
        logits.append(keras.Model(network.inputs, network.get_layer(spec.layers[-1].name).output)(images).numpy())
    return np.stack(logits)


@pytest.mark.parametrize("inference", [False, True], ids=["training-order", "inference"])
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_vectorised_forward_equals_per_network_loop(name, inference):
    spec = PRESETS[name]
    images = tf.random.stateless_uniform((5,) + spec.input_shape, seed=(1, 2))
    weights = random_weights(spec, k=3)
    logits = spec.forward(images, weights, inference=inference).numpy()
    assert logits.shape == (3, 5, spec.num_classes)
    np.testing.assert_allclose(logits, explicit_loop(spec, images, weights), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(spec.forward_loop(images, weights).numpy(), logits, rtol=1e-4, atol=1e-4)


def test_networks_are_independent():
    """Changing network 1's weights must not change network 0's logits."""
    spec = PRESETS["mnist-small"]
    images = tf.random.stateless_uniform((4, 28, 28, 1), seed=(3, 4))
    weights = random_weights(spec, k=2)
    before = spec.forward(images, weights).numpy()
    changed = dict(weights)
    changed["conv2/kernel"] = tf.concat([weights["conv2/kernel"][:1], weights["conv2/kernel"][1:] * 3.0], 0)
    after = spec.forward(images, changed).numpy()
    np.testing.assert_allclose(after[0], before[0], rtol=1e-5, atol=1e-5)
    assert not np.allclose(after[1], before[1])


def test_dense_only_target():
    spec = TargetSpec("mlp", (4, 4, 1), 3, (Dense("l1", 8), Dense("l2", 3, activation=None)))
    assert spec.param_shapes["l1/kernel"] == (16, 8)
    images = tf.random.stateless_uniform((6, 4, 4, 1), seed=(5, 6))
    weights = random_weights(spec, k=2)
    np.testing.assert_allclose(spec.forward(images, weights).numpy(), explicit_loop(spec, images, weights), rtol=1e-5, atol=1e-5)


def test_param_shapes_of_mnist_small():
    assert PRESETS["mnist-small"].param_shapes == {
        "conv1/kernel": (5, 5, 1, 32), "conv1/bias": (32,),
        "conv2/kernel": (5, 5, 32, 32), "conv2/bias": (32,),
        "linear1/kernel": (512, 10), "linear1/bias": (10,),
    }


def test_layers_that_do_not_fit_are_rejected_with_the_layer_named():
    with pytest.raises(HyperganError, match="layer 'c3': its input \\[4, 4, 32\\] is too small for a 5x5 valid convolution"):
        TargetSpec("bad", (28, 28, 1), 10, (Conv("c", 32, kernel_size=5), Conv("c2", 32, kernel_size=5), Conv("c3", 8, kernel_size=5),
                                            Dense("l", 10, activation=None)))
    with pytest.raises(HyperganError, match="layer 'c2': a conv layer needs images"):
        TargetSpec("bad", (28, 28, 1), 10, (Dense("l1", 20), Conv("c2", 8), Dense("l", 10, activation=None)))
    with pytest.raises(HyperganError, match="the last layer must output 10 logits"):
        TargetSpec("bad", (28, 28, 1), 10, (Conv("c", 8), Dense("l", 10)))


def test_unknown_target_and_resized_logits():
    with pytest.raises(HyperganError, match="unknown target .resnet."):
        get_target("resnet")
    assert get_target("cifar-small", 5).param_shapes["linear2/kernel"] == (128, 5)


def test_same_padding_relu_and_no_pooling_match_the_keras_reference():
    spec = TargetSpec("mixed", (12, 12, 3), 4, (
        Conv("a", 6, kernel_size=3, padding="same", pool=False, activation="relu"),
        Conv("b", 5, kernel_size=3, padding="same", pool=True),
        Conv("c", 4, kernel_size=2, padding="valid", pool=False, activation="relu"),
        Dense("d", 7, activation="relu"), Dense("logits", 4, activation=None)))
    assert spec.param_shapes["d/kernel"] == (5 * 5 * 4, 7)  # 12 -> 12 -> 6 -> 5
    images = tf.random.stateless_uniform((3, 12, 12, 3), seed=(7, 8))
    weights = random_weights(spec, k=4)
    logits = spec.forward(images, weights)
    np.testing.assert_allclose(logits, explicit_loop(spec, images, weights), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(spec.forward_loop(images, weights).numpy(), logits.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(spec.forward(images, weights, inference=True).numpy(), logits.numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("cache_bytes", [None, 0], ids=["whole batches", "image by image"])
def test_the_inference_order_gives_the_training_order_logits_and_gradients_in_a_graph(cache_bytes, monkeypatch):
    """The evaluation and export path (bias and activation before pooling, a first conv image by
    image past CACHE_BYTES) computes what the training path computes, traced as the export
    traces it, for any batch size of the same trace, and differentiates to the same gradients."""
    if cache_bytes is not None:
        monkeypatch.setattr(layers, "CACHE_BYTES", cache_bytes)
    spec = PRESETS["mnist-small"]
    weights = random_weights(spec, k=4, seed=3)

    @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32)])
    def both(images):
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(images)
            trained, inferred = spec.forward(images, weights), spec.forward(images, weights, inference=True)
        return trained, inferred, tape.gradient(trained, images), tape.gradient(inferred, images)

    for batch in (1, 7):
        trained, inferred, trained_gradient, inferred_gradient = both(tf.random.stateless_uniform((batch, 28, 28, 1), seed=(batch, 9)))
        assert inferred.shape == (4, batch, 10)
        np.testing.assert_allclose(inferred.numpy(), trained.numpy(), rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(inferred_gradient.numpy(), trained_gradient.numpy(), rtol=1e-4, atol=1e-4)


def test_cifar_mednet_is_the_authors_network():
    spec = PRESETS["cifar-mednet"]
    assert [(layer.kind, layer.in_units, layer.units) for layer in spec.layers] == [
        ("conv", 3, 32), ("conv", 32, 64), ("conv", 64, 64), ("dense", 256, 128), ("dense", 128, 10)]
    assert spec.param_shapes["conv2/kernel"] == (3, 3, 32, 64)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_config_round_trips(name):
    spec = PRESETS[name]
    assert TargetSpec.from_config(json.loads(json.dumps(spec.to_config()))) == spec


def test_a_new_target_from_a_json_spec_alone(tmp_path):
    """No code: a JSON file defines a network that every part of the toolkit can use."""
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps({"name": "tiny", "input_shape": [28, 28, 1], "num_classes": 10, "layers": [
        {"kind": "conv", "name": "c1", "units": 4, "kernel_size": 3, "padding": "same", "pool": True, "activation": "relu"},
        {"kind": "dense", "name": "hidden", "units": 16},
        {"kind": "dense", "name": "out", "units": 10, "activation": None}]}))
    spec = get_target(str(path))
    assert spec.param_shapes == {"c1/kernel": (3, 3, 1, 4), "c1/bias": (4,), "hidden/kernel": (14 * 14 * 4, 16),
                                 "hidden/bias": (16,), "out/kernel": (16, 10), "out/bias": (10,)}
    assert get_target(str(path), num_classes=5).param_shapes["out/kernel"] == (16, 5)


@pytest.mark.parametrize("layers, message", [
    ([{"kind": "pool", "name": "p", "units": 3}], "layer 1 \\('p'\\): unknown layer kind 'pool'"),
    ([{"kind": "conv", "name": "c", "units": 3, "stride": 2}], "layer 1 \\('c'\\): unknown key\\(s\\) \\['stride'\\]"),
    ([{"kind": "conv", "name": "c", "units": 3, "padding": "full"}], "'padding' must be 'same' or 'valid'"),
    ([{"kind": "dense", "name": "d", "units": 0}], "layer 1 \\('d'\\): 'units' must be a positive integer"),
    ([{"kind": "dense", "name": "d", "units": 10, "activation": "tanh"}], "unknown activation 'tanh'"),
    ([{"kind": "dense", "units": 10}], "missing key\\(s\\) \\['name'\\]"),
])
def test_bad_json_specs_name_the_layer(tmp_path, layers, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"input_shape": [28, 28, 1], "num_classes": 10, "layers": layers}))
    with pytest.raises(HyperganError, match=message):
        get_target(str(path))


def test_a_layer_kind_must_implement_the_interface():
    from hypergan_tf.targets import TargetLayer

    class Pool(TargetLayer):  # no shapes, no forward
        kind = "pool"

    with pytest.raises(TypeError, match="abstract"):
        Pool("p", 3)


@pytest.mark.parametrize("name", ["mnist-small", "cifar-small"])
def test_bfloat16_forward_is_float32_logits_close_to_the_float32_ones_with_float32_gradients(name):
    spec = PRESETS[name]
    images = tf.random.stateless_uniform((6,) + spec.input_shape, seed=(3, 4))
    weights = random_weights(spec, k=3)
    exact = spec.forward(images, weights).numpy()
    with tf.GradientTape() as tape:
        tape.watch(weights)
        mixed = spec.forward(images, weights, "bfloat16")
        loss = tf.reduce_sum(tf.square(mixed))
    assert mixed.dtype == tf.float32
    # bfloat16 keeps 8 bits of mantissa: logits within a few percent of their scale, not equal
    scale = np.abs(exact).max()
    assert 0 < np.abs(mixed.numpy() - exact).max() < 0.05 * scale
    gradients = tape.gradient(loss, weights)
    with tf.GradientTape() as tape:
        tape.watch(weights)
        exact_loss = tf.reduce_sum(tf.square(spec.forward(images, weights)))
    exact_gradients = tape.gradient(exact_loss, weights)
    for key, gradient in gradients.items():
        assert gradient.dtype == tf.float32
        cosine = tf.reduce_sum(gradient * exact_gradients[key]) / (tf.norm(gradient) * tf.norm(exact_gradients[key]))
        assert cosine > 0.99, (key, float(cosine))


def _op_types(concrete_function) -> list[str]:
    """The op types of a traced function's graph and of every function it calls."""
    graph = concrete_function.graph
    types = [op.type for op in graph.get_operations()]
    for function in graph.as_graph_def().library.function:
        types += [node.op for node in function.node_def]
    return types


def test_recompute_gives_the_same_logits_and_gradients_by_computing_each_group_again():
    spec = PRESETS["mnist-small"]
    images = tf.random.stateless_uniform((4,) + spec.input_shape, seed=(5, 6))
    weights = random_weights(spec, k=3)

    def gradients(recompute):
        with tf.GradientTape() as tape:
            tape.watch(weights)
            logits = spec.forward(images, weights, recompute=recompute)
            loss = tf.reduce_sum(tf.square(logits))
        return logits, tape.gradient(loss, weights)

    plain = gradients(0)
    for group in (1, 2, 3):  # groups of 1, of 2 and 1, all 3 in one
        recomputed = gradients(group)
        np.testing.assert_allclose(recomputed[0].numpy(), plain[0].numpy(), rtol=1e-5, atol=1e-5)
        for key in weights:
            np.testing.assert_allclose(recomputed[1][key].numpy(), plain[1][key].numpy(), rtol=1e-4, atol=1e-5)
    # each group's 2 convolutions run twice: in the forward pass and again in the backward one
    counts = {group: _op_types(tf.function(lambda group=group: gradients(group)[1]).get_concrete_function()).count("Conv2D")
              for group in (0, 1, 2)}
    assert counts == {0: 2, 1: 3 * 2 * 2, 2: 2 * 2 * 2}, counts
