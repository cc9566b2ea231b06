"""The bad-input catalogue of the README: one line naming problem and fix, exit code 2,
no traceback, and nothing written. Each row here is a row of the README's table."""

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import make_idx_dataset, write_idx
from hypergan_tf_cli.main import cli

TINY = ["--steps", "2", "--networks-per-step", "2", "--batch-size", "8", "--code-dim", "8"]


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("finished") / "run"
    assert run("train", "--dataset", "digits", "--run-dir", run_dir, *TINY).exit_code == 0
    return run_dir


def corrupt_copy(finished_run, tmp_path, damage):
    copy = tmp_path / "copy"
    shutil.copytree(finished_run, copy)
    damage(copy)
    return copy


def mnist_dir(tmp_path, edit=None):
    make_idx_dataset(tmp_path / "data" / "mnist")
    if edit:
        edit(tmp_path / "data" / "mnist")
    return tmp_path / "data"


def truncate(folder):
    path = folder / "train-images-idx3-ubyte.gz"
    import gzip

    raw = gzip.open(path).read()
    path.unlink()
    (folder / "train-images-idx3-ubyte").write_bytes(raw[:-10])


CASES = {
    "unknown dataset": (lambda t, r: ["train", "--dataset", "imagenet", "--run-dir", t / "run"], "Invalid value for '--dataset'"),
    "unknown target": (lambda t, r: ["train", "--target", "resnet50", "--run-dir", t / "run"], "Invalid value for '--target'"),
    "data dir missing a split": (
        lambda t, r: ["train", "--data-dir", mnist_dir(t, lambda f: (f / "train-labels-idx1-ubyte.gz").unlink()), "--run-dir", t / "run", *TINY],
        "is missing train-labels-idx1-ubyte.gz",
    ),
    "truncated IDX file": (lambda t, r: ["train", "--data-dir", mnist_dir(t, truncate), "--run-dir", t / "run", *TINY], "truncated"),
    "wrong magic number": (
        lambda t, r: ["train", "--data-dir", mnist_dir(t, lambda f: write_idx(f / "train-images-idx3-ubyte.gz", np.zeros(60, np.uint8))), "--run-dir", t / "run", *TINY],
        "magic number 2049, expected 2051",
    ),
    "image/label count mismatch": (
        lambda t, r: ["train", "--data-dir", mnist_dir(t, lambda f: write_idx(f / "train-labels-idx1-ubyte.gz", np.zeros(59, np.uint8))), "--run-dir", t / "run", *TINY],
        "60 images but 59 labels",
    ),
    "empty class folder": (
        lambda t, r: ["train", "--dataset", "cifar10", "--target", "cifar-small", "--data-dir", empty_class(t), "--run-dir", t / "run", *TINY],
        "holds no .jpg or .png images",
    ),
    "missing final weights": (
        lambda t, r: ["evaluate", corrupt_copy(r, t, lambda c: (c / "model.weights.h5").unlink())],
        "did not finish",
    ),
    "corrupt weights file": (
        lambda t, r: ["evaluate", corrupt_copy(r, t, lambda c: (c / "model.weights.h5").write_bytes(b"not hdf5"))],
        "cannot be loaded",
    ),
    "corrupt backup": (
        lambda t, r: ["train", "--dataset", "digits", "--run-dir", corrupt_copy(r, t, damage_backup), *TINY],
        "the backup in",
    ),
    "not a run directory": (lambda t, r: ["evaluate", t], "config.json not found"),
    "run dir with a different configuration": (
        lambda t, r: ["train", "--dataset", "digits", "--run-dir", r, *TINY, "--beta", "0.5"],
        "different configuration (beta)",
    ),
    "finished run, same command": (lambda t, r: ["train", "--dataset", "digits", "--run-dir", r, *TINY], "already holds a finished run"),
    "unwritable run dir": (lambda t, r: ["train", "--dataset", "digits", "--run-dir", a_file(t) / "run", *TINY], "cannot create run directory"),
    "unwritable JSON path": (lambda t, r: ["evaluate", r, "--num-networks", "2", "--ensemble-sizes", "1", "--json", a_file(t) / "e.json"], "cannot write"),
    "K < 1": (lambda t, r: ["train", "--networks-per-step", "0", "--run-dir", t / "run"], "--networks-per-step must be at least 1"),
    "beta < 0": (lambda t, r: ["train", "--beta", "-0.1", "--run-dir", t / "run"], "--beta must be >= 0"),
    "batch size 0": (lambda t, r: ["train", "--batch-size", "0", "--run-dir", t / "run"], "--batch-size must be at least 1"),
    "diversity weight < 0": (lambda t, r: ["train", "--diversity-weight", "-1", "--run-dir", t / "run"], "--diversity-weight must be >= 0 (0 turns the term off)"),
    "unknown precision": (lambda t, r: ["train", "--precision", "float16", "--run-dir", t / "run"], "Invalid value for '--precision'"),
    "bfloat16 with hyperneat": (lambda t, r: ["train", "--method", "hyperneat", "--precision", "bfloat16", "--run-dir", t / "run"],
                                "--precision does not apply to --method hyperneat"),
    "recompute with hyperneat": (lambda t, r: ["train", "--method", "hyperneat", "--recompute", "8", "--run-dir", t / "run"],
                                 "--recompute does not apply to --method hyperneat"),
    "recompute < 0": (lambda t, r: ["train", "--recompute", "-1", "--run-dir", t / "run"], "--recompute must be >= 0 networks per group"),
    "off-data weight < 0": (lambda t, r: ["train", "--off-data-weight", "-0.5", "--run-dir", t / "run"], "--off-data-weight must be >= 0 (0 turns the term off)"),
    "off-data on a baseline": (lambda t, r: ["baseline", "--method", "ensemble", "--off-data-weight", "0.5", "--run-dir", t / "run"],
                               "No such option '--off-data-weight'"),
    "off-data networks 1": (lambda t, r: ["train", "--off-data-networks", "1", "--off-data-weight", "0.5", "--run-dir", t / "run"],
                            "--off-data-networks must be at least 2"),
    "feature layer unknown": (lambda t, r: ["train", "--dataset", "digits", "--feature-diversity-weight", "0.5", "--feature-diversity-layers", "conv1,conv9",
                                            "--run-dir", t / "run"], "conv9 is not a layer of target mnist-small; its layers: conv1, conv2, linear1"),
    "feature term with recompute": (lambda t, r: ["train", "--feature-diversity-weight", "0.5", "--recompute", "8", "--run-dir", t / "run"],
                                    "--feature-diversity-weight reads the activations that --recompute drops"),
    "feature examples 1": (lambda t, r: ["train", "--feature-diversity-examples", "1", "--run-dir", t / "run"],
                           "--feature-diversity-examples must be at least 2"),
    "modes 0": (lambda t, r: ["train", "--modes", "0", "--run-dir", t / "run"], "--modes must be at least 1"),
    "modes of a static hypernetwork": (lambda t, r: ["train", "--method", "static-hypernet", "--modes", "4", "--run-dir", t / "run"],
                                       "--modes applies to HyperGAN runs only"),
    "ensemble sizes not integers": (lambda t, r: ["evaluate", r, "--ensemble-sizes", "1,ten"], "not a comma-separated list"),
    "non-finite option": (lambda t, r: ["train", "--mixer-noise", "inf", "--run-dir", t / "run"], "--mixer-noise must be a finite number (got inf)"),
    "attack epsilon above 1": (lambda t, r: ["attack", r, "--epsilons", "0.1,2"], "numbers in (0, 1]"),
    "attack epsilon nan": (lambda t, r: ["attack", r, "--epsilons", "nan"], "numbers in (0, 1]"),
    "unknown target file": (lambda t, r: ["train", "--target", t / "missing.json", "--run-dir", t / "run"], "missing.json not found"),
    "negative export version": (lambda t, r: ["export", r, "--out", t / "run", "--version", "-1"], "--version must be a non-negative integer"),
    "config.json not an object": (lambda t, r: ["evaluate", corrupt_copy(r, t, lambda c: (c / "config.json").write_text("[1, 2]"))],
                                  "a configuration is a JSON object of TrainConfig fields, not list"),
    "config.json empty object": (lambda t, r: ["evaluate", corrupt_copy(r, t, lambda c: (c / "config.json").write_text("{}"))],
                                 "lacks ['dataset', 'input_mean'"),
    "config.json wrong-typed field": (lambda t, r: ["evaluate", corrupt_copy(r, t, edit_config(epochs="six"))], "a field of the wrong type"),
    "config.json not UTF-8": (lambda t, r: ["evaluate", corrupt_copy(r, t, lambda c: (c / "config.json").write_bytes(b"{\xff\xfe}"))],
                              "is not valid JSON"),
    "state.json of the wrong type": (
        lambda t, r: ["train", "--dataset", "digits", "--run-dir", corrupt_copy(r, t, damage_backup_type), *TINY], "the backup in"),
    "too many steps": (lambda t, r: ["train", "--dataset", "digits", "--steps", str(10**12), "--run-dir", t / "run"], "lower --steps or --epochs"),
    "too many epochs": (lambda t, r: ["train", "--dataset", "digits", "--epochs", str(10**9), "--run-dir", t / "run"], "lower --steps or --epochs"),
    "negative network seed": (lambda t, r: ["diversity", r, "--seed", "-1", "--json", t / "run" / "d.json"], "-1 is not in the range x>=0"),
    "empty run dir": (lambda t, r: ["train", "--dataset", "digits", "--run-dir", "", *TINY], "must not be empty; give a folder"),
    "export version beyond int64": (lambda t, r: ["export", r, "--out", t / "run", "--version", str(2**70)], "below 2**63"),
    "JSON path under a file": (lambda t, r: ["evaluate", r, "--json", a_file(t) / "e.json"], "plain-file is a file, not a folder"),
    "weights of another configuration": (lambda t, r: ["evaluate", corrupt_copy(r, t, edit_config(code_dim=16, hidden_units=64))],
                                         "holds weights of another model than"),
    "negative seed": (lambda t, r: ["train", "--seed", "-1", "--run-dir", t / "run"], "--seed must be in [0, 2**31)"),
    "sample into another run's networks": (lambda t, r: ["sample", r, "-n", "1", "--out", networks_folder(t)], "already holds sampled networks"),
    # 10**7-10**8 networks of 31,594 weights: terabytes, on any machine; each says what fits.
    "networks per step beyond memory": (lambda t, r: ["train", "--dataset", "digits", "--networks-per-step", str(10**7), "--run-dir", t / "run"],
                                        "fit; lower --networks-per-step"),
    "ensemble sizes beyond memory": (lambda t, r: ["evaluate", r, "--ensemble-sizes", str(10**8)], "fit; lower --ensemble-sizes"),
    "export ensemble beyond memory": (lambda t, r: ["export", r, "--out", t / "run", "--ensemble-size", str(10**8)], "fit; lower --ensemble-size"),
    "attack ensemble beyond memory": (lambda t, r: ["attack", r, "--ensemble-size", str(10**8)], "fit; lower --ensemble-size"),
    "run dir not UTF-8": (lambda t, r: ["train", "--dataset", "digits", "--run-dir", t / "run\udcff\udcfe", *TINY], "is not valid UTF-8"),
    "run dir name over 255 bytes": (lambda t, r: ["train", "--dataset", "digits", "--run-dir", t / "run" / ("a" * 300), *TINY],
                                    "is 300 bytes long; file systems allow at most 255"),
    "export folder name over 255 bytes": (lambda t, r: ["export", r, "--out", t / "run" / ("b" * 256)], "is 256 bytes long"),
    "IDX header with huge dimensions": (
        lambda t, r: ["train", "--data-dir", mnist_dir(t, huge_idx_header), "--run-dir", t / "run", *TINY],
        "header promises 79,228,162,458,924,105,385,300,197,375 (dimensions 4294967295 x 4294967295 x 4294967295)",
    ),
    "hyperneat with a gradient option": (lambda t, r: ["train", "--method", "hyperneat", "--dataset", "digits", "--beta", "0.5", "--steps", "9",
                                                    "--run-dir", t / "run"], "--steps, --beta do not apply to --method hyperneat"),
    "hyperneat with --epochs on a data set whose recipe sets steps": (
        lambda t, r: ["train", "--method", "hyperneat", "--dataset", "mnist", "--epochs", "5", "--run-dir", t / "run"],
        "--epochs does not apply to --method hyperneat"),
    "hyperneat option without hyperneat": (lambda t, r: ["train", "--dataset", "digits", "--generations", "3", "--run-dir", t / "run"],
                                           "--generations applies to --method hyperneat only"),
    "hyperneat keeps more networks than it evolves": (
        lambda t, r: ["train", "--method", "hyperneat", "--dataset", "digits", "--population", "4", "--kept-networks", "5", "--run-dir", t / "run"],
        "--kept-networks 5 is more than the --population 4"),
    "hyperneat population of 1": (lambda t, r: ["train", "--method", "hyperneat", "--population", "1", "--run-dir", t / "run"],
                                  "--population must be at least 2"),
    "sample beyond the free disk": (lambda t, r: ["sample", r, "-n", str(10**8), "--out", t / "run"], "fit; lower -n"),
    "lm text file missing": (lambda t, r: ["lm", "--text", t / "missing.txt", "--run-dir", t / "run"], "missing.txt not found"),
    "lm text not UTF-8": (lambda t, r: ["lm", "--text", text_file(t, b"caf\xe9 au lait\n" * 500), "--run-dir", t / "run"],
                          "is not UTF-8 text (byte 0xe9 at offset 3)"),
    "lm text too short": (lambda t, r: ["lm", "--text", text_file(t, b"To be, or not to be.\n" * 20), "--run-dir", t / "run"],
                          "must hold --batch-size x (--seq-len + 1) = 3,232"),
    "lm units 0": (lambda t, r: ["lm", "--units", "0", "--run-dir", t / "run"], "--units, --hyper-units, --hyper-embedding-dim"),
    "lm state windows 0": (lambda t, r: ["lm", "--state-windows", "0", "--run-dir", t / "run"], "--state-windows must be at least 1"),
    "lm minutes 0": (lambda t, r: ["lm", "--minutes", "0", "--run-dir", t / "run"], "--minutes must be > 0"),
    "lm learning rate nan": (lambda t, r: ["lm", "--learning-rate", "nan", "--run-dir", t / "run"], "--learning-rate must be a finite number"),
    "lm layer norm on an LSTM": (lambda t, r: ["lm", "--cell", "lstm", "--layer-norm", "--run-dir", t / "run"],
                                 "--layer-norm is implemented for --cell hyperlstm only"),
    "lm --text and --corpus": (lambda t, r: ["lm", "--text", t / "x.txt", "--corpus", "shakespeare-plays", "--run-dir", t / "run"],
                               "give --text FILE or --corpus NAME, not both"),
    "lm --evaluate without a run": (lambda t, r: ["lm", "--evaluate"], "--evaluate needs --run-dir"),
    "lm --evaluate on a HyperGAN run": (lambda t, r: ["lm", "--evaluate", "--run-dir", r], "was not written by 'hypergan-tf lm'"),
    "lm into a HyperGAN run": (lambda t, r: ["lm", "--text", text_file(t, b"All the world's a stage.\n" * 200), "--run-dir", r],
                               "was not written by 'hypergan-tf lm'"),
}


