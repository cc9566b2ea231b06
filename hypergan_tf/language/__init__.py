"""Character-level language models on a recurrent cell (issue 17): Ha et al.'s HyperLSTM
against a plain LSTM, in bits per character on a held-out split.

    config.py  LMConfig: every default of `hypergan-tf lm`
    data.py    CORPORA (tiny_shakespeare, shakespeare-plays), UTF-8 files, the vocabulary,
               the contiguous train / validation / test split, truncated-BPTT windows
    model.py   CELLS (lstm, hyperlstm) and CharLM: embedding -> keras.layers.RNN(cell) -> logits
    train.py   train_lm (wall-time budget, TensorBoard, run directory), evaluate_bpc, reevaluate
"""

from hypergan_tf.language.config import LMConfig
from hypergan_tf.language.model import CELLS, CharLM
from hypergan_tf.language.train import evaluate_bpc, reevaluate, train_lm

__all__ = ["CELLS", "CharLM", "LMConfig", "evaluate_bpc", "reevaluate", "train_lm"]
