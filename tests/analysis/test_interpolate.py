import json

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import train_tiny_run
from hypergan_tf.analysis import metrics
from hypergan_tf.analysis.interpolate import endpoints_by_index, great_circle, interpolate, line, noise_networks, weight_line
from hypergan_tf.analysis.predict import predict_probabilities
from hypergan_tf.runs import load_run, load_test_split
from hypergan_tf.samplers import fixed_noise
from hypergan_tf_cli.main import cli


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    return train_tiny_run(tmp_path_factory.mktemp("interpolate") / "run", steps=30)


@pytest.fixture(scope="module")
def opened(tiny_run):
    config, model = load_run(tiny_run)
    return model, load_test_split(config)


@pytest.fixture(scope="module")
def ensemble_run(tmp_path_factory):
    """A random-start ensemble of 2 members (no latent space)."""
    run_dir = tmp_path_factory.mktemp("interpolate") / "ensemble"
    result = run("baseline", "--method", "ensemble", "--members", "2", "--dataset", "digits", "--run-dir", run_dir,
                 "--steps", "20", "--batch-size", "32")
    assert result.exit_code == 0, result.output
    return run_dir


def test_line_and_great_circle_are_exact_at_the_endpoints_and_the_circle_keeps_to_the_norm_path():
    a, b = fixed_noise(1, 64, 1)[0], 2.0 * fixed_noise(1, 64, 2)[0]
    t = np.linspace(0, 1, 11)
    straight, circle = line(a, b, t), great_circle(a, b, t)
    for path in (straight, circle):
        np.testing.assert_array_equal(path[0], a)
        np.testing.assert_array_equal(path[-1], b)
    # The circle's norm moves linearly from |a| to |b|; the line's dips below it in between.
    expected = (1 - t) * np.linalg.norm(a) + t * np.linalg.norm(b)
    np.testing.assert_allclose(np.linalg.norm(circle, axis=1), expected, rtol=1e-5)
    assert np.linalg.norm(straight[5]) < 0.85 * expected[5]
    # Its direction moves at a constant angle per step along the arc from a to b.
    units = circle / np.linalg.norm(circle, axis=1, keepdims=True)
    steps = np.arccos(np.clip(np.sum(units[1:] * units[:-1], axis=1), -1, 1))
    np.testing.assert_allclose(steps, steps.mean(), rtol=1e-3)
    total = np.arccos(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b))
    np.testing.assert_allclose(steps.sum(), total, rtol=1e-4)


def test_weight_line_is_the_two_networks_at_its_ends_and_their_mean_in_the_middle(opened):
    model, _ = opened
    a, b, _, _ = endpoints_by_index(model, 0, 1)
    path = weight_line(a, b, np.linspace(0, 1, 5))
    for name in a:
        np.testing.assert_array_equal(path[name][0], a[name])
        np.testing.assert_array_equal(path[name][-1], b[name])
        np.testing.assert_allclose(path[name][2], (a[name] + b[name]) / 2, rtol=1e-6, atol=1e-7)
    assert not np.allclose(a["conv1/kernel"], b["conv1/kernel"])


def test_endpoints_are_the_sampled_networks_and_score_as_they_do(opened):
    model, data = opened
    result = interpolate(model, data, points=5, from_index=2, to_index=0)
    sampled = model.sample_networks(3)
    accuracy = metrics.per_network_accuracy(predict_probabilities(model, data.test_images, sampled), data.test_labels)
    for name in ("noise_line", "noise_circle", "weight_line"):
        assert result["paths"][name]["endpoint_accuracy"] == pytest.approx([accuracy[2], accuracy[0]], abs=1e-9), name
        assert len(result["paths"][name]["accuracy"]) == len(result["paths"][name]["nll"]) == 5
    # The noise line's first and last networks are the endpoint networks' weights.
    noise = fixed_noise(3, model.noise_dim)
    ends = noise_networks(model, line(noise[2], noise[0], np.linspace(0, 1, 5))[[0, -1]])
    for name, value in ends.items():
        np.testing.assert_allclose(value, sampled[name][[2, 0]], rtol=1e-5, atol=1e-6)
    assert result["endpoints"]["from"] == {"index": 2, "network_seed": 12345}
    assert result["paths"]["weight_line"]["worst_accuracy"] == min(result["paths"]["weight_line"]["accuracy"])


