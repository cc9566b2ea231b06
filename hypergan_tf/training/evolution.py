"""Training by evolution: NEAT (neat-python) evolves the CPPNs of a HyperNEAT sampler.

Every generation, each of the `--population` genomes paints a whole target network
(samplers/hyperneat.py); the P networks are scored in one batched forward pass of the
target (`TargetSpec.forward`, logits [P, B, C]) on that generation's batch of
`--batch-size` training images, and the score (`--fitness`, objectives/fitness.py) is
the genome's fitness. NEAT then breeds the next generation (speciation, crossover,
mutations that add nodes and connections). Each generation's fittest genome is scored on
held-out images; after `--generations`, the `--kept-networks` of these champions with the
best validation accuracy, best first, are the run's networks (without a validation split:
the fittest genomes of the last generation).

Writes the run directory as gradient training does (runs/directory.py): config.json
first, TensorBoard scalars per generation under logs/evolution (best and mean fitness,
species, the best CPPN's size, the best network's validation accuracy), then
model.weights.h5 (the painted networks), hyperneat_genomes.json (their genomes, JSON)
and train_summary.json. Evolution keeps no backups: an interrupted run is not resumed
but refused, and evolved again with --overwrite.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from hypergan_tf.analysis.metrics import accuracy, l2_std_over_mean, per_network_accuracy
from hypergan_tf.analysis.predict import predict_probabilities
from hypergan_tf.atomic import save_weights, write_json
from hypergan_tf.config import TrainConfig
from hypergan_tf.data.pipelines import as_inputs
from hypergan_tf.errors import HyperganError
from hypergan_tf.objectives.fitness import FITNESS
from hypergan_tf.progress import ProgressLines
from hypergan_tf.runs.directory import CONFIG_FILE, GENOMES_FILE, LOGS, SUMMARY_FILE, WEIGHTS_FILE
from hypergan_tf.samplers import build_sampler
from hypergan_tf.samplers.hyperneat import ACTIVATIONS, CPPN, Substrate, genomes_json
from hypergan_tf.training.loop import prepare_data, prepare_run_dir

# NEAT's settings for CPPNs (neat-python's config file sections). Fully connected start
# (every input to both outputs), the CPPN activations of Stanley (2007), sum aggregation
# (what CPPN.__call__ evaluates); the rest are neat-python's example values.
NEAT_SETTINGS = {
    "DefaultGenome": {
        "activation_default": "random", "activation_mutate_rate": 0.1, "activation_options": " ".join(ACTIVATIONS),
        "aggregation_default": "sum", "aggregation_mutate_rate": 0.0, "aggregation_options": "sum",
        "bias_init_mean": 0.0, "bias_init_stdev": 1.0, "bias_init_type": "gaussian", "bias_max_value": 30.0, "bias_min_value": -30.0,
        "bias_mutate_power": 0.5, "bias_mutate_rate": 0.7, "bias_replace_rate": 0.1,
        "compatibility_disjoint_coefficient": 1.0, "compatibility_weight_coefficient": 0.5,
        "conn_add_prob": 0.5, "conn_delete_prob": 0.2, "node_add_prob": 0.2, "node_delete_prob": 0.1,
        "enabled_default": True, "enabled_mutate_rate": 0.01, "enabled_rate_to_true_add": 0.0, "enabled_rate_to_false_add": 0.0,
        "feed_forward": True, "initial_connection": "full_direct", "num_hidden": 0, "num_outputs": 2,
        "response_init_mean": 1.0, "response_init_stdev": 0.0, "response_init_type": "gaussian", "response_max_value": 30.0,
        "response_min_value": -30.0, "response_mutate_power": 0.0, "response_mutate_rate": 0.0, "response_replace_rate": 0.0,
        "weight_init_mean": 0.0, "weight_init_stdev": 1.0, "weight_init_type": "gaussian", "weight_max_value": 30.0,
        "weight_min_value": -30.0, "weight_mutate_power": 0.5, "weight_mutate_rate": 0.8, "weight_replace_rate": 0.1,
        "single_structural_mutation": False, "structural_mutation_surer": "default",
    },
    "DefaultSpeciesSet": {"compatibility_threshold": 3.0},
    "DefaultStagnation": {"species_fitness_func": "max", "max_stagnation": 15, "species_elitism": 2},
    "DefaultReproduction": {"elitism": 2, "survival_threshold": 0.2, "min_species_size": 2},
}


def neat_config(config: TrainConfig, num_inputs: int):
    """neat-python's Config for `config` (population size, seed) and CPPNs of `num_inputs` inputs."""
    import neat

    sections = {"NEAT": {"fitness_criterion": "max", "fitness_threshold": 1e9, "pop_size": config.population,
                         "reset_on_extinction": True, "no_fitness_termination": True, "seed": config.seed},
                **NEAT_SETTINGS}
    sections["DefaultGenome"] = {**sections["DefaultGenome"], "num_inputs": num_inputs}
    text = "".join(f"[{name}]\n" + "".join(f"{key} = {value}\n" for key, value in values.items()) + "\n"
                   for name, values in sections.items())
    with tempfile.TemporaryDirectory() as folder:  # neat-python reads its configuration from a file
        path = Path(folder) / "neat.ini"
        path.write_text(text)
        return neat.Config(neat.DefaultGenome, neat.DefaultReproduction, neat.DefaultSpeciesSet, neat.DefaultStagnation, str(path))


