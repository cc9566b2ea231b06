import numpy as np
import pytest
import tensorflow as tf

from hypergan_tf.errors import HyperganError
from hypergan_tf.target import PRESETS, LayerSpec, TargetSpec, get_target


def random_weights(spec, k, seed=0):
    rng = np.random.default_rng(seed)
    return {name: tf.constant(rng.normal(0, 0.2, (k,) + shape).astype(np.float32)) for name, shape in spec.param_shapes.items()}


def explicit_loop(spec, images, weights):
    """Each network alone with tf.nn.conv2d, in textbook order conv -> bias -> act -> pool."""
    k = weights[f"{spec.layers[0].name}/kernel"].shape[0]
    out = []
    for n in range(k):
        x = images
        for layer in spec.layers:
            w, b = weights[f"{layer.name}/kernel"][n], weights[f"{layer.name}/bias"][n]
            if layer.kind == "conv":
                x = tf.nn.max_pool2d(tf.nn.leaky_relu(tf.nn.conv2d(x, w, 1, "VALID") + b, 0.1), 2, 2, "VALID")
            else:
                x = tf.reshape(x, [x.shape[0], -1]) @ w + b
                if layer.activation:
                    x = tf.nn.leaky_relu(x, 0.1)
        out.append(x)
    return tf.stack(out).numpy()


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_vectorised_forward_equals_per_network_loop(name):
    spec = PRESETS[name]
    images = tf.random.stateless_uniform((5,) + spec.input_shape, seed=(1, 2))
    weights = random_weights(spec, k=3)
    logits = spec.forward(images, weights).numpy()
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
    spec = TargetSpec("mlp", (4, 4, 1), 3, (LayerSpec("l1", "dense", 16, 8), LayerSpec("l2", "dense", 8, 3, activation=False)))
    images = tf.random.stateless_uniform((6, 4, 4, 1), seed=(5, 6))
    weights = random_weights(spec, k=2)
    np.testing.assert_allclose(spec.forward(images, weights).numpy(), explicit_loop(spec, images, weights), rtol=1e-5, atol=1e-5)


def test_param_shapes_of_mnist_small():
    assert PRESETS["mnist-small"].param_shapes == {
        "conv1/kernel": (5, 5, 1, 32), "conv1/bias": (32,),
        "conv2/kernel": (5, 5, 32, 32), "conv2/bias": (32,),
        "linear1/kernel": (512, 10), "linear1/bias": (10,),
    }


def test_shapes_that_do_not_chain_are_rejected():
    with pytest.raises(HyperganError, match="expects 100 input features but receives 512"):
        TargetSpec("bad", (28, 28, 1), 10, (LayerSpec("c", "conv", 1, 32, 5), LayerSpec("c2", "conv", 32, 32, 5), LayerSpec("l", "dense", 100, 10, activation=False)))


def test_unknown_target_and_resized_logits():
    with pytest.raises(HyperganError, match="unknown target 'resnet'"):
        get_target("resnet")
    assert get_target("cifar-small", 5).param_shapes["linear2/kernel"] == (128, 5)
