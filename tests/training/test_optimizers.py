"""FusedAdam (one fused TensorFlow kernel per variable) against Keras' Adam."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from hypergan_tf.optimizers import FusedAdam


def trained(optimizer_class, steps=5, **options):
    """Variables after `steps` updates with fixed, different gradients each step."""
    rng = np.random.default_rng(0)
    variables = [keras.Variable(rng.normal(size=shape).astype(np.float32)) for shape in ((7, 5), (5,), (3, 2, 4))]
    optimizer = optimizer_class(**options)
    optimizer.build(variables)
    update = tf.function(lambda grads: optimizer.apply_gradients(zip(grads, variables)))
    for _ in range(steps):
        update([tf.constant(rng.normal(size=v.shape).astype(np.float32)) for v in variables])
    return [v.numpy() for v in variables], optimizer


@pytest.mark.parametrize("options", [
    {"learning_rate": 1e-2},
    {"learning_rate": 1e-3, "beta_1": 0.5},  # the discriminator's
    {"learning_rate": keras.optimizers.schedules.CosineDecay(1e-2, decay_steps=4, alpha=0.01)},  # the generators'
    {"learning_rate": 1e-2, "global_clipnorm": 0.5},  # the language model's
    {"learning_rate": 1e-2, "amsgrad": True},  # falls back to Keras' update
])
def test_fused_adam_takes_the_steps_of_keras_adam(options):
    initial, _ = trained(keras.optimizers.Adam, steps=0, **options)
    expected, _ = trained(keras.optimizers.Adam, **options)
    fused, optimizer = trained(FusedAdam, **options)
    assert int(optimizer.iterations.numpy()) == 5
    for start, a, b in zip(initial, expected, fused):
        assert np.abs(b - start).max() > 1e-3  # the steps moved them
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    # the moments are Keras' variables, so checkpoints stay the same format
    keras_optimizer = trained(keras.optimizers.Adam, steps=1, **options)[1]
    assert [tuple(v.shape) for v in optimizer.variables] == [tuple(v.shape) for v in keras_optimizer.variables]


def test_the_update_is_one_fused_kernel():
    variables = [keras.Variable(np.ones((3, 2), np.float32))]
    gradients = [tf.ones((3, 2))]

    def op_types(optimizer):
        optimizer.build(variables)
        graph = tf.function(lambda: optimizer.apply_gradients(zip(gradients, variables))).get_concrete_function().graph
        return {op.type for op in graph.get_operations()}

    assert "ResourceApplyAdam" in op_types(FusedAdam(1e-3))
    assert "ResourceApplyAdam" not in op_types(keras.optimizers.Adam(1e-3))


def test_saving_hands_keras_the_same_values_as_tensors():
    """The backups' store gets what Keras' own methods give it, under the same keys, as tensors
    (which Keras' H5 store copies once, a variable twice): the same weights file, a smaller
    memory peak. Both the optimizer's slots and the generators' output layers."""
    from hypergan_tf.samplers.generators import LayerGenerator

    _, optimizer = trained(FusedAdam, learning_rate=1e-2)
    generator = LayerGenerator((3, 3, 2, 4), (4,), fan_in=18, hidden_units=8)
    tf.function(generator)(tf.ones((2, 5)))  # built in a graph, as training builds it
    for owner, keras_method in ((optimizer, keras.optimizers.Adam.save_own_variables), (generator.out, keras.layers.Dense.save_own_variables)):
        ours, theirs = {}, {}
        owner.save_own_variables(ours)
        keras_method(owner, theirs)
        assert list(ours) == list(theirs) and len(ours) >= 2
        for key in theirs:
            assert isinstance(ours[key], tf.Tensor) and not isinstance(ours[key], tf.Variable)
            np.testing.assert_array_equal(np.array(ours[key]), np.array(theirs[key]))


def test_a_generators_weights_file_is_that_of_plain_keras_layers(tmp_path):
    """The generators' output layer saves itself as keras.layers.Dense does, under the same
    name, so weights files written before and after it was introduced load both ways."""
    from hypergan_tf.samplers.generators import LayerGenerator
    from hypergan_tf.samplers.mixer import mlp_block

    class PlainTwin(keras.Model):  # LayerGenerator's layers, all of them Keras' own
        def __init__(self):
            super().__init__()
            self.blocks = mlp_block(8, False, True) + mlp_block(8, False, True)
            self.out = keras.layers.Dense(3 * 3 * 2 * 4 + 4)

        def call(self, x):
            for layer in self.blocks:
                x = layer(x)
            return self.out(x)

    code = tf.ones((2, 5))
    ours, twin = LayerGenerator((3, 3, 2, 4), (4,), fan_in=18, hidden_units=8), PlainTwin()
    ours(code), twin(code)
    ours.save_weights(tmp_path / "ours.weights.h5")
    twin.load_weights(tmp_path / "ours.weights.h5")
    assert len(ours.weights) == len(twin.weights) == 6
    for a, b in zip(ours.weights, twin.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    twin.out.kernel.assign(twin.out.kernel + 1.0)
    twin.save_weights(tmp_path / "twin.weights.h5")
    ours.load_weights(tmp_path / "twin.weights.h5")
    np.testing.assert_array_equal(ours.out.kernel.numpy(), twin.out.kernel.numpy())