def text_file(tmp_path, content: bytes):
    path = tmp_path / "text.txt"
    path.write_bytes(content)
    return path


def huge_idx_header(folder):
    """A corrupt header whose size overflows a 64-bit product (NumPy's np.prod wraps around)."""
    path = folder / "train-images-idx3-ubyte.gz"
    path.unlink()
    (folder / "train-images-idx3-ubyte").write_bytes((0x0803).to_bytes(4, "big") + b"\xff" * 12 + bytes(100))


def edit_config(**changes):
    def edit(copy):
        values = json.loads((copy / "config.json").read_text())
        values.update(changes)
        (copy / "config.json").write_text(json.dumps(values))

    return edit


def damage_backup_type(copy):
    (copy / "model.weights.h5").unlink()
    (copy / "checkpoints" / "state.json").write_text('{"step": "ten", "epochs_done": 1, "checkpoint": "x"}')


def networks_folder(tmp_path):
    folder = tmp_path / "networks"
    folder.mkdir()
    (folder / "network_000.keras").write_bytes(b"another run's network")
    return folder


def empty_class(tmp_path):
    import tensorflow as tf

    root = tmp_path / "data" / "cifar10"
    for split in ("train", "test"):
        (root / split / "cat").mkdir(parents=True)
        (root / split / "cat" / "0.png").write_bytes(tf.io.encode_png(np.zeros((32, 32, 3), np.uint8)).numpy())
        (root / split / "dog").mkdir()
    return tmp_path / "data"


