"""Ha et al.'s HyperLSTM (2016, section 3.2): a small LSTM that rewrites a main LSTM's
weights at every time step.

At step t the hyper LSTM reads [x_t, h_{t-1}] and its hidden state h^_t gives, for each of
the main LSTM's four gates (input, forget, cell, output; Keras' order), three small
embeddings z_x, z_h, z_b (size `embedding_dim`), and from them per-unit vectors:

    gate = d_x(z_x) * (W_x x_t) + d_h(z_h) * (W_h h_{t-1}) + b + d_b(z_b)

where d_x, d_h scale the rows of the main weights W_x, W_h (the "weight scaling" form of
eq. 11-12: only vectors of size `units` are generated, never whole matrices), and d_b adds
a bias. The initialisation follows the authors' code (hardmaru/supercell `hyper_norm`,
`hyper_bias`): z_x and z_h start at 1 with zero weights, d at `1 / embedding_dim` per
entry, so every scale is exactly 1 and every added bias 0 at first: an untrained HyperLSTM
computes exactly the LSTM with the same W_x, W_h, b (tested), and training moves it away.

`layer_norm=True` normalises each gate's pre-activation and the cell state before its
output tanh, as in the paper's best language models.

Use it as any Keras RNN cell: `keras.layers.RNN(HyperLSTMCell(units))`.
"""

from __future__ import annotations

import keras
from keras import ops

GATES = ("input", "forget", "cell", "output")


@keras.saving.register_keras_serializable(package="hypergan_tf")
class HyperLSTMCell(keras.layers.Layer):
    """An LSTM cell of `units` whose weights a `hyper_units` LSTM scales at every step.

    State: [h, c, h_hyper, c_hyper]; output: h [batch, units].
    """

    def __init__(self, units: int, hyper_units: int = 128, embedding_dim: int = 16, layer_norm: bool = False, **kwargs):
        super().__init__(**kwargs)
        if units < 1 or hyper_units < 1 or embedding_dim < 1:
            raise ValueError("units, hyper_units and embedding_dim must be positive integers")
        self.units = int(units)
        self.hyper_units = int(hyper_units)
        self.embedding_dim = int(embedding_dim)
        self.layer_norm = bool(layer_norm)
        self.state_size = [self.units, self.units, self.hyper_units, self.hyper_units]
        self.output_size = self.units
        self.hyper_cell = keras.layers.LSTMCell(self.hyper_units, name="hyper_cell")
        if self.layer_norm:
            self.gate_norms = [keras.layers.LayerNormalization(name=f"{gate}_norm") for gate in GATES]
            self.cell_norm = keras.layers.LayerNormalization(name="cell_norm")

    def build(self, input_shape):
        input_dim = int(input_shape[-1])
        units, embedding, hyper = self.units, self.embedding_dim, self.hyper_units
        # The main LSTM: the same three tensors, in the same layout, as keras.layers.LSTMCell.
        self.kernel = self.add_weight(shape=(input_dim, 4 * units), initializer="glorot_uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(units, 4 * units), initializer="orthogonal", name="recurrent_kernel")
        self.bias = self.add_weight(shape=(4 * units,), initializer=_lstm_bias(units), name="bias")
        # The hypernetwork: h^ -> z (4 gates x embedding) -> per-unit vectors (4 gates x units).
        self.hyper_cell.build((None, input_dim + units))
        self.z_x = self.add_weight(shape=(hyper, 4 * embedding), initializer="zeros", name="z_x_kernel")
        self.z_x_bias = self.add_weight(shape=(4 * embedding,), initializer="ones", name="z_x_bias")
        self.z_h = self.add_weight(shape=(hyper, 4 * embedding), initializer="zeros", name="z_h_kernel")
        self.z_h_bias = self.add_weight(shape=(4 * embedding,), initializer="ones", name="z_h_bias")
        self.z_b = self.add_weight(shape=(hyper, 4 * embedding), initializer=keras.initializers.RandomNormal(stddev=0.01), name="z_b_kernel")
        scale = keras.initializers.Constant(1.0 / embedding)
        self.d_x = self.add_weight(shape=(4, embedding, units), initializer=scale, name="d_x")
        self.d_h = self.add_weight(shape=(4, embedding, units), initializer=scale, name="d_h")
        self.d_b = self.add_weight(shape=(4, embedding, units), initializer="zeros", name="d_b")
        if self.layer_norm:
            for norm in self.gate_norms:
                norm.build((None, units))
            self.cell_norm.build((None, units))
        self.built = True

    def _per_unit(self, z, d):
        """z [batch, 4 * embedding], d [4, embedding, units] -> [batch, 4 * units] (gate-major)."""
        z = ops.reshape(z, (-1, 4, self.embedding_dim))
        return ops.reshape(ops.einsum("bge,geu->bgu", z, d), (-1, 4 * self.units))

    def call(self, inputs, states, training=False):
        h, c, hyper_h, hyper_c = states
        hyper_out, (hyper_h, hyper_c) = self.hyper_cell(ops.concatenate([inputs, h], axis=-1), [hyper_h, hyper_c], training=training)
        scale_x = self._per_unit(ops.matmul(hyper_out, self.z_x) + self.z_x_bias, self.d_x)
        scale_h = self._per_unit(ops.matmul(hyper_out, self.z_h) + self.z_h_bias, self.d_h)
        extra_bias = self._per_unit(ops.matmul(hyper_out, self.z_b), self.d_b)
        gates = scale_x * ops.matmul(inputs, self.kernel) + scale_h * ops.matmul(h, self.recurrent_kernel) + self.bias + extra_bias
        i, f, g, o = ops.split(gates, 4, axis=-1)
        if self.layer_norm:
            i, f, g, o = (norm(x) for norm, x in zip(self.gate_norms, (i, f, g, o)))
        c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
        h = ops.sigmoid(o) * ops.tanh(self.cell_norm(c) if self.layer_norm else c)
        return h, [h, c, hyper_h, hyper_c]

    def get_config(self) -> dict:
        return {**super().get_config(), "units": self.units, "hyper_units": self.hyper_units,
                "embedding_dim": self.embedding_dim, "layer_norm": self.layer_norm}


def _lstm_bias(units: int):
    """Zeros with the forget gate's bias at 1, as keras.layers.LSTMCell(unit_forget_bias=True)."""
    def initializer(shape, dtype=None):
        return ops.concatenate([ops.zeros((units,)), ops.ones((units,)), ops.zeros((2 * units,))])

    return initializer
