"""HyperLSTMCell: the LSTM it starts as, one step by hand, serialization and training."""

import keras
import numpy as np
import pytest

from hypergan_tf.layers import HyperLSTMCell

UNITS, HYPER, EMBEDDING, FEATURES = 6, 4, 3, 5


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


@pytest.fixture
def sequences():
    return np.random.default_rng(0).normal(size=(2, 7, FEATURES)).astype(np.float32)


def hyper_rnn(**kwargs):
    layer = keras.layers.RNN(HyperLSTMCell(UNITS, HYPER, EMBEDDING, **kwargs), return_sequences=True)
    layer.build((None, None, FEATURES))
    return layer


def test_untrained_it_is_exactly_the_lstm_with_the_same_main_weights(sequences):
    rnn = hyper_rnn()
    cell = rnn.cell
    rng = np.random.default_rng(1)
    for weight in cell.hyper_cell.weights + [cell.z_b]:  # whatever the hypernetwork's state
        weight.assign(rng.normal(size=weight.shape).astype(np.float32))
    lstm = keras.layers.LSTM(UNITS, return_sequences=True)
    lstm.build((None, None, FEATURES))
    lstm.set_weights([cell.kernel.numpy(), cell.recurrent_kernel.numpy(), cell.bias.numpy()])
    np.testing.assert_allclose(rnn(sequences), lstm(sequences), atol=1e-6)


def test_one_step_equals_the_papers_equations_by_hand(sequences):
    rnn = hyper_rnn()
    cell = rnn.cell
    rng = np.random.default_rng(2)
    for weight in cell.weights:  # every weight random, so every term of the equations matters
        weight.assign(rng.normal(scale=0.5, size=weight.shape).astype(np.float32))
    x = sequences[:, 0]
    h, c = rng.normal(size=(2, UNITS)).astype(np.float32), rng.normal(size=(2, UNITS)).astype(np.float32)
    hh, hc = rng.normal(size=(2, HYPER)).astype(np.float32), rng.normal(size=(2, HYPER)).astype(np.float32)
    got_h, (_, got_c, _, _) = cell(x, [h, c, hh, hc])

    # the hyper LSTM on [x, h] (Keras' LSTMCell: gates i, f, c, o)
    k, rk, b = (w.numpy() for w in cell.hyper_cell.weights)
    i, f, g, o = np.split(np.concatenate([x, h], 1) @ k + hh @ rk + b, 4, axis=1)
    hyper_c = sigmoid(f) * hc + sigmoid(i) * np.tanh(g)
    hyper_out = sigmoid(o) * np.tanh(hyper_c)

    def per_unit(z, d):  # z [B, 4 * E] -> [B, 4 * units]: d_gate(z_gate) for each gate
        z = z.reshape(2, 4, EMBEDDING)
        return np.concatenate([z[:, gate] @ d[gate] for gate in range(4)], axis=1)

    scale_x = per_unit(hyper_out @ cell.z_x.numpy() + cell.z_x_bias.numpy(), cell.d_x.numpy())
    scale_h = per_unit(hyper_out @ cell.z_h.numpy() + cell.z_h_bias.numpy(), cell.d_h.numpy())
    extra = per_unit(hyper_out @ cell.z_b.numpy(), cell.d_b.numpy())
    gates = scale_x * (x @ cell.kernel.numpy()) + scale_h * (h @ cell.recurrent_kernel.numpy()) + cell.bias.numpy() + extra
    i, f, g, o = np.split(gates, 4, axis=1)
    expected_c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    np.testing.assert_allclose(got_c, expected_c, atol=1e-5)
    np.testing.assert_allclose(got_h, sigmoid(o) * np.tanh(expected_c), atol=1e-5)


@pytest.mark.parametrize("layer_norm", [False, True])
def test_config_round_trip_and_saved_model_numerics(sequences, layer_norm, tmp_path):
    inputs = keras.Input((None, FEATURES))
    model = keras.Model(inputs, keras.layers.RNN(HyperLSTMCell(UNITS, HYPER, EMBEDDING, layer_norm=layer_norm))(inputs))
    for weight in model.weights:
        weight.assign(np.random.default_rng(3).normal(scale=0.3, size=weight.shape).astype(np.float32))
    cell = model.layers[-1].cell
    assert HyperLSTMCell.from_config(cell.get_config()).get_config() == cell.get_config()
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded(sequences), model(sequences), atol=1e-6)


def test_it_learns_a_sequence_task():
    """Predict whether the running sum of a sequence is positive: a few steps of Adam."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(256, 10, 1)).astype(np.float32)
    y = (np.cumsum(x[..., 0], axis=1) > 0).astype(np.float32)[..., None]
    inputs = keras.Input((10, 1))
    hidden = keras.layers.RNN(HyperLSTMCell(16, 8, 4, layer_norm=True), return_sequences=True)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))
    model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    keras.utils.set_random_seed(0)
    history = model.fit(x, y, epochs=15, batch_size=64, verbose=0)
    assert history.history["loss"][-1] < 0.6 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.85
