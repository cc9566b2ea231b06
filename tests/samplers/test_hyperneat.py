"""HyperNEAT: CPPNs evolved by neat-python paint the target network from its geometry."""

import json

import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

from conftest import make_idx_dataset
from hypergan_tf.config import TrainConfig
from hypergan_tf.data import load_dataset
from hypergan_tf.data.pipelines import as_inputs
from hypergan_tf.objectives.fitness import FITNESS
from hypergan_tf.runs import load_run, load_test_split
from hypergan_tf.samplers import HyperNEAT
from hypergan_tf.samplers.hyperneat import CPPN, Substrate, load_genomes
from hypergan_tf.targets import Conv, Dense, TargetSpec
from hypergan_tf.training.evolution import PopulationScorer, neat_config
from hypergan_tf_cli.main import cli

# Both layer kinds, and a dense layer reading a conv's feature map: 28 -> 24 -> 12 -> 10 -> 5.
TINY_TARGET = TargetSpec("tiny", (28, 28, 1), 10, (Conv("c1", 4, kernel_size=5), Conv("c2", 3, kernel_size=3),
                                                   Dense("out", 10, activation=None)))


def evolved_genomes(count: int, mutations: int = 8, seed: int = 0):
    """`count` neat-python genomes of CPPNs for TINY_TARGET, each mutated `mutations` times
    (hidden nodes, new connections, other activations), and their neat-python config."""
    import neat

    config = neat_config(TrainConfig(method="hyperneat", population=max(count, 2), seed=seed), Substrate.num_inputs(TINY_TARGET))
    genomes = list(neat.Population(config, seed=seed).population.items())[:count]  # sets up NEAT's innovation numbers
    for _, genome in genomes:
        for _ in range(mutations):
            genome.mutate(config.genome_config)
    return genomes, config


def test_numpy_cppn_equals_neat_pythons_activate():
    """The vectorised CPPN gives neat-python's own outputs, row by row."""
    import neat

    genomes, config = evolved_genomes(6)
    inputs = Substrate(TINY_TARGET).inputs[::97]  # a spread of real substrate rows
    assert any(len(genome.nodes) > 2 for _, genome in genomes)  # hidden nodes were added
    for _, genome in genomes:
        network = neat.nn.FeedForwardNetwork.create(genome, config)
        expected = np.array([network.activate(row.tolist()) for row in inputs])
        np.testing.assert_allclose(CPPN.from_genome(genome, config)(inputs), expected, rtol=1e-6, atol=1e-9)


def test_the_substrate_places_each_kernel_entry_at_its_connection():
    """A CPPN that returns one input as the weight paints that coordinate: conv entries by
    offset and channels, the dense layer by its input's (y, x, channel) in the flattened map."""
    substrate = Substrate(TINY_TARGET)

    def painting(input_index):  # weight = input `input_index`, bias = destination channel
        cppn = CPPN(list(range(-1, -11, -1)), [0, 1], [(0, "identity", 0.0, 1.0, [(-1 - input_index, 1.0)]),
                                                      (1, "identity", 0.0, 1.0, [(-6, 1.0)])])
        return substrate.query(cppn)

    scale = {layer.name: 1.0 for layer in TINY_TARGET.layers}
    dy = painting(0)["c1/kernel"] / scale["c1"]  # source y: the kernel row offset
    np.testing.assert_allclose(dy[:, 2, 0, 3], [-1, -0.5, 0, 0.5, 1], atol=1e-6)
    c_out = painting(5)["c2/kernel"] / scale["c2"]  # destination channel
    np.testing.assert_allclose(c_out[1, 1, 0], [-1, 0, 1], atol=1e-6)
    np.testing.assert_allclose(painting(5)["out/bias"], np.linspace(-1, 1, 10), atol=1e-6)
    # out reads c2's 5x5x3 map flattened channel-last: row i is (y, x, c) = unravel(i).
    source = np.stack([painting(i)["out/kernel"][:, 0] / scale["out"] for i in range(3)], axis=-1)
    y, x, c = np.unravel_index(np.arange(75), (5, 5, 3))
    np.testing.assert_allclose(source, np.stack([y / 2 - 1, x / 2 - 1, c - 1.0], axis=-1), atol=1e-6)
    one_hot = painting(7 + 2)["out/kernel"] / scale["out"]  # the third layer's one-hot input
    np.testing.assert_allclose(one_hot, 1.0, rtol=1e-6)
    assert np.all(painting(7 + 2)["c1/kernel"] == 0.0)