def test_seeds_pick_the_first_noise_row_of_each_seed(opened):
    model, data = opened
    result = interpolate(model, data, points=2, path="line", from_seed=7, to_seed=8)
    ends = noise_networks(model, np.concatenate([fixed_noise(1, model.noise_dim, 7), fixed_noise(1, model.noise_dim, 8)]))
    accuracy = metrics.per_network_accuracy(predict_probabilities(model, data.test_images, ends), data.test_labels)
    assert result["paths"]["noise_line"]["accuracy"] == pytest.approx(accuracy.tolist(), abs=1e-9)
    assert set(result["paths"]) == {"noise_line", "weight_line"}


def test_cli_writes_json_and_plot_with_a_baseline_path(tiny_run, ensemble_run, tmp_path):
    json_path, plot_path = tmp_path / "i.json", tmp_path / "i.png"
    result = run("interpolate", tiny_run, "--points", "3", "--baseline-run", ensemble_run, "--json", json_path, "--plot", plot_path)
    assert result.exit_code == 0, result.output
    report = json.loads(json_path.read_text())
    assert set(report["paths"]) == {"noise_line", "noise_circle", "weight_line", "baseline_weight_line"}
    assert report["t"] == [0.0, 0.5, 1.0] and report["baseline"]["from_index"] == 0
    assert plot_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "worst point, weight space, two random-start members" in result.output


def test_cli_default_files_go_into_the_run(tiny_run):
    result = run("interpolate", tiny_run, "--points", "2", "--path", "circle")
    assert result.exit_code == 0, result.output
    assert set(json.loads((tiny_run / "interpolation.json").read_text())["paths"]) == {"noise_circle", "weight_line"}
    assert (tiny_run / "interpolation.png").is_file()


def test_a_baseline_run_alone_has_the_weight_path_only(ensemble_run, tmp_path):
    result = run("interpolate", ensemble_run, "--path", "weight", "--points", "3", "--json", tmp_path / "e.json", "--plot", tmp_path / "e.png")
    assert result.exit_code == 0, result.output
    assert set(json.loads((tmp_path / "e.json").read_text())["paths"]) == {"weight_line"}


BAD = {
    "one point": (lambda r, e: ["interpolate", r, "--points", "1"], "--points must be at least 2"),
    "one seed": (lambda r, e: ["interpolate", r, "--from-seed", "1"], "give both --from-seed and --to-seed"),
    "seeds and indices": (lambda r, e: ["interpolate", r, "--from-seed", "1", "--to-seed", "2", "--from-index", "0"], "not both"),
    "negative seed": (lambda r, e: ["interpolate", r, "--from-seed", "-1", "--to-seed", "2"], "-1 is not in the range x>=0"),
    "negative index": (lambda r, e: ["interpolate", r, "--from-index", "-1"], "must be >= 0"),
    "index beyond the members": (lambda r, e: ["interpolate", e, "--path", "weight", "--to-index", "2"], "has 2 network(s): indices run from 0 to 1"),
    "noise path without a latent space": (lambda r, e: ["interpolate", e], "has no latent space, so there is no noise path; use --path weight"),
    "seeds with the weight path": (lambda r, e: ["interpolate", r, "--path", "weight", "--from-seed", "1", "--to-seed", "2"], "--from-index/--to-index"),
    "baseline index beyond its members": (lambda r, e: ["interpolate", r, "--baseline-run", e, "--to-index", "5"], "indices run from 0 to 1"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_options_give_one_error_line_and_write_nothing(case, tiny_run, ensemble_run):
    make_args, message = BAD[case]
    before = {run_dir: sorted(p.name for p in run_dir.rglob("*")) for run_dir in (tiny_run, ensemble_run)}
    result = run(*make_args(tiny_run, ensemble_run))
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: ") and message in result.output, result.output
    assert "Traceback" not in result.output
    for run_dir, names in before.items():
        assert sorted(p.name for p in run_dir.rglob("*")) == names

