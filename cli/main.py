"""The `hypergan-tf` command line: train, evaluate and inspect HyperGAN runs.

Installed as the import package `hypergan_tf_cli` (a top-level `cli` would clash with
other packages). Every user-facing failure is a HyperganError: one line, exit code 2.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
logging.getLogger("absl").setLevel(logging.ERROR)  # TFDS's absl warnings are noise for users


def _start_tensorflow_quietly() -> None:
    """Import TensorFlow and initialise its devices with file descriptor 2 sent to a
    temporary file: TF 2.21 prints C++ start-up lines there (oneDNN, "CUDA drivers not
    found") that TF_CPP_MIN_LOG_LEVEL no longer silences. They are replayed if start-up
    fails, and always shown with HYPERGAN_TF_VERBOSE=1."""
    if os.environ.get("HYPERGAN_TF_VERBOSE") == "1":
        return
    import tempfile

    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            import tensorflow as tf

            tf.config.list_logical_devices()
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


_start_tensorflow_quietly()

import click  # noqa: E402

from hypergan_tf.atomic import write_json  # noqa: E402
from hypergan_tf.config import DIVERSITY_TERMS, TrainConfig  # noqa: E402
from hypergan_tf.data import DATASETS, TRAINABLE_DATASETS  # noqa: E402
from hypergan_tf.errors import HyperganError  # noqa: E402
from hypergan_tf.hypergan import NETWORK_SEED  # noqa: E402
from hypergan_tf.target import PRESETS  # noqa: E402

DEFAULTS = TrainConfig()
EXIT_USER_ERROR = 2


@contextlib.contextmanager
def progress_bar(label: str):
    """A progress bar on stderr, driven by the library's `progress(done, total)` callbacks."""
    with click.progressbar(length=1, label=label, file=sys.stderr) as bar:
        def progress(done, total):
            bar.length = total
            bar.update(done - bar.pos)

        yield progress


def _int_list(text: str) -> list[int]:
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a comma-separated list of integers, e.g. 1,5,10,100") from None
    if not values or min(values) < 1:
        raise click.BadParameter("give positive integers, e.g. 1,5,10,100")
    return values


class UserError(click.ClickException):
    """Printed as "Error: <message>" without a traceback; exit code 2."""

    exit_code = EXIT_USER_ERROR


class HyperganGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except HyperganError as err:
            raise UserError(str(err)) from None


@click.group(cls=HyperganGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hypergan-tf")
def cli():
    """HyperGAN: train a generator of classifiers, then sample whole ensembles from noise."""


@cli.command()
@click.option("--dataset", type=click.Choice(TRAINABLE_DATASETS), default=DEFAULTS.dataset, show_default=True)
@click.option("--run-dir", type=click.Path(file_okay=False), required=True, help="Where config, checkpoints and TensorBoard logs go.")
@click.option("--target", type=click.Choice(sorted(PRESETS)), default=DEFAULTS.target, show_default=True, help="Architecture of the generated networks.")
@click.option("--epochs", type=int, default=DEFAULTS.epochs, show_default=True)
@click.option("--steps", type=int, default=None, help="Train for exactly this many steps (overrides --epochs).")
@click.option("--networks-per-step", type=int, default=DEFAULTS.networks_per_step, show_default=True, help="K: networks sampled per step.")
@click.option("--batch-size", type=int, default=DEFAULTS.batch_size, show_default=True, help="Images per step, shared by the K networks.")
@click.option("--beta", type=float, default=DEFAULTS.beta, show_default=True, help="Weight of the adversarial term on the codes (0 = no discriminator).")
@click.option("--beta-final", type=float, default=None, help="Move beta linearly to this value over training (default: constant beta).")
@click.option("--per-layer-discriminator", is_flag=True, help="One discriminator per layer code instead of one shared by all layers.")
@click.option("--mixer-noise", type=float, default=DEFAULTS.mixer_noise, show_default=True, help="Std of Gaussian noise added to the mixer's input during training.")
@click.option("--early-stopping", type=int, default=DEFAULTS.early_stopping, show_default=True,
              help="Patience in epochs: stop when the validation ensemble gain stops rising and keep its best epoch (0 = off).")
@click.option("--g-learning-rate", type=float, default=DEFAULTS.g_learning_rate, show_default=True, help="Mixer and generators (Adam).")
@click.option("--d-learning-rate", type=float, default=DEFAULTS.d_learning_rate, show_default=True, help="Discriminator (Adam).")
@click.option("--lr-schedule", type=click.Choice(["cosine", "constant"]), default=DEFAULTS.lr_schedule, show_default=True)
@click.option("--code-dim", type=int, default=DEFAULTS.code_dim, show_default=True, help="d: size of each layer code.")
@click.option("--no-mixer", is_flag=True, help="Ablation: independent noise per generator, no mixer.")
@click.option("--batch-norm/--no-batch-norm", default=DEFAULTS.batch_norm, show_default=True, help="Batch norm over the K networks inside mixer and generators.")
@click.option("--diversity", type=click.Choice(DIVERSITY_TERMS), default=DEFAULTS.diversity, show_default=True,
              help="Explicit diversity term: repulsion of the networks' predictions on the batch or on between-class probes, "
                   "of their distributions over the wrong classes on the batch, "
                   "of their weights modulo scaling, or their ambiguity on the batch.")
@click.option("--diversity-weight", type=float, default=DEFAULTS.diversity_weight, show_default=True, help="Strength of the diversity term (0 = off).")
@click.option("--batch-norm-affine/--no-batch-norm-affine", default=DEFAULTS.batch_norm_affine, show_default=True,
              help="Learned scale and shift in the batch norm; without them the generators cannot scale the noise away.")
@click.option("--mixer-pretrain-steps", type=int, default=DEFAULTS.mixer_pretrain_steps, show_default=True, help="Match the codes' mean/covariance to N(0, I) first.")
@click.option("--backup-every", type=int, default=None, help="Steps between backups (default: one pass over the data). Re-running the same command resumes from the last one.")
@click.option("--seed", type=int, default=DEFAULTS.seed, show_default=True)
@click.option("--deterministic", is_flag=True, help="TensorFlow op determinism: the same seed gives the same weights (slower).")
@click.option("--strategy", type=click.Choice(["default", "mirrored", "multiworker"]), default=DEFAULTS.strategy, show_default=True,
              help="tf.distribute: one device, all local devices, or the workers in $TF_CONFIG.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, help="Offline data sets as DIR/<dataset>/ (default: $HYPERGAN_TF_DATA_DIR, else TensorFlow Datasets).")
@click.option("--overwrite", is_flag=True, help="Replace a run already in --run-dir.")
def train(run_dir, data_dir, overwrite, no_mixer, **options):
    """Train a HyperGAN; writes RUN/config.json, checkpoints and TensorBoard logs."""
    from hypergan_tf.training import train as run_training

    config = TrainConfig(use_mixer=not no_mixer, **options)
    verbose = 1 if sys.stdout.isatty() else 2
    summary = run_training(config, run_dir, data_dir=data_dir, overwrite=overwrite, verbose=verbose)
    _report_training(summary, config, run_dir)


def _report_training(summary: dict, config: TrainConfig, run_dir) -> None:
    final = summary["final"]
    click.echo(f"data: {summary['data_source']}")
    click.echo(f"trained {summary['steps']} steps in {summary['train_seconds']:.0f} s")
    if summary.get("kept_epoch"):
        click.echo(f"early stopping kept the weights of epoch {summary['kept_epoch']} (best validation ensemble gain)")
    if "val_accuracy" in final:
        click.echo(
            f"validation: single network {final['val_accuracy']:.4f}, "
            f"{config.eval_networks}-network ensemble {final['val_ensemble_accuracy']:.4f}"
            + (f" (gain {100 * final['val_ensemble_gain']:+.2f} points, disagreement {final['val_disagreement']:.4f})" if "val_ensemble_gain" in final else "")
        )
    click.echo("diversity (L2 std/mean): " + ", ".join(f"{k} {v:.3f}" for k, v in summary["diversity_l2_std_over_mean"].items()))
    click.echo(f"run saved in {run_dir}; next: hypergan-tf evaluate {run_dir}")


@cli.command()
@click.option("--method", type=click.Choice(["ensemble", "mc-dropout", "single"]), required=True)
@click.option("--dataset", type=click.Choice(TRAINABLE_DATASETS), default=DEFAULTS.dataset, show_default=True)
@click.option("--run-dir", type=click.Path(file_okay=False), required=True)
@click.option("--target", type=click.Choice(sorted(PRESETS)), default=DEFAULTS.target, show_default=True)
@click.option("--members", type=int, default=DEFAULTS.members, show_default=True, help="ensemble: independently initialised networks.")
@click.option("--dropout-rate", type=float, default=DEFAULTS.dropout_rate, show_default=True, help="mc-dropout: on the inputs of every layer but the first.")
@click.option("--networks-per-step", type=int, default=10, show_default=True, help="mc-dropout: dropout masks per step.")
@click.option("--epochs", type=int, default=DEFAULTS.epochs, show_default=True)
@click.option("--steps", type=int, default=None)
@click.option("--batch-size", type=int, default=DEFAULTS.batch_size, show_default=True)
@click.option("--learning-rate", "g_learning_rate", type=float, default=DEFAULTS.g_learning_rate, show_default=True, help="Adam, cosine decay.")
@click.option("--backup-every", type=int, default=None)
@click.option("--seed", type=int, default=DEFAULTS.seed, show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False), default=None)
@click.option("--overwrite", is_flag=True)
def baseline(run_dir, data_dir, overwrite, **options):
    """Train a baseline with the same target network: random-start ensemble, MC dropout or single."""
    from hypergan_tf.training import train as run_training

    config = TrainConfig(**options)
    summary = run_training(config, run_dir, data_dir=data_dir, overwrite=overwrite, verbose=1 if sys.stdout.isatty() else 2)
    _report_training(summary, config, run_dir)


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--dataset", type=click.Choice(DATASETS), default=None, help="Test split to use (default: the run's data set).")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None)
@click.option("--ensemble-sizes", default="1,5,10,100", show_default=True, callback=lambda c, p, v: _int_list(v))
@click.option("--num-networks", type=int, default=100, show_default=True, help="Networks sampled for single-network statistics.")
@click.option("--seed", type=int, default=NETWORK_SEED, show_default=True, help="Seed of the sampled networks (export and sample draw the same ones).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None, help="Write the results here (default: RUN/evaluation.json).")
def evaluate(run_dir, dataset, data_dir, ensemble_sizes, num_networks, seed, json_path):
    """Test accuracy of single sampled networks and of ensembles, calibration and diversity."""
    from hypergan_tf.evaluation import evaluate_run

    path = _writable(Path(json_path) if json_path else Path(run_dir) / "evaluation.json")
    with progress_bar("evaluating") as progress:
        result = evaluate_run(
            run_dir, dataset, data_dir, ensemble_sizes, num_networks, seed, progress, Path(run_dir) / "reliability.png"
        )
    single = result["single_network"]
    click.echo(f"dataset {result['dataset']}, {result['num_test_examples']} test examples")
    click.echo(f"single network: accuracy {single['accuracy_mean']:.4f} +- {single['accuracy_std']:.4f} over {single['num_networks']} networks")
    click.echo(f"{'ensemble':>9} {'accuracy':>9} {'nll':>8} {'ece':>8} {'brier':>8}")
    for size, row in result["ensembles"].items():
        groups = row.get("accuracy_over_groups")
        over_groups = f"  (mean of {groups['num_groups']} disjoint ensembles {groups['mean']:.4f} +- {groups['std']:.4f})" if groups else ""
        click.echo(f"{size:>9} {row['accuracy']:>9.4f} {row['nll']:>8.4f} {row['ece']:>8.4f} {row['brier']:>8.4f}{over_groups}")
    diversity = result["diversity"]
    click.echo(f"pairwise disagreement: {diversity['pairwise_disagreement']:.4f}")
    click.echo("ensemble gain (ensemble - mean member accuracy): " + ", ".join(f"{k} networks {100 * v:+.2f} points" for k, v in diversity["ensemble_gain"].items()))
    click.echo("symmetry-aware diversity (NN distance modulo scaling): " + ", ".join(f"{k} {v:.3f}" for k, v in diversity["symmetry_aware"].items()))
    click.echo("L2 std/mean: " + ", ".join(f"{k} {v:.3f}" for k, v in diversity["l2_std_over_mean"].items()))
    _write_json(path, result)
    click.echo(f"wrote {path}")


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--out-dataset", type=click.Choice(DATASETS), required=True, help="Out-of-distribution test set, e.g. notmnist (MNIST runs) or cifar5-other (cifar5 runs).")
@click.option("--ensemble-size", type=int, default=100, show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False), default=None)
@click.option("--seed", type=int, default=NETWORK_SEED, show_default=True, help="Seed of the sampled networks.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None, help="Default: RUN/ood_<out-dataset>.json.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None, help="Entropy density/CDF PNG (default: RUN/ood_<out-dataset>.png).")
def ood(run_dir, out_dataset, ensemble_size, data_dir, seed, json_path, plot_path):
    """Out-of-distribution detection: AUROC/AUPR of entropy, variance and mutual information."""
    from hypergan_tf.ood import ood_run

    plot_path = Path(plot_path) if plot_path else Path(run_dir) / f"ood_{out_dataset}.png"
    path = _writable(Path(json_path) if json_path else Path(run_dir) / f"ood_{out_dataset}.json")
    with progress_bar("scoring") as progress:
        result = ood_run(run_dir, out_dataset, ensemble_size, data_dir, seed, progress, plot_path)
    click.echo(f"in: {result['in_dataset']} ({result['num_in']}), out: {result['out_dataset']} ({result['num_out']}), "
               f"{result['ensemble_size']} networks")
    click.echo(f"{'score':>19} {'AUROC':>7} {'AUPR':>7} {'mean in':>9} {'mean out':>9}")
    for name, row in result["scores"].items():
        click.echo(f"{name:>19} {row['auroc']:>7.4f} {row['aupr']:>7.4f} {row['mean_in']:>9.4f} {row['mean_out']:>9.4f}")
    _write_json(path, result)
    click.echo(f"wrote {path} and {plot_path}")


def _float_list(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a comma-separated list of numbers, e.g. 0.05,0.1,0.3") from None
    if not values or min(values) <= 0:
        raise click.BadParameter("give positive numbers, e.g. 0.05,0.1,0.3")
    return values


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--method", type=click.Choice(["fgsm", "pgd"]), default="fgsm", show_default=True)
@click.option("--epsilons", default="0.01,0.05,0.1,0.2,0.3", show_default=True, callback=lambda c, p, v: _float_list(v), help="L-inf sizes, pixels in [0, 1].")
@click.option("--ensemble-size", type=int, default=10, show_default=True)
@click.option("--num-examples", type=int, default=1000, show_default=True, help="First N images of the test split.")
@click.option("--steps", type=int, default=10, show_default=True, help="PGD iterations.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None)
@click.option("--seed", type=int, default=NETWORK_SEED, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None, help="Default: RUN/attack_<method>.json.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None, help="Default: RUN/attack_<method>.png.")
def attack(run_dir, method, epsilons, ensemble_size, num_examples, steps, data_dir, seed, json_path, plot_path):
    """FGSM/PGD against the ensemble: accuracy, entropy and detection AUROC per epsilon."""
    from hypergan_tf.attacks import attack_run

    plot_path = Path(plot_path) if plot_path else Path(run_dir) / f"attack_{method}.png"
    path = _writable(Path(json_path) if json_path else Path(run_dir) / f"attack_{method}.json")
    with progress_bar("attacking") as progress:
        result = attack_run(run_dir, method, epsilons, ensemble_size, num_examples, steps, data_dir, seed, progress=progress, plot=plot_path)
    clean = result["clean"]
    click.echo(f"{method.upper()} on {result['num_examples']} {result['dataset']} test images, {result['ensemble_size']} networks")
    click.echo(f"{'epsilon':>8} {'accuracy':>9} {'entropy':>8} {'AUROC':>7}")
    click.echo(f"{'clean':>8} {clean['accuracy']:>9.4f} {clean['mean_entropy']:>8.4f} {'':>7}")
    for epsilon, row in result["epsilons"].items():
        click.echo(f"{epsilon:>8} {row['accuracy']:>9.4f} {row['mean_entropy']:>8.4f} {row['auroc_entropy']:>7.4f}")
    _write_json(path, result)
    click.echo(f"wrote {path} and {plot_path}")


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Model folder, e.g. exports/mnist; versions go inside.")
@click.option("--version", "version", type=int, default=None, help="TF Serving version folder (default: the next free integer).")
@click.option("--ensemble-size", type=int, default=100, show_default=True, help="Networks in the fixed ensemble behind serving_default.")
@click.option("--seed", type=int, default=NETWORK_SEED, show_default=True, help="Seed that draws the ensemble (evaluate's default: the same networks).")
@click.option("--litert", "--tflite", "litert", is_flag=True, help="Also write OUT/litert/classifier.tflite and sampler.tflite.")
def export(run_dir, out, version, ensemble_size, seed, litert):
    """Export a SavedModel for TF Serving (and LiteRT files) from a trained run."""
    from hypergan_tf.export import export_litert, export_saved_model
    from hypergan_tf.training import load_run

    _, model = load_run(run_dir)
    path = export_saved_model(model, out, version, ensemble_size, seed)
    click.echo(f"wrote SavedModel {path} (signatures serving_default, sample_weights; {ensemble_size} networks, seed {seed})")
    if litert:
        for name, file in export_litert(model, out, ensemble_size, seed).items():
            click.echo(f"wrote LiteRT {name} {file} ({file.stat().st_size / 1e6:.1f} MB)")


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("-n", "--num-networks", type=int, default=10, show_default=True)
@click.option("--out", type=click.Path(file_okay=False), required=True)
@click.option("--seed", type=int, default=NETWORK_SEED, show_default=True, help="Network i is the i-th network evaluate and export draw.")
def sample(run_dir, num_networks, out, seed):
    """Save sampled networks as standalone .keras models of ordinary Keras layers."""
    from hypergan_tf.export import save_networks
    from hypergan_tf.training import load_run

    _, model = load_run(run_dir)
    paths = save_networks(model, out, num_networks, seed)
    click.echo(f"wrote {len(paths)} networks to {out} ({paths[0].name} ... {paths[-1].name}); "
               "keras.models.load_model opens them without hypergan-tf")


@cli.command()
@click.argument("images", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--server", default="http://localhost:8501", show_default=True, help="TF Serving REST address.")
@click.option("--model", "model_name", required=True, help="Model name on the server (its --model_name).")
@click.option("--json", "as_json", is_flag=True, help="Print the server's raw JSON answer.")
def predict(images, server, model_name, as_json):
    """Classify image files (PNG/JPEG) with an exported model on a TF Serving server."""
    from hypergan_tf.serving_client import predict_files

    result = predict_files(server, model_name, images)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"{'image':30} {'class':>5} {'prob':>6} {'entropy':>8} {'mutual_info':>11}")
    for path, row in zip(images, result["predictions"]):
        top = row["predicted_class"]
        click.echo(f"{Path(path).name[:30]:30} {top:>5} {row['probabilities'][top]:>6.3f} {row['entropy']:>8.4f} {row['mutual_information']:>11.4f}")


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--num-networks", type=int, default=100, show_default=True)
@click.option("--seed", type=int, default=NETWORK_SEED, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None, help="Default: RUN/diversity.json.")
def diversity(run_dir, num_networks, seed, json_path):
    """The paper's Table 1 (per layer, mean and std of the sampled weights' L2 norms),
    and the diversity that survives removing the scaling symmetry."""
    from hypergan_tf.diversity import layer_table
    from hypergan_tf.sampling import networks_available
    from hypergan_tf.training import load_run

    if num_networks < 2:
        raise HyperganError("--num-networks must be at least 2 to measure spread")
    _, model = load_run(run_dir)
    num_networks = networks_available(model, num_networks)
    layers = layer_table(model.target, model.sample_networks(num_networks, seed))
    click.echo(f"{'layer':>8} {'L2 mean':>9} {'L2 std':>8} {'std/mean':>9} {'modulo scaling':>15}   ({num_networks} networks)")
    for layer, row in layers.items():
        click.echo(f"{layer:>8} {row['l2_mean']:>9.3f} {row['l2_std']:>8.3f} {row['std_over_mean']:>9.3f} {row['symmetry_aware']:>15.3f}")
    path = Path(json_path) if json_path else Path(run_dir) / "diversity.json"
    _write_json(path, {"num_networks": num_networks, "layers": layers})
    click.echo(f"wrote {path}")


@cli.command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Folder for report.md and its plots.")
def report(run_dirs, out):
    """A Markdown report: accuracy, diversity, OOD and attack tables of several runs side by side."""
    from hypergan_tf.report import write_report

    click.echo(f"wrote {write_report(run_dirs, out)}")


@cli.command()
@click.option("--data-dir", type=click.Path(file_okay=False), default=None)
@click.option("--check", "check_name", type=click.Choice(DATASETS), default=None, help="Exit 0 if this data set can be loaded, else 2.")
def datasets(data_dir, check_name):
    """List the data sets and where each one would be loaded from (never downloads)."""
    from hypergan_tf.data import load_dataset

    for name in [check_name] if check_name else DATASETS:
        try:
            data = load_dataset(name, data_dir, need_train=False, download=False)
        except HyperganError as err:
            if check_name:
                raise
            click.echo(f"{name:10} not found ({err})")
            continue
        train_count = 0 if data.train_labels is None else len(data.train_labels)
        click.echo(f"{name:10} {train_count:6d} train / {len(data.test_labels):5d} test, {data.num_classes} classes, "
                   f"images {data.image_shape}, from {data.source}")


def _writable(path: Path) -> Path:
    """Check before the work, not after it, that the JSON can be written there."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        probe = path.with_name(path.name + ".tmp")
        probe.touch()
        probe.unlink()
    except OSError as err:
        raise HyperganError(f"cannot write {path} ({err.strerror}); choose a writable path with --json") from None
    return path


def _write_json(path: Path, value: dict) -> None:
    """Atomically, and with a clear error when the place is not writable."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, value)
    except OSError as err:
        raise HyperganError(f"cannot write {path} ({err.strerror}); choose a writable path with --json") from None


def main():
    """Console entry point."""
    cli(prog_name="hypergan-tf")


if __name__ == "__main__":
    main()
