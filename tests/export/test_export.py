"""Exports must compute exactly what the in-process sampler computes."""

import json
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from hypergan_tf.errors import HyperganError
from hypergan_tf.export import export_litert, export_saved_model, save_networks
from hypergan_tf.samplers import build_sampler, fixed_noise
from hypergan_tf.analysis.predict import predict_probabilities
from hypergan_tf.export.serving_client import predict_files
from hypergan_tf_cli.main import cli

ENSEMBLE = 4
SEED = 3


@pytest.fixture(scope="module", params=[1, 3], ids=["one mode", "3 modes"])
def model(request):
    """The paper's HyperGAN, and a mixture of 3 modes (--modes; each mode has weights of its own)."""
    from conftest import TINY
    from hypergan_tf.config import TrainConfig

    return build_sampler(TrainConfig(dataset="digits", num_classes=10, input_mean=0.2, input_std=0.3, modes=request.param, **TINY))


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((6, 28, 28, 1)).astype(np.float32)


@pytest.fixture(scope="module")
def exported(model, tmp_path_factory):
    return export_saved_model(model, tmp_path_factory.mktemp("exports") / "tiny", ensemble_size=ENSEMBLE, seed=SEED)


def in_process(model, images):
    weights = {k: v.numpy() for k, v in model.network_weights(ENSEMBLE, SEED).items()}  # the networks `evaluate` draws
    return predict_probabilities(model, images, weights)  # [K, B, C]


def test_saved_model_matches_the_in_process_ensemble(model, images, exported):
    assert exported.name == "1" and (exported / "saved_model.pb").is_file() and (exported / "variables").is_dir()
    served = tf.saved_model.load(str(exported)).signatures["serving_default"](images=tf.constant(images))
    members = in_process(model, images)
    mean = members.mean(0)
    np.testing.assert_allclose(served["probabilities"].numpy(), mean, atol=1e-5)
    np.testing.assert_array_equal(served["predicted_class"].numpy(), mean.argmax(-1))
    assert served["predicted_class"].dtype == tf.int64
    entropy = -(mean * np.log(mean + 1e-12)).sum(-1)
    member_entropy = -(members * np.log(members + 1e-12)).sum(-1).mean(0)
    np.testing.assert_allclose(served["entropy"].numpy(), entropy, atol=1e-5)
    np.testing.assert_allclose(served["mutual_information"].numpy(), entropy - member_entropy, atol=1e-5)


def conv_dtypes(function) -> set[str]:
    """The number types of every convolution in a loaded signature's graph, its functions included."""
    graph = function.graph.as_graph_def()
    nodes = list(graph.node) + [node for f in graph.library.function for node in f.node_def]
    return {tf.dtypes.as_dtype(node.attr["T"].type).name for node in nodes if node.op == "Conv2D"}


def test_a_bfloat16_export_computes_its_networks_in_bfloat16(model, images, exported, tmp_path):
    path = export_saved_model(model, tmp_path / "bf16", ensemble_size=ENSEMBLE, seed=SEED, precision="bfloat16")
    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    assert conv_dtypes(serve) == {"bfloat16"}
    assert conv_dtypes(tf.saved_model.load(str(exported)).signatures["serving_default"]) == {"float32"}
    served = serve(images=tf.constant(images))
    assert served["probabilities"].dtype == tf.float32 and served["entropy"].dtype == tf.float32
    mean = in_process(model, images).mean(0)
    # Rounded to bfloat16's 8 bits of mantissa: close to the float32 ensemble, not equal to it.
    difference = np.abs(served["probabilities"].numpy() - mean).max()
    assert 1e-6 < difference < 0.02, difference
    np.testing.assert_allclose(served["probabilities"].numpy().sum(-1), 1.0, atol=1e-5)
    with pytest.raises(HyperganError, match="--precision must be one of float32, bfloat16"):
        export_saved_model(model, tmp_path / "f16", ensemble_size=ENSEMBLE, precision="float16")
    assert not (tmp_path / "f16").exists()


def test_sample_weights_signature_equals_the_generators(model, exported):
    noise = fixed_noise(3, model.noise_dim, 7)
    served = tf.saved_model.load(str(exported)).signatures["sample_weights"](noise=tf.constant(noise))
    expected = {k: v.numpy() for k, v in model.weights_from_noise(tf.constant(noise)).items()}
    assert set(served) == {name.replace("/", "_") for name in expected}
    for name, value in expected.items():
        np.testing.assert_allclose(served[name.replace("/", "_")].numpy(), value, atol=1e-6)


