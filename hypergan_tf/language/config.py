"""Every default of the character-level language model in one frozen dataclass; `lm` maps
its options onto it and writes it next to the run as `config.json` (with the data's
vocabulary and fingerprint), which is all `lm --evaluate` needs to rebuild the model."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

from hypergan_tf.atomic import write_text
from hypergan_tf.config import read_run_json
from hypergan_tf.errors import HyperganError

# What every config.json written by `lm` holds (a HyperGAN run's config.json lacks them).
LM_KEYS = ("cell", "units", "vocabulary", "text_sha256")


@dataclasses.dataclass(frozen=True)
class LMConfig:
    cell: str = "hyperlstm"  # a key of model.CELLS: "hyperlstm" or "lstm"
    units: int = 256  # the main recurrent layer's hidden size
    hyper_units: int = 64  # hyperlstm: the small LSTM that scales the main one's weights
    hyper_embedding_dim: int = 8  # hyperlstm: N_z, size of each gate's z_x, z_h, z_b
    layer_norm: bool = False  # hyperlstm: layer normalisation of the gates and the cell
    embedding_dim: int = 32  # character embedding
    seq_len: int = 100  # truncated BPTT: characters per window (the state crosses windows)
    # The recurrent state crosses at most this many consecutive windows, in training and in
    # evaluation alike, then restarts from zeros. Without it, training carried the state
    # across a whole pass (1,400 windows on shakespeare-plays) while evaluation starts from
    # zeros: a HyperLSTM (no layer norm) learned to rely on cell states built up over
    # thousands of steps by earlier weights, and measured 1.2-1.4 bpc worse on held-out text
    # than on its training loss (README: "Why the state restarts every --state-windows").
    state_windows: int = 32
    batch_size: int = 32  # parallel streams of the training text
    steps: int = 2000  # training windows; training stops at `steps` or `minutes`, first
    minutes: float | None = None  # wall-time budget of training (evaluation not counted)
    learning_rate: float = 2e-3  # Adam, constant
    clip_norm: float = 1.0  # global gradient-norm clipping
    seed: int = 0
    validation_fraction: float = 0.05  # the text's last 10%: validation, then test
    test_fraction: float = 0.05
    eval_streams: int = 64  # evaluation: the part cut into this many parallel pieces
    log_every: int = 50  # steps between TensorBoard scalars
    # The text: a UTF-8 file (absolute path), else a corpus of data.CORPORA, else (both None)
    # the first of data.DEFAULT_CORPORA that loads.
    text_file: str | None = None
    corpus: str | None = None
    # Filled in from the data: where it came from, its characters (index = token id) and
    # the SHA-256 of the text, so a re-evaluation refuses another text.
    source: str | None = None
    vocabulary: str | None = None
    text_sha256: str | None = None

    DERIVED = ("source", "vocabulary", "text_sha256")

    def __post_init__(self):
        from hypergan_tf.language.data import CORPORA
        from hypergan_tf.language.model import CELLS  # here, not at the top: it imports Keras

        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise HyperganError(f"--{f.name.replace('_', '-')} must be a finite number (got {value})")
        checks = [
            (self.cell in CELLS, "--cell must be one of " + ", ".join(CELLS)),
            (min(self.units, self.hyper_units, self.hyper_embedding_dim, self.embedding_dim) >= 1,
             "--units, --hyper-units, --hyper-embedding-dim and --embedding-dim must be at least 1"),
            (not self.layer_norm or self.cell not in CELLS or CELLS[self.cell].layer_norm,
             "--layer-norm is implemented for --cell " + ", ".join(name for name, kind in CELLS.items() if kind.layer_norm) + " only"),
            (self.seq_len >= 1, "--seq-len must be at least 1"),
            (self.state_windows >= 1, "--state-windows must be at least 1"),
            (self.batch_size >= 1, "--batch-size must be at least 1"),
            (self.steps >= 1, "--steps must be at least 1"),
            (self.minutes is None or self.minutes > 0, "--minutes must be > 0"),
            (self.learning_rate > 0, "--learning-rate must be > 0"),
            (self.clip_norm > 0, "--clip-norm must be > 0"),
            (0 <= self.seed < 2**31, "--seed must be in [0, 2**31)"),
            (0 < self.validation_fraction < 1 and 0 < self.test_fraction < 1
             and self.validation_fraction + self.test_fraction < 1, "validation and test fractions must be in (0, 1) and sum below 1"),
            (self.corpus is None or self.corpus in CORPORA, "--corpus must be one of " + ", ".join(CORPORA)),
            (self.corpus is None or self.text_file is None, "give --text FILE or --corpus NAME, not both"),
            (self.eval_streams >= 1 and self.log_every >= 1, "eval_streams and log_every must be at least 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise HyperganError(message)

    def changed_from(self, other: "LMConfig") -> list[str]:
        """The fields, derived ones aside, where `other` differs."""
        mine, theirs = self.to_dict(), other.to_dict()
        return sorted(k for k in mine if k not in self.DERIVED and mine[k] != theirs[k])

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def save(self, path: Path) -> None:
        write_text(path, json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> "LMConfig":
        path = Path(path)
        values = read_run_json(path, "lm", "train again with --overwrite")
        if not isinstance(values, dict) or set(LM_KEYS) - set(values):
            raise HyperganError(f"{path} was not written by 'hypergan-tf lm' (it lacks {', '.join(LM_KEYS)}); "
                                "choose another --run-dir, or pass --overwrite to replace that run")
        unknown = sorted(set(values) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise HyperganError(f"{path} has unknown keys {unknown}; was it written by a newer hypergan-tf?")
        try:
            return cls(**values)
        except TypeError as err:
            raise HyperganError(f"{path} has a field of the wrong type ({err}); train again with --overwrite") from None
