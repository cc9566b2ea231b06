"""The analysis commands: evaluate, ood, attack, diversity and report. Each opens the run
(runs/) and its data, then calls the analysis function on the sampler."""

from __future__ import annotations

import time
from pathlib import Path

import click

from hypergan_tf.analysis.attacks import attack as run_attack
from hypergan_tf.analysis.diversity import FEATURE_IMAGES, FEATURE_NETWORKS, feature_similarity, layer_table
from hypergan_tf.analysis.evaluate import evaluate_task
from hypergan_tf.analysis.ood import ood as run_ood
from hypergan_tf.analysis.report import write_report
from hypergan_tf.data import DATASETS, OOD_PARTNERS, ood_partner
from hypergan_tf.data.pipelines import as_inputs
from hypergan_tf.errors import HyperganError
from hypergan_tf.runs import load_run, load_test_split, require_task
from hypergan_tf.runs.directory import DIVERSITY_FILE, EVALUATION_FILE, EVALUATION_PLOTS, attack_files, ood_files
from hypergan_tf.samplers import NETWORK_SEED
from hypergan_tf_cli.common import SEED, epsilon_list, folder_name, int_list, progress_bar, result_paths, row, writable, write_result


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--dataset", type=click.Choice(DATASETS), default=None, help="Test split to use (default: the run's data set).")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None)
@click.option("--ensemble-sizes", default="1,5,10,100", show_default=True, callback=lambda c, p, v: int_list(v),
              help="Classification runs; a regression run's ensemble is all --num-networks networks.")
@click.option("--num-networks", type=int, default=100, show_default=True, help="Networks sampled for single-network statistics.")
@click.option("--seed", type=SEED, default=NETWORK_SEED, show_default=True, help="Seed of the sampled networks (export and sample draw the same ones).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None, help="Write the results here (default: RUN/evaluation.json).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Its figure, a PNG: the reliability diagram, or a regression run's fit with +-2 std "
                   "(default: RUN/reliability.png or RUN/regression.png; beside --json when that is given).")
def evaluate(run_dir, dataset, data_dir, ensemble_sizes, num_networks, seed, json_path, plot_path):
    """Test accuracy of single sampled networks and of ensembles, calibration and diversity
    (a regression run: RMSE and predictive std inside and outside the training range)."""
    config, model = load_run(run_dir)
    data = load_test_split(config, dataset, data_dir)
    path, plot_path = result_paths(run_dir, json_path, plot_path, EVALUATION_FILE, EVALUATION_PLOTS[data.task])
    with progress_bar("evaluating") as progress:
        result = evaluate_task(model, data, ensemble_sizes, num_networks, seed, progress, plot_path)
    PRINTERS[data.task](result, plot_path)
    write_result(path, result)
    click.echo(f"wrote {path}")


def _print_classification(result: dict, plot: Path) -> None:
    single = result["single_network"]
    click.echo(f"dataset {result['dataset']}, {result['num_test_examples']} test examples")
    click.echo(f"single network: accuracy {single['accuracy_mean']:.4f} +- {single['accuracy_std']:.4f} over {single['num_networks']} networks")
    widths, formats = (9, 9, 8, 8, 8), (None, ".4f", ".4f", ".4f", ".4f")
    click.echo(row(("ensemble", "accuracy", "nll", "ece", "brier"), widths))
    for size, line in result["ensembles"].items():
        groups = line.get("accuracy_over_groups")
        over_groups = f"  (mean of {groups['num_groups']} disjoint ensembles {groups['mean']:.4f} +- {groups['std']:.4f})" if groups else ""
        click.echo(row((size, line["accuracy"], line["nll"], line["ece"], line["brier"]), widths, formats) + over_groups)
    diversity = result["diversity"]
    if single["num_networks"] > 1:
        click.echo(f"pairwise disagreement: {diversity['pairwise_disagreement']:.4f}")
    if diversity["ensemble_gain"]:
        click.echo("ensemble gain (ensemble - mean member accuracy): " + ", ".join(f"{k} networks {100 * v:+.2f} points" for k, v in diversity["ensemble_gain"].items()))
    if diversity["symmetry_aware"]:
        click.echo("symmetry-aware diversity (NN distance modulo scaling): " + ", ".join(f"{k} {v:.3f}" for k, v in diversity["symmetry_aware"].items()))
    if single["num_networks"] > 1:
        click.echo("L2 std/mean: " + ", ".join(f"{k} {v:.3f}" for k, v in diversity["l2_std_over_mean"].items()))


def _print_regression(result: dict, plot: Path) -> None:
    low, high = result["training_range"]
    click.echo(f"dataset {result['dataset']}, {result['num_test_examples']} test examples, {result['num_networks']} networks "
               f"(seed {result['seed']}), {result['likelihood']} likelihood, noise std {result['noise_std']:g}")
    widths, formats = (-18, 6, 8, 8, 8, 13, 15), (None, None, ".3f", ".3f", ".3f", ".3f", ".3f")
    click.echo(row(("region", "points", "rmse", "truth", "nll", "std networks", "std predictive"), widths))
    for name, label in (("inside", f"inside [{low:g}, {high:g}]"), ("outside", "outside"), ("all", "all")):
        line = result[name]
        click.echo(row((label, line["num_examples"], line["rmse"], line.get("rmse_to_truth", ""), line["nll"],
                        line["std_networks"], line["std_predictive"]), widths, formats))
    ratio = result["std_ratio_outside_inside"]
    click.echo(f"std outside / inside: networks {ratio['networks']:.2f}x, predictive (noise included) {ratio['predictive']:.2f}x")
    click.echo(f"plot: {plot}")


# Dataset.task -> how `evaluate` prints its result.
PRINTERS = {"classification": _print_classification, "regression": _print_regression}


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--out-dataset", type=click.Choice(DATASETS), default=None,
              help="Out-of-distribution test set (default: the run's data set's own: "
                   + ", ".join(f"{out} for {name}" for name, out in OOD_PARTNERS.items()) + ").")