def test_painted_kernels_are_standardised_per_unit_at_he_scale():
    genomes, config = evolved_genomes(2)
    substrate = Substrate(TINY_TARGET)
    for _, genome in genomes:
        cppn = CPPN.from_genome(genome, config)
        painted, raw = substrate.paint(cppn), substrate.query(cppn)
        for layer in TINY_TARGET.layers:
            per_unit = painted[f"{layer.name}/kernel"].reshape(-1, layer.units)
            constant = raw[f"{layer.name}/kernel"].reshape(-1, layer.units).std(0) < 1e-6  # a unit the CPPN paints flat: all zero
            np.testing.assert_allclose(per_unit.mean(0), 0.0, atol=1e-5)
            np.testing.assert_allclose(per_unit.std(0)[~constant], np.sqrt(2.0 / layer.fan_in), rtol=1e-3)
            np.testing.assert_allclose(painted[f"{layer.name}/bias"], raw[f"{layer.name}/bias"], rtol=1e-6)


def test_population_in_one_forward_pass_equals_a_loop_over_networks():
    """Painting P genomes into [P, ...] arrays and scoring them in one batched pass gives the
    per-network reference: the same logits as forward_loop and each genome's own forward."""
    genomes, config = evolved_genomes(5)
    sampler = HyperNEAT(TINY_TARGET, networks=2, input_mean=0.2, input_std=0.3)
    data = load_dataset("digits")
    images, labels = tf.constant(as_inputs(data.train_images[:16])), data.train_labels[:16]
    scorer = PopulationScorer(sampler, sampler.substrate, "cross-entropy")
    scorer.images, scorer.labels = images, labels
    scorer(genomes, config)
    cppns = [CPPN.from_genome(genome, config) for _, genome in genomes]
    stacked = {name: tf.constant(value) for name, value in sampler.substrate.paint_all(cppns).items()}
    pixels = (images - 0.2) / 0.3
    batched = TINY_TARGET.forward(pixels, stacked)
    np.testing.assert_allclose(batched, TINY_TARGET.forward_loop(pixels, stacked), rtol=1e-4, atol=1e-4)
    for (_, genome), cppn, logits in zip(genomes, cppns, batched):
        one = {name: tf.constant(value[None]) for name, value in sampler.substrate.paint(cppn).items()}
        alone = TINY_TARGET.forward_loop(pixels, one)[0]
        np.testing.assert_allclose(logits, alone, rtol=1e-4, atol=1e-4)
        assert genome.fitness == pytest.approx(float(FITNESS["cross-entropy"](alone[None], labels)[0]), abs=1e-4)



def test_genomes_round_trip_through_json_and_repaint_the_same_network():
    genomes, config = evolved_genomes(3)
    substrate = Substrate(TINY_TARGET)
    for _, genome in genomes:
        cppn = CPPN.from_genome(genome, config)
        again = CPPN.from_json(json.loads(json.dumps(cppn.to_json())))
        for name, value in substrate.paint(cppn).items():
            np.testing.assert_array_equal(substrate.paint(again)[name], value)


# A geometric task: the class is the position of a bright band of rows (conftest), which a
# CPPN paints in one node (a Gaussian of source y minus the class's position) into a linear layer.
LINEAR_TARGET = TargetSpec("linear", (28, 28, 1), 10, (Dense("out", 10, activation=None),))
OPTIONS = ("--population", 24, "--generations", 5, "--batch-size", 100, "--kept-networks", 3)


def train_hyperneat(run_dir, *options):
    data = run_dir.parent / "data"
    if not data.exists():
        make_idx_dataset(data / "mnist", num_train=300, num_test=100)
    target = run_dir.parent / "linear.json"
    target.write_text(json.dumps(LINEAR_TARGET.to_config()))
    return CliRunner().invoke(cli, ["train", "--method", "hyperneat", "--dataset", "mnist", "--data-dir", str(data), "--target", str(target),
                                    "--run-dir", str(run_dir), *map(str, options)])


