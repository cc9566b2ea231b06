import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from hypergan_tf.samplers import build_sampler
from hypergan_tf.data.pipelines import evaluation_batches, training_batches


def compiled(config):
    model = build_sampler(config)
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(1e-3))
    return model


def snapshot(variables):
    return [v.numpy().copy() for v in variables]


def changed(before, variables):
    return [not np.array_equal(b, v.numpy()) for b, v in zip(before, variables)]


@pytest.mark.parametrize("target", ["mnist-small", "cifar-small"])
def test_generated_shapes_equal_the_spec(tiny_config, target):
    model = build_sampler(dataclasses.replace(tiny_config, target=target))
    codes, weights = model.generate(model.sample_noise(3))
    assert codes.shape == (3, len(model.target.layers), tiny_config.code_dim)
    assert {name: tuple(w.shape) for name, w in weights.items()} == {
        name: (3,) + shape for name, shape in model.target.param_shapes.items()
    }


def test_bfloat16_generators_give_float32_weights_close_to_float32_ones_with_float32_gradients(tiny_config):
    """Under --precision bfloat16 the generators' output layers multiply in bfloat16: the weights
    they give are float32 tensors within bfloat16's rounding of the float32 ones (to which the
    target networks round them anyway), and every variable gets a float32 gradient close to the
    float32 one."""
    model = build_sampler(tiny_config)
    noise = model.sample_noise(4)
    found = {}
    for precision in ("float32", "bfloat16"):
        with tf.GradientTape() as tape:
            weights = model.generate(noise, training=True, precision=precision)[1]
            total = tf.add_n([tf.reduce_sum(tf.sin(value)) for value in weights.values()])
        found[precision] = weights, tape.gradient(total, model.generator_variables)
    (weights32, grads32), (weights16, grads16) = found["float32"], found["bfloat16"]
    for name, value in weights16.items():
        assert value.dtype == tf.float32
        scale = np.abs(weights32[name].numpy()).max()
        np.testing.assert_allclose(value.numpy(), weights32[name].numpy(), atol=2e-2 * scale)
        assert not np.array_equal(value.numpy(), weights32[name].numpy()) or "bias" in name
    for variable, grad32, grad16 in zip(model.generator_variables, grads32, grads16):
        assert grad16.dtype == tf.float32 and variable.dtype == tf.float32
        np.testing.assert_allclose(grad16.numpy(), grad32.numpy(), atol=3e-2 * np.abs(grad32.numpy()).max(), err_msg=variable.path)


def test_generator_step_moves_mixer_and_generators_not_discriminator(tiny_config):
    model = compiled(tiny_config)
    generator_vars = model.generator_variables
    d_vars = model.discriminator.trainable_variables
    g_before, d_before = snapshot(generator_vars), snapshot(d_vars)
    images = tf.random.stateless_uniform((8, 28, 28, 1), seed=(1, 1))
    model.generator_step(images, tf.range(8) % 10, 4)
    assert all(changed(g_before, generator_vars)), "every mixer and generator variable should move"
    assert not any(changed(d_before, d_vars)), "the discriminator must not move in a generator step"
    assert any(v.path.startswith("mixer") for v in generator_vars)


def test_discriminator_step_moves_only_the_discriminator(tiny_config):
    model = compiled(tiny_config)
    g_before, d_before = snapshot(model.generator_variables), snapshot(model.discriminator.trainable_variables)
    model.discriminator_step(4)
    assert all(changed(d_before, model.discriminator.trainable_variables))
    assert not any(changed(g_before, model.generator_variables))


def test_different_noise_gives_different_networks(tiny_config):
    model = build_sampler(tiny_config)
    _, weights = model.generate(model.sample_noise(2))
    kernel = weights["conv1/kernel"].numpy()
    assert not np.allclose(kernel[0], kernel[1])


def test_no_mixer_ablation_passes_noise_slices_to_generators(tiny_config):
    model = build_sampler(dataclasses.replace(tiny_config, use_mixer=False))
    assert model.mixer is None and model.noise_dim == 3 * tiny_config.code_dim
    noise = model.sample_noise(2)
    np.testing.assert_array_equal(model.codes(noise).numpy()[:, 1], noise.numpy()[:, 8:16])


def test_mixer_pretraining_moves_codes_towards_standard_normal(tiny_config):
    model = build_sampler(tiny_config)
    first = model.pretrain_mixer(steps=1, batch_size=128)
    last = model.pretrain_mixer(steps=150, batch_size=128)
    assert last < 0.5 * first


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_short_fit_on_real_digits_beats_chance(tiny_config, precision):
    from hypergan_tf.data import load_dataset

    data = load_dataset("digits")
    model = compiled(tiny_config)
    model.training_precision = precision  # what compile_from_config takes from --precision
    train = training_batches(data.train_images, data.train_labels, 32, seed=0, num_batches=120)
    history = model.fit(train, epochs=3, steps_per_epoch=40, shuffle=False, verbose=0)
    assert all(np.isfinite(v).all() for v in history.history.values())
    result = model.evaluate(evaluation_batches(data.test_images, data.test_labels, 120), return_dict=True, verbose=0)
    assert result["accuracy"] > 0.7, result  # chance is 0.1
    assert result["ensemble_accuracy"] > 0.7, result


def test_get_config_round_trips(tiny_config):
    model = build_sampler(tiny_config)
    for sub in [model.mixer, model.discriminator, *model.generators]:
        clone = type(sub).from_config(sub.get_config())
        assert clone.get_config() == sub.get_config()


def test_training_batches_resume_exactly_where_they_stopped():
    images = np.arange(50, dtype=np.uint8).reshape(50, 1, 1, 1)
    labels = np.arange(50, dtype=np.int32)
    whole = [y.numpy().tolist() for _, y in training_batches(images, labels, 8, seed=1, num_batches=14)]
    tail = [y.numpy().tolist() for _, y in training_batches(images, labels, 8, seed=1, num_batches=4, first_batch=10)]
    assert tail == whole[10:]
    first_pass = sum(whole[:6], [])
    assert len(set(first_pass)) == 48  # each pass is a permutation (without the last partial batch)
    assert whole[:6] != whole[6:12]  # and a new one each pass


def test_the_training_step_computes_at_the_training_precision(tiny_config):
    """Same initial weights and step: the bfloat16 step's loss is close to, not equal to, the float32 one."""
    images = tf.random.stateless_uniform((8, 28, 28, 1), seed=(1, 1))
    losses = {}
    for precision in ("float32", "bfloat16"):
        model = build_sampler(dataclasses.replace(tiny_config, precision=precision))
        model.compile_from_config(dataclasses.replace(tiny_config, precision=precision), total_steps=10)
        assert model.training_precision == precision
        losses[precision] = float(model.generator_step(images, tf.range(8) % 10, 4)["target_loss"])
    assert losses["float32"] != losses["bfloat16"]
    assert losses["bfloat16"] == pytest.approx(losses["float32"], rel=0.05)
    auto = dataclasses.replace(tiny_config, precision="auto")
    model = build_sampler(auto)
    model.compile_from_config(auto, total_steps=10)
    assert model.training_precision == auto.resolved_precision() in ("float32", "bfloat16")
