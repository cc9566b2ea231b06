"""What the generated set of networks offers: interpolate (paths between two networks) and
distill (the ensemble in one ordinary network). Each opens the run (runs/) and its data,
then calls the analysis function on the sampler."""

from __future__ import annotations

from pathlib import Path

import click

from hypergan_tf.analysis.distill import DistillConfig, check_data, check_out
from hypergan_tf.analysis.distill import distill as run_distill
from hypergan_tf.analysis.interpolate import DEFAULT_POINTS, PATH_CHOICES, PATH_LABELS, check_options, plot_paths
from hypergan_tf.analysis.interpolate import interpolate as run_interpolation
from hypergan_tf.errors import HyperganError
from hypergan_tf.runs import load_run, load_test_split, load_training_data, require_task
from hypergan_tf.runs.directory import DISTILL_FILE, INTERPOLATION_FILE, INTERPOLATION_PLOT
from hypergan_tf_cli.common import SEED, progress_bar, result_paths, row, writable, write_result

DISTILL_DEFAULTS = DistillConfig()
COLUMNS = {"noise_line": "noise line", "noise_circle": "noise circle", "weight_line": "weight line",
           "baseline_weight_line": "random-start line"}  # table headings of the paths (17 characters at most)


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--from-seed", type=SEED, default=None, help="First endpoint: the noise vector fixed_noise(1, noise_dim, SEED)[0].")
@click.option("--to-seed", type=SEED, default=None, help="Second endpoint's noise seed.")
@click.option("--from-index", type=int, default=None, help="First endpoint: network i of the sample evaluate draws (default 0).")
@click.option("--to-index", type=int, default=None, help="Second endpoint: network j of that sample (default 1).")
@click.option("--points", type=int, default=DEFAULT_POINTS, show_default=True, help="Evenly spaced points from t=0 to t=1, endpoints included.")
@click.option("--path", "path", type=click.Choice(list(PATH_CHOICES)), default="both", show_default=True,
              help="Noise-space path(s): straight line, great circle, both, or none (weight: only the weight-space path).")
@click.option("--baseline-run", type=click.Path(file_okay=False), default=None,
              help="A `baseline --method ensemble` run: also the weight-space path between two of its members.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None, help="Default: RUN/interpolation.json.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None, help="Default: RUN/interpolation.png; beside --json when that is given.")
def interpolate(run_dir, from_seed, to_seed, from_index, to_index, points, path, baseline_run, data_dir, json_path, plot_path):
    """Test accuracy and loss of networks along a path between two networks: in noise space
    (line, great circle) and, for comparison, the straight line in weight space."""
    config, model = load_run(run_dir)
    require_task(config, "classification", "interpolate")  # accuracy and cross-entropy along the path
    baseline = None
    if baseline_run is not None:
        baseline_config, baseline = load_run(baseline_run)
        if baseline_config.dataset != config.dataset:
            raise HyperganError(f"--baseline-run {baseline_run} was trained on {baseline_config.dataset}, this run on {config.dataset}; "
                                "compare runs of the same data set")
    check_options(model, points, path, from_seed, to_seed, from_index, to_index, baseline)
    data = load_test_split(config, data_dir=data_dir)
    path_json, path_plot = result_paths(run_dir, json_path, plot_path, INTERPOLATION_FILE, INTERPOLATION_PLOT)
    with progress_bar("interpolating") as progress:
        result = run_interpolation(model, data, points, path, from_seed, to_seed, from_index, to_index, baseline,
                                   baseline_run, progress)
    ends = result["endpoints"]
    described = (f"seeds {ends['from']['seed']} and {ends['to']['seed']}" if "seed" in ends["from"]
                 else f"networks {ends['from']['index']} and {ends['to']['index']} (seed {ends['from']['network_seed']})")
    click.echo(f"{model.describe()}: {described}, {result['points']} points, {result['dataset']} test split "
               f"({result['num_test_examples']} images)")
    names = list(result["paths"])
    widths = (5, *[17 for _ in names])
    click.echo(row(("", *[COLUMNS[name] for name in names]), widths))
    click.echo(row(("t", *["accuracy     nll" for _ in names]), widths))
    for i, t in enumerate(result["t"]):
        cells = [f"{result['paths'][name]['accuracy'][i]:.4f} {result['paths'][name]['nll'][i]:8.4f}" for name in names]
        click.echo(row((f"{t:.2f}", *cells), widths))
    for name in names:
        line = result["paths"][name]
        click.echo(f"worst point, {PATH_LABELS[name]}: accuracy {line['worst_accuracy']:.4f} at t={line['worst_t']:.2f} "
                   f"(endpoints {line['endpoint_accuracy'][0]:.4f}, {line['endpoint_accuracy'][1]:.4f}); highest NLL {line['max_nll']:.4f}")
    plot_paths(result, path_plot)
    write_result(path_json, result)
    click.echo(f"wrote {path_json} and {path_plot}")


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--out", type=click.Path(dir_okay=False), required=True, help="The student network, e.g. student.keras.")
@click.option("--ensemble-size", type=int, default=DISTILL_DEFAULTS.ensemble_size, show_default=True, help="Teacher networks (seed 12345, as evaluate draws them).")
@click.option("--temperature", type=float, default=DISTILL_DEFAULTS.temperature, show_default=True, help="Softmax temperature of the soft labels.")
@click.option("--hard-label-weight", type=float, default=DISTILL_DEFAULTS.hard_label_weight, show_default=True,
              help="Weight of the true labels in the loss (0: the teacher alone).")