# Each generation's fittest network is scored on this many held-out images (the TensorBoard
# curve; on MNIST the whole 5,000 would cost mnist-small more than the generation itself);
# the kept networks on the whole validation split at the end.
VALIDATION_PER_GENERATION = 1000


class PopulationScorer:
    """neat-python's fitness function: paints every genome of a generation and scores the
    P networks in one batched forward pass on the generation's batch."""

    def __init__(self, sampler, substrate: Substrate, fitness: str):
        self.sampler, self.substrate, self.fitness = sampler, substrate, FITNESS[fitness]
        self.images = self.labels = None
        self.scored: list[tuple[CPPN, float]] = []  # the last generation's genomes and fitness

    def __call__(self, genomes, neat_config) -> None:
        cppns = [CPPN.from_genome(genome, neat_config) for _, genome in genomes]
        weights = self.substrate.paint_all(cppns)
        logits = self.sampler.classify(self.images, {name: tf.constant(value) for name, value in weights.items()})
        scores = self.fitness(logits, self.labels)
        for (_, genome), cppn, score in zip(genomes, cppns, scores):
            genome.fitness = cppn.fitness = float(score)
        self.scored = list(zip(cppns, [float(s) for s in scores]))

    def best(self, count: int) -> list[CPPN]:
        """The `count` fittest genomes of the last generation, best first."""
        return [cppn for cppn, _ in sorted(self.scored, key=lambda pair: -pair[1])[:count]]