def test_fresh_process_without_hypergan_tf(exported, images, model, tmp_path):
    np.save(tmp_path / "images.npy", images)
    script = textwrap.dedent(f"""
        import sys, numpy as np, tensorflow as tf
        loaded = tf.saved_model.load({str(exported)!r})
        out = loaded.signatures["serving_default"](images=tf.constant(np.load({str(tmp_path / 'images.npy')!r})))
        np.save({str(tmp_path / 'out.npy')!r}, out["probabilities"].numpy())
        assert not any(m.startswith("hypergan_tf") for m in sys.modules), "hypergan_tf was imported"
    """)
    subprocess.run([sys.executable, "-c", script], check=True, cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "2"})
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), in_process(model, images).mean(0), atol=1e-5)


def test_saved_model_cli_shows_the_signatures(exported):
    import shutil

    cli_path = shutil.which("saved_model_cli") or str(__import__("pathlib").Path(sys.executable).with_name("saved_model_cli"))
    result = subprocess.run([cli_path, "show", "--dir", str(exported), "--all"], capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stderr
    for text in ("signature_def['serving_default']", "signature_def['sample_weights']", "inputs['images']",
                 "shape: (-1, 28, 28, 1)", "outputs['predicted_class']", "dtype: DT_INT64", "outputs['conv1_kernel']"):
        assert text in result.stdout, text


def test_bad_inputs_are_rejected_at_the_signature(exported):
    serve = tf.saved_model.load(str(exported)).signatures["serving_default"]
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError)) as err:
        serve(images=tf.zeros([1, 32, 32, 3]))
    assert "images must be float32 [batch, 28, 28, 1]" in str(err.value)
    with pytest.raises((ValueError, TypeError, tf.errors.InvalidArgumentError)):
        serve(images=tf.zeros([1, 28, 28, 1], tf.uint8))


def test_versions_are_numbered_and_never_overwritten(model, exported):
    second = export_saved_model(model, exported.parent, ensemble_size=1)
    assert second.name == "2"
    with pytest.raises(HyperganError, match="already exists"):
        export_saved_model(model, exported.parent, version=1, ensemble_size=1)
    assert not [p for p in exported.parent.iterdir() if "partial" in p.name]


def test_litert_classifier_and_sampler_match(model, images, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    files = export_litert(model, tmp_path, ensemble_size=ENSEMBLE, seed=SEED)
    classifier = Interpreter(model_path=str(files["classifier"]))
    runner = classifier.get_signature_runner()
    expected = in_process(model, images).mean(0)
    for i in range(len(images)):
        got = runner(images=images[i : i + 1])["probabilities"]
        np.testing.assert_allclose(got[0], expected[i], atol=1e-4)
    sampler_interpreter = Interpreter(model_path=str(files["sampler"]))  # must outlive its runner
    noise = fixed_noise(1, model.noise_dim, 11)
    generated = sampler_interpreter.get_signature_runner()(noise=noise)
    for name, value in model.weights_from_noise(tf.constant(noise)).items():
        np.testing.assert_allclose(generated[name.replace("/", "_")], value, atol=1e-5)


def test_standalone_keras_networks_equal_their_ensemble_member(model, images, tmp_path):
    paths = save_networks(model, tmp_path, 2, seed=SEED)
    script = textwrap.dedent(f"""
        import sys, numpy as np, keras
        images = np.load({str(tmp_path / 'images.npy')!r})
        out = [keras.models.load_model(p).predict(images, verbose=0) for p in {[str(p) for p in paths]!r}]
        np.save({str(tmp_path / 'out.npy')!r}, np.stack(out))
        assert not any(m.startswith("hypergan_tf") for m in sys.modules)
    """)
    np.save(tmp_path / "images.npy", images)
    subprocess.run([sys.executable, "-c", script], check=True, cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "2"})
    weights = {k: v.numpy() for k, v in model.network_weights(2, SEED).items()}
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), predict_probabilities(model, images, weights), atol=1e-5)