def damage_backup(copy):
    (copy / "model.weights.h5").unlink()  # an unfinished run, so the backup is used
    (copy / "checkpoints" / "state.json").write_text("{not json")


def a_file(tmp_path):
    path = tmp_path / "plain-file"
    path.write_text("x")
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input(case, tmp_path, finished_run):
    make_args, message = CASES[case]
    args = make_args(tmp_path, finished_run)
    before = sorted(p.name for p in finished_run.rglob("*"))
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output, result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "run").exists(), "nothing may be written for bad input"
    assert sorted(p.name for p in finished_run.rglob("*")) == before


def test_divergence_stops_with_a_message_and_keeps_the_last_good_backup(tmp_path):
    """A learning rate of 1e12 blows up within the second backup interval."""
    run_dir = tmp_path / "nan"
    common = ["train", "--dataset", "digits", "--run-dir", run_dir, "--networks-per-step", "2", "--batch-size", "16", "--code-dim", "8"]
    good = run(*common, "--steps", "10", "--backup-every", "5")
    assert good.exit_code == 0, good.output
    (run_dir / "model.weights.h5").unlink()  # continue this run with a bad learning rate
    state = json.loads((run_dir / "checkpoints" / "state.json").read_text())
    config = json.loads((run_dir / "config.json").read_text())
    config.update(steps=40, g_learning_rate=1e12)
    (run_dir / "config.json").write_text(json.dumps(config))
    result = run(*common, "--steps", "40", "--backup-every", "5", "--g-learning-rate", "1e12")
    assert result.exit_code == 2, result.output
    assert "training diverged (non-finite loss)" in result.output and "Lower --g-learning-rate" in result.output
    kept = json.loads((run_dir / "checkpoints" / "state.json").read_text())
    assert kept["step"] >= state["step"] and f"the last good backup (step {kept['step']}) is kept" in result.output
    assert (run_dir / "checkpoints" / kept["checkpoint"]).is_file()
    assert not (run_dir / "model.weights.h5").exists()


def test_a_damaged_jpeg_gives_one_error_line_and_no_libjpeg_noise(tmp_path):
    """libjpeg prints "Improper call to JPEG library" on file descriptor 2 itself: run the real
    command in a process of its own to see everything it prints."""
    import subprocess
    import sys

    import tensorflow as tf

    data = empty_class(tmp_path)
    good = tf.io.encode_jpeg(np.full((32, 32, 3), 128, np.uint8)).numpy()
    for split in ("train", "test"):
        (data / "cifar10" / split / "dog" / "0.jpg").write_bytes(good)
    (data / "cifar10" / "train" / "dog" / "1.jpg").write_bytes(good[: len(good) // 2])
    result = subprocess.run([sys.executable, "-m", "hypergan_tf_cli.main", "datasets", "--check", "cifar10", "--data-dir", str(data)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert "1.jpg is not a readable image (damaged or truncated)" in result.stderr
    assert "JPEG library" not in result.stderr + result.stdout and "Traceback" not in result.stderr
    assert [line for line in result.stderr.splitlines() if line.strip()] == [line for line in result.stderr.splitlines() if line.startswith("Error:")]
