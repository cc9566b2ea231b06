"""The character-level language model: embedding -> keras.layers.RNN(cell) -> logits over
the vocabulary, with the recurrent state passed in and returned (truncated BPTT)."""

from __future__ import annotations

import dataclasses
from typing import Callable

import keras
from keras import ops

from hypergan_tf.layers import HyperLSTMCell


@dataclasses.dataclass(frozen=True)
class CellKind:
    help: str
    build: Callable  # LMConfig -> a Keras RNN cell
    layer_norm: bool  # does --layer-norm apply


CELLS: dict[str, CellKind] = {
    "hyperlstm": CellKind("Ha et al.'s HyperLSTM (layers/hyper_lstm.py)",
                          lambda c: HyperLSTMCell(c.units, hyper_units=c.hyper_units, embedding_dim=c.hyper_embedding_dim,
                                                  layer_norm=c.layer_norm, name="cell"), True),
    "lstm": CellKind("keras.layers.LSTMCell", lambda c: keras.layers.LSTMCell(c.units, name="cell"), False),
}


@keras.saving.register_keras_serializable(package="hypergan_tf")
class CharLM(keras.Model):
    """`call(ids [batch, time], states=None)` -> (logits [batch, time, vocab], states)."""

    def __init__(self, vocab_size: int, cell, embedding_dim: int, **kwargs):
        super().__init__(**kwargs)
        if isinstance(cell, dict):
            cell = keras.saving.deserialize_keras_object(cell)
        self.vocab_size = int(vocab_size)
        self.embedding_dim = int(embedding_dim)
        self.cell = cell
        self.embedding = keras.layers.Embedding(self.vocab_size, self.embedding_dim, name="embedding")
        self.rnn = keras.layers.RNN(cell, return_sequences=True, return_state=True, name="rnn")
        self.logits = keras.layers.Dense(self.vocab_size, name="logits")
        self.build_for(1)

    def build_for(self, batch: int):
        """Create the weights by running one step on zeros."""
        self(ops.zeros((batch, 1), dtype="int32"))

    def initial_states(self, batch: int) -> list:
        return [ops.zeros((batch, size)) for size in self.cell.state_size]

    def call(self, ids, states=None, training=False):
        if states is None:
            states = self.initial_states(ops.shape(ids)[0])
        outputs = self.rnn(self.embedding(ids), initial_state=list(states), training=training)
        return self.logits(outputs[0]), list(outputs[1:])

    def get_config(self) -> dict:
        return {**super().get_config(), "vocab_size": self.vocab_size, "embedding_dim": self.embedding_dim,
                "cell": keras.saving.serialize_keras_object(self.cell)}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def build_model(config, vocab_size: int) -> CharLM:
    """The CharLM of an LMConfig (its cell from CELLS)."""
    keras.utils.set_random_seed(config.seed)
    return CharLM(vocab_size, CELLS[config.cell].build(config), config.embedding_dim, name="char_lm")


def count_parameters(model) -> int:
    return int(sum(int(ops.size(w)) for w in model.trainable_weights))


def parameters_of(config, vocab_size: int) -> int:
    """count_parameters(build_model(config, vocab_size)) without building the model: the
    cell alone is built (fast, for searching sizes), plus embedding and softmax."""
    cell = CELLS[config.cell].build(config)
    cell.build((None, config.embedding_dim))
    return count_parameters(cell) + vocab_size * config.embedding_dim + (config.units + 1) * vocab_size