def evolve(config: TrainConfig, run_dir: Path, data_dir, overwrite: bool, verbose: int) -> dict:
    """Evolve the HyperNEAT sampler `config` describes into `run_dir` (RUN/.lock held)."""
    import neat

    config, data, (train_x, train_y), (val_x, val_y) = prepare_data(config, data_dir)
    if data.task != "classification":
        raise HyperganError(f"--method hyperneat evolves classifiers (fitness: {config.fitness}), but {config.dataset} is a "
                            f"{data.task} data set; choose a classification data set")
    if config.batch_size > len(train_y):
        raise HyperganError(f"--batch-size {config.batch_size} is larger than the {len(train_y)} training examples")
    unfinished = (run_dir / CONFIG_FILE).exists() and not overwrite
    prepare_run_dir(run_dir, config, overwrite)  # refuses another configuration or a finished run
    if unfinished:
        raise HyperganError(f"{run_dir} holds an unfinished HyperNEAT run of this configuration; evolution keeps no backups "
                            "to resume from: pass --overwrite to evolve it again")
    config.save(run_dir / CONFIG_FILE)

    sampler = build_sampler(config)
    substrate = sampler.substrate
    scorer = PopulationScorer(sampler, substrate, config.fitness)
    population = neat.Population(neat_config(config, Substrate.num_inputs(sampler.target)), seed=config.seed)
    rng = np.random.default_rng(config.seed)
    writer = tf.summary.create_file_writer(str(run_dir / LOGS / "evolution"))
    progress = ProgressLines("generation")
    history: dict[str, list[float]] = {"best_fitness": [], "mean_fitness": [], "species": [], "val_accuracy": [], "seconds": []}
    champions: list[CPPN] = []  # each generation's fittest genome, with its validation accuracy
    started = time.perf_counter()
    for generation in range(1, config.generations + 1):
        batch = rng.choice(len(train_y), config.batch_size, replace=False)
        scorer.images, scorer.labels = tf.constant(as_inputs(train_x[batch])), train_y[batch]
        population.run(scorer, 1)  # evaluates this generation, then breeds the next
        fitness = [score for _, score in scorer.scored]
        best = scorer.best(1)[0]
        values = {"best_fitness": max(fitness), "mean_fitness": float(np.mean(fitness)),
                  "species": float(len(population.species.species))}
        if len(val_y):
            watched = slice(0, VALIDATION_PER_GENERATION)
            values["val_accuracy"] = best.val_accuracy = float(
                per_network_accuracy(predict_probabilities(sampler, val_x[watched], substrate.paint_all([best]), image_batch=config.batch_size), val_y[watched])[0])
            champions.append(best)
        values["seconds"] = time.perf_counter() - started  # wall time since evolution began
        with writer.as_default():
            for name, value in values.items():
                tf.summary.scalar(f"evolution/{name}", value, step=generation)
                history[name].append(float(value))
            for name, value in best.size.items():
                tf.summary.scalar(f"best_cppn/{name}", value, step=generation)
        line = progress.update(generation, config.generations)
        if verbose and line:
            print(line + f"; best fitness {values['best_fitness']:.4f}" +
                  (f", validation accuracy {values['val_accuracy']:.4f}" if "val_accuracy" in values else ""), flush=True)
    seconds = time.perf_counter() - started
    writer.flush()

    # With a validation split, the kept networks are the generations' champions that did best
    # on it (a fitness batch is small: the last generation's fittest is partly luck);
    # without one, the last generation's fittest.
    # A champion often wins several generations (elitism keeps it): each genome once.
    candidates = (sorted(champions, key=lambda cppn: -cppn.val_accuracy) if len(val_y) else []) + scorer.best(config.population)
    kept, seen = [], set()
    for cppn in candidates:
        if repr(cppn.nodes) not in seen and len(kept) < config.kept_networks:
            seen.add(repr(cppn.nodes))
            kept.append(cppn)
    sampler.set_genomes(kept)
    save_weights(sampler, run_dir / WEIGHTS_FILE)
    write_json(run_dir / GENOMES_FILE, genomes_json(kept))
    final = {"best_fitness": history["best_fitness"][-1], "mean_fitness": history["mean_fitness"][-1]}
    if len(val_y):
        probabilities = predict_probabilities(sampler, val_x, sampler.sample_networks(config.kept_networks), image_batch=config.batch_size)
        members = per_network_accuracy(probabilities, val_y)
        final.update({"val_accuracy": float(members.mean()), "val_best_accuracy": float(members[0]),
                      "val_ensemble_accuracy": accuracy(probabilities.mean(axis=0), val_y)})
    summary = {
        "dataset": config.dataset,
        "data_source": data.source,
        "steps": config.generations,
        "unit": "generations",
        "resumed": False,
        "replicas": 1,
        "train_seconds": round(seconds, 1),
        "final": final,
        "kept_epoch": None,
        "history": history,  # per generation
        "diversity_l2_std_over_mean": l2_std_over_mean(sampler.sample_networks(config.kept_networks)) if config.kept_networks > 1 else {},
        "diversity_modulo_scaling": {},
        "parameters": sampler.parameter_counts(),
        "validation_networks": config.kept_networks,
    }
    write_json(run_dir / SUMMARY_FILE, summary)
    return summary