@pytest.fixture(scope="module")
def evolved_run(tmp_path_factory):
    """Five generations of 24 CPPNs (seconds)."""
    run_dir = tmp_path_factory.mktemp("hyperneat") / "run"
    result = train_hyperneat(run_dir, *OPTIONS)
    assert result.exit_code == 0, result.output
    return run_dir, result.output


def test_a_few_generations_beat_chance_and_raise_fitness(evolved_run):
    run_dir, output = evolved_run
    summary = json.loads((run_dir / "train_summary.json").read_text())
    history = summary["history"]
    assert len(history["best_fitness"]) == 5 and "trained 5 generations" in output
    assert max(history["best_fitness"][1:]) > history["best_fitness"][0]  # evolution improves on the random start
    assert history["best_fitness"][-1] > 0.25  # chance: 0.1 (10 classes)
    _, sampler = load_run(run_dir)
    test = load_dataset("mnist", run_dir.parent / "data")
    probabilities = tf.nn.softmax(sampler.classify(as_inputs(test.test_images), sampler.network_weights(1))[0]).numpy()
    assert np.mean(probabilities.argmax(-1) == test.test_labels) > 0.25  # the best network on the 100 test images


def test_the_run_reloads_evaluates_and_repaints_from_its_json_genomes(evolved_run, tmp_path):
    run_dir, _ = evolved_run
    config, sampler = load_run(run_dir)
    assert isinstance(sampler, HyperNEAT) and sampler.max_networks == 3 and sampler.noise_dim is None
    weights = sampler.sample_networks(3)
    # The genome file repaints exactly the stored networks, best first.
    genomes = load_genomes(run_dir / "hyperneat_genomes.json")
    # The generation champions best on the validation split, best first (then, if fewer
    # distinct champions than kept networks, the last generation's fittest, never validated).
    scored = [g.val_accuracy for g in genomes if g.val_accuracy is not None]
    assert scored == sorted(scored, reverse=True) and [g.val_accuracy for g in genomes][: len(scored)] == scored
    history = json.loads((run_dir / "train_summary.json").read_text())["history"]
    assert genomes[0].val_accuracy == max(history["val_accuracy"])
    for name, value in Substrate(sampler.target).paint_all(genomes).items():
        np.testing.assert_array_equal(weights[name], value)
    # The best network as plain Keras: the same probabilities.
    test = load_test_split(config)
    images = test.test_images[:20]
    keras_model = sampler.target.to_keras(weights, 0, sampler.input_mean, sampler.input_std)
    ours = tf.nn.softmax(sampler.classify(as_inputs(images), {k: v[:1] for k, v in weights.items()})[0])
    np.testing.assert_allclose(keras_model(as_inputs(images)), ours, rtol=1e-4, atol=1e-5)
    result = CliRunner().invoke(cli, ["evaluate", str(run_dir), "--num-networks", "3", "--ensemble-sizes", "1,3",
                                      "--json", str(tmp_path / "e.json")])
    assert result.exit_code == 0, result.output
    evaluation = json.loads((tmp_path / "e.json").read_text())
    assert evaluation["single_network"]["num_networks"] == 3 and set(evaluation["ensembles"]) == {"1", "3"}


def test_an_unfinished_run_is_refused_and_overwrite_evolves_it_again(evolved_run):
    import shutil

    copy = evolved_run[0].parent / "unfinished"  # beside it: the same --target file and data
    shutil.copytree(evolved_run[0], copy)
    (copy / "model.weights.h5").unlink()
    result = train_hyperneat(copy, *OPTIONS)
    assert result.exit_code == 2 and "unfinished HyperNEAT run" in result.output and "--overwrite" in result.output
    again = train_hyperneat(copy, *OPTIONS, "--overwrite")
    assert again.exit_code == 0, again.output
    # The same seed evolves the same genomes.
    assert (copy / "hyperneat_genomes.json").read_text() == (evolved_run[0] / "hyperneat_genomes.json").read_text()