@click.option("--epochs", type=int, default=DISTILL_DEFAULTS.epochs, show_default=True)
@click.option("--batch-size", type=int, default=DISTILL_DEFAULTS.batch_size, show_default=True)
@click.option("--learning-rate", type=float, default=DISTILL_DEFAULTS.learning_rate, show_default=True, help="Adam, cosine decay to 1%.")
@click.option("--seed", type=int, default=DISTILL_DEFAULTS.seed, show_default=True, help="Student initialisation and batch order.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None, help="Default: RUN/distill.json.")
@click.option("--overwrite", is_flag=True, help="Replace an existing --out file.")
def distill(run_dir, out, ensemble_size, temperature, hard_label_weight, epochs, batch_size, learning_rate, seed, data_dir, json_path, overwrite):
    """Train one ordinary network on the ensemble's averaged predictions (soft labels on the
    training images) and save it as a standalone .keras model."""
    settings = DistillConfig(ensemble_size=ensemble_size, temperature=temperature, hard_label_weight=hard_label_weight,
                             epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, seed=seed)
    settings.check()
    check_out(out, overwrite)
    config, model = load_run(run_dir)
    require_task(config, "classification", "distill")  # soft labels: the ensemble's class probabilities
    data = load_training_data(config, data_dir)
    check_data(data, settings, config.validation_examples)
    path = writable(Path(json_path) if json_path else Path(run_dir) / DISTILL_FILE)
    with progress_bar("distilling") as progress:
        result = run_distill(model, data, out, settings, config.validation_examples, config.seed, overwrite, progress)
    report_distillation(result, model.target.name)
    write_result(path, result)
    click.echo(f"wrote {result['out']} and {path}")


def report_distillation(result: dict, target_name: str) -> None:
    """The table of `distill`: the student beside single sampled networks and ensembles."""
    used = result["settings"]
    click.echo(f"student: one {target_name} network ({result['student']['parameters']:,} parameters) trained on "
               f"{result['num_train_examples']:,} {result['dataset']} images for {used['epochs']} epochs, soft labels of "
               f"{used['ensemble_size']} networks at T={used['temperature']:g}, hard-label weight {used['hard_label_weight']:g}")
    widths, formats = (-30, 9, 8, 8), (None, ".4f", ".4f", ".4f")
    click.echo(row(("test split", "accuracy", "nll", "ece"), widths) + f"   ({result['num_test_examples']} images)")
    student, single = result["student"], result["single_network"]
    click.echo(row(("student (1 network)", student["accuracy"], student["nll"], student["ece"]), widths, formats))
    click.echo(row((f"sampled network (mean of {single['num_networks']})", single["accuracy_mean"], single["nll_mean"], single["ece_mean"]), widths, formats))
    for size, line in result["ensembles"].items():
        click.echo(row((f"{size}-network ensemble", line["accuracy"], line["nll"], line["ece"]), widths, formats))
    if student["validation_accuracy"] is not None:
        click.echo(f"student validation accuracy {student['validation_accuracy']:.4f} ({result['num_validation_examples']} held-out training images)")
    seconds = result["seconds"]
    click.echo(f"time: teacher {seconds['teacher']:.0f} s, training {seconds['training']:.0f} s, total {seconds['total']:.0f} s")