@click.option("--ensemble-size", type=int, default=100, show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False), default=None)
@click.option("--seed", type=SEED, default=NETWORK_SEED, show_default=True, help="Seed of the sampled networks.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None, help="Default: RUN/ood_<out-dataset>.json.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Entropy density/CDF PNG (default: RUN/ood_<out-dataset>.png; beside --json when that is given).")
def ood(run_dir, out_dataset, ensemble_size, data_dir, seed, json_path, plot_path):
    """Out-of-distribution detection: AUROC/AUPR of entropy, variance and mutual information."""
    config, model = load_run(run_dir)
    require_task(config, "classification", "ood")
    out_dataset = out_dataset or ood_partner(config.dataset)
    inside, outside = load_test_split(config, data_dir=data_dir), load_test_split(config, out_dataset, data_dir)
    path, plot_path = result_paths(run_dir, json_path, plot_path, *ood_files(out_dataset))
    with progress_bar("scoring") as progress:
        result = run_ood(model, inside, outside, ensemble_size, seed, progress, plot_path)
    click.echo(f"in: {result['in_dataset']} ({result['num_in']}), out: {result['out_dataset']} ({result['num_out']}), "
               f"{result['ensemble_size']} networks")
    widths, formats = (19, 7, 7, 9, 9), (None, ".4f", ".4f", ".4f", ".4f")
    click.echo(row(("score", "AUROC", "AUPR", "mean in", "mean out"), widths))
    for name, line in result["scores"].items():
        click.echo(row((name, line["auroc"], line["aupr"], line["mean_in"], line["mean_out"]), widths, formats))
    click.echo("entropy AUROC of the first n networks: " + ", ".join(f"{n}: {auroc:.4f}" for n, auroc in result["entropy_auroc_by_ensemble_size"].items()))
    write_result(path, result)
    click.echo(f"wrote {path} and {plot_path}")


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--method", type=click.Choice(["fgsm", "pgd"]), default="fgsm", show_default=True)
@click.option("--epsilons", default="0.01,0.05,0.1,0.2,0.3", show_default=True, callback=lambda c, p, v: epsilon_list(v), help="L-inf sizes, pixels in [0, 1].")
@click.option("--ensemble-size", type=int, default=10, show_default=True)
@click.option("--num-examples", type=int, default=1000, show_default=True, help="First N images of the test split.")
@click.option("--steps", type=int, default=10, show_default=True, help="PGD iterations.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None)
@click.option("--seed", type=SEED, default=NETWORK_SEED, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None, help="Default: RUN/attack_<method>.json.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None,
              help="Default: RUN/attack_<method>.png; beside --json when that is given.")
def attack(run_dir, method, epsilons, ensemble_size, num_examples, steps, data_dir, seed, json_path, plot_path):
    """FGSM/PGD against the ensemble: accuracy, entropy and detection AUROC per epsilon."""
    config, model = load_run(run_dir)
    require_task(config, "classification", "attack")
    data = load_test_split(config, data_dir=data_dir)
    path, plot_path = result_paths(run_dir, json_path, plot_path, *attack_files(method))
    with progress_bar("attacking") as progress:
        result = run_attack(model, data, method, epsilons, ensemble_size, num_examples, steps, seed, progress=progress, plot=plot_path)
    clean = result["clean"]
    click.echo(f"{method.upper()} on {result['num_examples']} {result['dataset']} test images, {result['ensemble_size']} networks")
    widths, formats = (8, 9, 8, 7), (None, ".4f", ".4f", ".4f")
    click.echo(row(("epsilon", "accuracy", "entropy", "AUROC"), widths))
    click.echo(row(("clean", clean["accuracy"], clean["mean_entropy"], ""), widths, formats))
    for epsilon, line in result["epsilons"].items():
        click.echo(row((epsilon, line["accuracy"], line["mean_entropy"], line["auroc_entropy"]), widths, formats))
    write_result(path, result)
    click.echo(f"wrote {path} and {plot_path}")


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--num-networks", type=int, default=100, show_default=True)
@click.option("--seed", type=SEED, default=NETWORK_SEED, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None, help="Default: RUN/diversity.json.")
@click.option("--features", "feature_datasets", multiple=True, type=click.Choice(DATASETS),
              help=f"Also measure how alike the networks' features are (mean linear CKA of every pair of {FEATURE_NETWORKS} networks, "
                   f"per layer) on the first {FEATURE_IMAGES:,} test images of this data set (repeatable: e.g. the run's own and an "
                   "out-of-distribution one).")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None)
def diversity(run_dir, num_networks, seed, json_path, feature_datasets, data_dir):
    """The paper's Table 1 (per layer, mean and std of the sampled weights' L2 norms),
    and the diversity that survives removing the scaling symmetry."""
    if num_networks < 2:
        raise HyperganError("--num-networks must be at least 2 to measure spread")
    config, model = load_run(run_dir)
    num_networks = model.networks_available(num_networks)
    if num_networks < 2:
        raise HyperganError(f"this {model.describe()} has one network: there is no spread to measure")
    path = writable(Path(json_path) if json_path else Path(run_dir) / DIVERSITY_FILE)
    feature_data = [load_test_split(config, name, data_dir) for name in feature_datasets]  # bad names fail before any work
    weights = model.sample_networks(num_networks, seed)
    layers = layer_table(model.target, weights)
    widths, formats = (8, 9, 8, 9, 15), (None, ".3f", ".3f", ".3f", ".3f")
    click.echo(row(("layer", "L2 mean", "L2 std", "std/mean", "modulo scaling"), widths) + f"   ({num_networks} networks)")
    for layer, line in layers.items():
        click.echo(row((layer, line["l2_mean"], line["l2_std"], line["std_over_mean"], line["symmetry_aware"]), widths, formats))
    result = {"num_networks": num_networks, "layers": layers}
    if feature_data:
        first = {name: value[:FEATURE_NETWORKS] for name, value in weights.items()}
        result["feature_similarity"] = {data.name: feature_similarity(model, as_inputs(data.test_images[:FEATURE_IMAGES]), first) for data in feature_data}
        result["feature_images"] = min(FEATURE_IMAGES, *(len(data.test_labels) for data in feature_data))
        result["feature_networks"] = min(FEATURE_NETWORKS, num_networks)
        click.echo(f"feature similarity (mean linear CKA of {result['feature_networks']} networks' pairs; 1 = one representation):")
        click.echo(row(("data", *model.target.layer_names), (16,) + (9,) * len(layers)))
        for name, similarity in result["feature_similarity"].items():
            click.echo(row((name, *similarity.values()), (16,) + (9,) * len(layers), (None,) + (".3f",) * len(layers)))
    write_result(path, result)
    click.echo(f"wrote {path}")


@click.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--out", type=click.Path(file_okay=False), required=True, callback=folder_name, help="Folder for report.md and its plots.")
def report(run_dirs, out):
    """A Markdown report: accuracy, diversity, OOD and attack tables of several runs side by side."""
    click.echo(f"wrote {write_report(run_dirs, out)}")


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False, exists=True))
@click.option("--port", type=click.IntRange(0, 65535), default=6006, show_default=True, help="0 picks a free port.")
@click.option("--bind-all", is_flag=True, help="Serve on every network interface, not only localhost.")
def tensorboard(run_dir, port, bind_all):
    """TensorBoard on RUN/logs (or a folder of runs), without TensorFlow's start-up lines."""
    from tensorboard import program

    logdir = Path(run_dir) / "logs" if (Path(run_dir) / "logs").is_dir() else Path(run_dir)
    board = program.TensorBoard()
    argv = [None, "--logdir", str(logdir), "--port", str(port), "--load_fast", "false"] + (["--bind_all"] if bind_all else [])
    board.configure(argv=argv)
    click.echo(f"TensorBoard on {logdir}: {board.launch()} (Ctrl+C to stop)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
