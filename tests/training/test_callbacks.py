"""The divergence guard on a real (tiny, untrained) sampler."""

import numpy as np

from hypergan_tf.samplers import build_sampler
from hypergan_tf.training.callbacks import DivergenceGuard, all_weights_finite


def _guarded(tiny_config):
    model = build_sampler(tiny_config, total_steps=10)
    guard = DivergenceGuard()
    guard.set_model(model)
    return model, guard


def test_finite_weights_pass_and_a_single_nan_weight_stops_training(tiny_config):
    model, guard = _guarded(tiny_config)
    guard.on_train_batch_end(0, {"loss": 0.5})
    guard.on_epoch_end(0)
    assert guard.diverged_at is None and not getattr(model, "stop_training", False) and all_weights_finite(model)

    variable = model.trainable_variables[-1]
    value = variable.numpy()
    value.flat[0] = np.inf
    variable.assign(value)
    guard.on_train_batch_end(1, {"loss": 0.5})  # the loss alone does not show it
    assert guard.diverged_at is None
    guard.on_epoch_end(0)
    assert guard.diverged_at == 2 and guard.reason == "non-finite weights" and model.stop_training


def test_a_non_finite_loss_stops_at_that_step(tiny_config):
    model, guard = _guarded(tiny_config)
    guard.on_train_batch_end(0, {"loss": 0.5, "d_loss": 1.0})
    guard.on_train_batch_end(1, {"loss": float("nan"), "d_loss": 1.0})
    assert guard.diverged_at == 2 and guard.reason == "non-finite loss" and model.stop_training