class FakeTFServing(BaseHTTPRequestHandler):
    """Answers :predict in TF Serving's REST format from a loaded SavedModel."""

    signature = None
    requests: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeTFServing.requests.append((self.path, body))
        images = tf.constant(np.array([row["images"] for row in body["instances"]], np.float32))
        out = {k: v.numpy().tolist() for k, v in FakeTFServing.signature(images=images).items()}
        predictions = [{k: out[k][i] for k in out} for i in range(len(body["instances"]))]
        data = json.dumps({"predictions": predictions}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_predict_client_speaks_the_tf_serving_rest_format(exported, model, tmp_path):
    pixels = (np.random.default_rng(1).random((2, 28, 28, 1)) * 255).astype(np.uint8)
    files = []
    for i, image in enumerate(pixels):
        files.append(tmp_path / f"digit{i}.png")
        files[-1].write_bytes(tf.io.encode_png(image).numpy())
    FakeTFServing.signature = tf.saved_model.load(str(exported)).signatures["serving_default"]
    server = HTTPServer(("127.0.0.1", 0), FakeTFServing)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    try:
        result = predict_files(url, "tiny", files)
    finally:
        thread.join(10)
        server.server_close()
    path, body = FakeTFServing.requests[-1]
    assert path == "/v1/models/tiny:predict" and body["signature_name"] == "serving_default"
    expected = in_process(model, pixels.astype(np.float32) / 255.0).mean(0)
    np.testing.assert_allclose([p["probabilities"] for p in result["predictions"]], expected, atol=1e-5)


def test_predict_without_a_server_is_a_clear_error(tmp_path):
    image = tmp_path / "x.png"
    image.write_bytes(tf.io.encode_png(np.zeros((28, 28, 1), np.uint8)).numpy())
    result = CliRunner().invoke(cli, ["predict", "--server", "http://127.0.0.1:9", "--model", "m", str(image)])
    assert result.exit_code == 2 and "cannot reach" in result.output


class BrokenServer(BaseHTTPRequestHandler):
    """Answers every request with `body` after `delay` seconds."""

    body = b""
    delay = 0.0

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(BrokenServer.delay)
        try:
            self.send_response(200)
            self.send_header("Content-Length", str(len(BrokenServer.body)))
            self.end_headers()
            self.wfile.write(BrokenServer.body)
        except OSError:  # the client gave up
            pass

    def log_message(self, *args):
        pass


GOOD_LINE = {"probabilities": [0.9, 0.1], "predicted_class": 0, "entropy": 0.3, "mutual_information": 0.01}


@pytest.mark.parametrize("body, delay, message", [
    (b"<html><body>502 Bad Gateway</body></html>", 0, "not JSON: '<html>"),
    (b"{}", 0, "expected 'predictions' with one entry per image (1)"),
    (json.dumps({"predictions": [dict(GOOD_LINE, predicted_class=7)]}).encode(), 0, "predicted_class 7 is not one of the 2 classes"),
    (json.dumps({"predictions": [GOOD_LINE, GOOD_LINE]}).encode(), 0, "one entry per image (1)"),
    (json.dumps({"predictions": [GOOD_LINE]}).encode(), 3.0, "did not answer within 1 s"),
])
def test_predict_against_a_broken_server_is_one_clear_error(body, delay, message, tmp_path):
    image = tmp_path / "x.png"
    image.write_bytes(tf.io.encode_png(np.zeros((28, 28, 1), np.uint8)).numpy())
    BrokenServer.body, BrokenServer.delay = body, delay
    server = HTTPServer(("127.0.0.1", 0), BrokenServer)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    try:
        result = CliRunner().invoke(cli, ["predict", "--server", f"http://127.0.0.1:{server.server_port}", "--model", "m",
                                          "--timeout", "1", str(image)])
    finally:
        thread.join(10)
        server.server_close()
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_an_export_removes_a_killed_exports_staging_folder_and_refuses_a_concurrent_one(model, tmp_path):
    from hypergan_tf.export.saved_model import export_lock

    out = tmp_path / "exports"
    leftover = out / ".1.partial-killed"
    (leftover / "variables").mkdir(parents=True)  # what SIGKILL during tf.saved_model.save leaves
    with export_lock(out):  # another export is running
        with pytest.raises(HyperganError, match="another hypergan-tf export is writing into"):
            export_saved_model(model, out, ensemble_size=1)
    assert leftover.exists() and not (out / "1").exists()
    assert export_saved_model(model, out, ensemble_size=1).name == "1"
    assert sorted(p.name for p in out.iterdir()) == [".export.lock", "1"]


def test_a_write_that_cannot_fit_is_refused_before_it_starts(model, tmp_path):
    from hypergan_tf.atomic import check_free_space, save_weights

    with pytest.raises(HyperganError, match="free some disk space"):
        check_free_space(tmp_path / "x.weights.h5", 10**18)
    save_weights(model, tmp_path / "ok.weights.h5")  # the same check passes for a real file
    assert (tmp_path / "ok.weights.h5").stat().st_size > 0
