"""`train` and `baseline`: fit a weight sampler and write its run directory."""

from __future__ import annotations

import sys

import click

from hypergan_tf.config import DATASET_DEFAULTS, DEFAULT_LEARNING_RATE, METHOD_LEARNING_RATES, METHOD_ONLY_OPTIONS, PRECISIONS, TrainConfig
from hypergan_tf.data import TRAINABLE_DATASETS
from hypergan_tf.data.augment import AUGMENTATIONS
from hypergan_tf.objectives.diversity import DIVERSITY_SCALES, DIVERSITY_TERMS
from hypergan_tf.objectives.fitness import FITNESS
from hypergan_tf.objectives.off_data import OFF_DATA_INPUTS, OFF_DATA_OBJECTIVES
from hypergan_tf.samplers import BASELINE_METHODS, TRAIN_METHODS
from hypergan_tf.training import train as run_training
from hypergan_tf_cli.common import DEFAULTS, TargetType, config_from_options, folder_name

DATASET_HELP = "Options not given take the data set's own defaults (config.DATASET_DEFAULTS; recorded in config.json): " + "; ".join(
    f"{name}: " + ", ".join(f"{key}={value}" + (f" ({METHOD_ONLY_OPTIONS[key]} only)" if key in METHOD_ONLY_OPTIONS else "")
                            for key, value in recipe.items()) for name, recipe in DATASET_DEFAULTS.items()) + "."

PRECISION_HELP = ("Number format of the target networks in training steps; bfloat16: mixed precision (float32 weights and losses), "
                  "faster on CPUs with AVX512_BF16 or AMX, slower where bfloat16 is emulated; auto: bfloat16 where it is native "
                  "(such a CPU, or a GPU of compute capability >= 8.0), else float32. Evaluation is float32 either way.")
RECOMPUTE_HELP = ("Run the networks of a step in groups of N whose forward pass the backward pass computes again instead of "
                  "keeping their activations: the memory of N networks, not K, for one more forward pass (0 = off).")


@click.command()
@click.option("--dataset", type=click.Choice(TRAINABLE_DATASETS), default=DEFAULTS.dataset, show_default=True, help=DATASET_HELP)
@click.option("--run-dir", type=click.Path(file_okay=False), required=True, callback=folder_name, help="Where config, checkpoints and TensorBoard logs go.")
@click.option("--method", type=click.Choice(TRAIN_METHODS), default=DEFAULTS.method, show_default=True,
              help="hypergan: a generator of networks; static-hypernet: Ha et al.'s static hypernetwork (one network); "
                   "hyperneat: CPPNs evolved by NEAT paint the networks (gradient-free).")
@click.option("--target", type=TargetType(), default=DEFAULTS.target, show_default=True,
              help="Architecture of the generated networks: a preset, or the path of a JSON target spec.")
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
@click.option("--g-learning-rate", type=float, default=None, show_default=f"{DEFAULT_LEARNING_RATE:g}; static-hypernet {METHOD_LEARNING_RATES['static-hypernet']:g}",
              help="Mixer and generators (Adam), or the static hypernetwork.")
@click.option("--d-learning-rate", type=float, default=DEFAULTS.d_learning_rate, show_default=True, help="Discriminator (Adam).")
@click.option("--lr-schedule", type=click.Choice(["cosine", "constant"]), default=DEFAULTS.lr_schedule, show_default=True)
@click.option("--code-dim", type=int, default=DEFAULTS.code_dim, show_default=True, help="d: size of each layer code.")
@click.option("--hidden-units", type=int, default=DEFAULTS.hidden_units, show_default=True,
              help="Width of the mixer, generator and discriminator MLPs.")
@click.option("--no-mixer", is_flag=True, help="Ablation: independent noise per generator, no mixer.")
@click.option("--batch-norm/--no-batch-norm", default=DEFAULTS.batch_norm, show_default=True, help="Batch norm over the K networks inside mixer and generators.")
@click.option("--diversity", type=click.Choice(list(DIVERSITY_TERMS)), default=DEFAULTS.diversity, show_default=True,
              help="Explicit diversity term: " + "; ".join(f"{name}: {term.help}" for name, term in DIVERSITY_TERMS.items()) + ".")
@click.option("--diversity-weight", type=float, default=DEFAULTS.diversity_weight, show_default=True, help="Strength of the diversity term (0 = off).")
@click.option("--diversity-scale", type=click.Choice(DIVERSITY_SCALES), default=DEFAULTS.diversity_scale, show_default=True,
              help="absolute: add weight x term; relative: the term's gradient at the networks' outputs is weight x the likelihood's there.")
@click.option("--diversity-warmup", type=float, default=DEFAULTS.diversity_warmup, show_default=True,
              help="Fraction of training over which the diversity weight ramps up from 0.")
@click.option("--diversity-delay", type=float, default=DEFAULTS.diversity_delay, show_default=True,
              help="Fraction of training before the diversity term starts (its ramp follows).")
@click.option("--off-data-weight", type=float, default=DEFAULTS.off_data_weight, show_default=True,
              help="Reward the networks' uncertainty on inputs made away from the data (0 = off; the uncertainty is in [0, 1]).")
@click.option("--off-data", type=click.Choice(list(OFF_DATA_INPUTS)), default=DEFAULTS.off_data, show_default=True,
              help="Inputs away from the data: " + "; ".join(f"{name}: {kind.help}" for name, kind in OFF_DATA_INPUTS.items()) + ".")
@click.option("--off-data-objective", type=click.Choice(list(OFF_DATA_OBJECTIVES)), default=DEFAULTS.off_data_objective, show_default=True,
              help="Uncertainty rewarded there: " + "; ".join(f"{name}: {kind.help}" for name, kind in OFF_DATA_OBJECTIVES.items()) + ".")
@click.option("--off-data-probes", type=int, default=DEFAULTS.off_data_probes, show_default=True, help="Off-data inputs made per step.")
@click.option("--off-data-networks", type=int, default=DEFAULTS.off_data_networks, show_default=True,
              help="How many of the step's networks see them (the first; the cost is probes x networks).")
@click.option("--feature-diversity-weight", type=float, default=DEFAULTS.feature_diversity_weight, show_default=True,
              help="Push the networks' hidden features apart: weight x their repulsion in linear CKA (minus the mean log distance "
                   "to the nearest other network; 0 = off). Follows --diversity-delay and --diversity-warmup.")
@click.option("--feature-diversity-layers", default=None,
              help="Comma-separated layers whose outputs --feature-diversity-weight compares (default: every hidden layer).")
@click.option("--feature-diversity-examples", type=int, default=DEFAULTS.feature_diversity_examples, show_default=True,
              help="Images of each batch (the first) the features are compared on.")
@click.option("--modes", type=int, default=DEFAULTS.modes, show_default=True, metavar="M",
              help="HyperGAN as a mixture of M modes sharing its generators: each mode adds its own independently initialised "
                   "target weights to the generated ones (1 = the paper's HyperGAN).")
@click.option("--augment", type=click.Choice(list(AUGMENTATIONS)), default=DEFAULTS.augment, show_default=True,
              help="Augmentation of training batches: " + "; ".join(f"{name}: {text}" for name, (text, _) in AUGMENTATIONS.items()) + ".")
@click.option("--precision", type=click.Choice(PRECISIONS), default=DEFAULTS.precision, show_default=True, help=PRECISION_HELP)
@click.option("--recompute", type=int, default=DEFAULTS.recompute, show_default=True, metavar="N", help=RECOMPUTE_HELP)
@click.option("--batch-norm-affine/--no-batch-norm-affine", default=DEFAULTS.batch_norm_affine, show_default=True,
              help="Learned scale and shift in the batch norm; without them the generators cannot scale the noise away.")
@click.option("--mixer-pretrain-steps", type=int, default=DEFAULTS.mixer_pretrain_steps, show_default=True, help="Match the codes' mean/covariance to N(0, I) first.")
@click.option("--noise-std", type=float, default=DEFAULTS.noise_std, show_default=True, help="Regression data sets: the Gaussian likelihood's fixed noise std.")
@click.option("--embedding-dim", type=int, default=DEFAULTS.embedding_dim, show_default=True, help="static-hypernet: N_z = d, size of each layer embedding.")
@click.option("--hyper-layers", default=None, help="static-hypernet: comma-separated layers whose kernels are generated (default: all but the first and last).")
@click.option("--population", type=int, default=DEFAULTS.population, show_default=True, help="hyperneat: CPPN genomes per generation.")
@click.option("--generations", type=int, default=DEFAULTS.generations, show_default=True, help="hyperneat: generations evolved (instead of --steps/--epochs).")
@click.option("--kept-networks", type=int, default=DEFAULTS.kept_networks, show_default=True,
              help="hyperneat: the run's networks: the generation champions best on the validation split.")
@click.option("--fitness", type=click.Choice(list(FITNESS)), default=DEFAULTS.fitness, show_default=True,
              help="hyperneat: score of a painted network on the generation's --batch-size training images.")
@click.option("--backup-every", type=int, default=None, help="Steps between backups (default: one pass over the data). Re-running the same command resumes from the last one.")
@click.option("--seed", type=int, default=DEFAULTS.seed, show_default=True)
@click.option("--deterministic", is_flag=True, help="TensorFlow op determinism: the same seed gives the same weights (slower).")
@click.option("--strategy", type=click.Choice(["default", "mirrored", "multiworker"]), default=DEFAULTS.strategy, show_default=True,
              help="tf.distribute: one device, all local devices, or the workers in $TF_CONFIG.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, help="Offline data sets as DIR/<dataset>/ (default: $HYPERGAN_TF_DATA_DIR, else TensorFlow Datasets).")
@click.option("--overwrite", is_flag=True, help="Replace a run already in --run-dir.")
@click.pass_context
def train(ctx, run_dir, data_dir, overwrite, no_mixer, **options):
    """Train a HyperGAN (or a static hypernetwork, or evolve HyperNEAT CPPNs); writes RUN/config.json, checkpoints and TensorBoard logs."""

    config = config_from_options(ctx, use_mixer=not no_mixer, **options)
    verbose = 1 if sys.stdout.isatty() else 2
    summary = run_training(config, run_dir, data_dir=data_dir, overwrite=overwrite, verbose=verbose)
    _report_training(summary, config, run_dir)


def _report_training(summary: dict, config: TrainConfig, run_dir) -> None:
    final = summary["final"]
    click.echo(f"data: {summary['data_source']}")
    precision = f" ({summary['precision']}, from --precision auto)" if config.precision == "auto" and "precision" in summary else ""
    click.echo(f"trained {summary['steps']} {summary.get('unit', 'steps')} in {summary['train_seconds']:.0f} s{precision}")
    if "phase_seconds" in summary:  # gradient training (training/callbacks.py PhaseClock)
        click.echo("time: " + ", ".join(f"{name.replace('_', ' ')} {value:.0f} s" for name, value in summary["phase_seconds"].items()))
    if summary.get("kept_epoch"):
        click.echo(f"early stopping kept the weights of epoch {summary['kept_epoch']} (best validation ensemble gain)")
    networks = summary["validation_networks"]
    if "val_best_accuracy" in final:
        click.echo(f"validation: best network {final['val_best_accuracy']:.4f}")
    if "val_accuracy" in final and networks == 1:
        click.echo(f"validation: accuracy {final['val_accuracy']:.4f} (one network)")
    elif "val_accuracy" in final:
        click.echo(
            f"validation: single network {final['val_accuracy']:.4f}, "
            f"{networks}-network ensemble {final['val_ensemble_accuracy']:.4f}"
            + (f" (gain {100 * final['val_ensemble_gain']:+.2f} points, disagreement {final['val_disagreement']:.4f})" if "val_ensemble_gain" in final else "")
        )
    if networks > 1:
        click.echo("diversity (L2 std/mean): " + ", ".join(f"{k} {v:.3f}" for k, v in summary["diversity_l2_std_over_mean"].items()))
    click.echo("parameters: " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in summary["parameters"].items()))
    click.echo(f"run saved in {run_dir}; next: hypergan-tf evaluate {run_dir}")


@click.command()
@click.option("--method", type=click.Choice(BASELINE_METHODS), required=True)
@click.option("--dataset", type=click.Choice(TRAINABLE_DATASETS), default=DEFAULTS.dataset, show_default=True, help=DATASET_HELP)
@click.option("--run-dir", type=click.Path(file_okay=False), required=True, callback=folder_name)
@click.option("--target", type=TargetType(), default=DEFAULTS.target, show_default=True)
@click.option("--members", type=int, default=DEFAULTS.members, show_default=True, help="ensemble: independently initialised networks.")
@click.option("--dropout-rate", type=float, default=DEFAULTS.dropout_rate, show_default=True, help="mc-dropout: on the inputs of every layer but the first.")
@click.option("--networks-per-step", type=int, default=10, show_default=True, help="mc-dropout: dropout masks per step.")
@click.option("--epochs", type=int, default=DEFAULTS.epochs, show_default=True)
@click.option("--steps", type=int, default=None)
@click.option("--batch-size", type=int, default=DEFAULTS.batch_size, show_default=True)
@click.option("--augment", type=click.Choice(list(AUGMENTATIONS)), default=DEFAULTS.augment, show_default=True, help="Augmentation of training batches (as train).")
@click.option("--noise-std", type=float, default=DEFAULTS.noise_std, show_default=True, help="Regression data sets: the Gaussian likelihood's fixed noise std.")
@click.option("--precision", type=click.Choice(PRECISIONS), default=DEFAULTS.precision, show_default=True, help=PRECISION_HELP)
@click.option("--recompute", type=int, default=DEFAULTS.recompute, show_default=True, metavar="N", help=RECOMPUTE_HELP)
@click.option("--learning-rate", "g_learning_rate", type=float, default=DEFAULTS.g_learning_rate, show_default=True, help="Adam, cosine decay.")
@click.option("--backup-every", type=int, default=None)
@click.option("--seed", type=int, default=DEFAULTS.seed, show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False), default=None)
@click.option("--overwrite", is_flag=True)
@click.pass_context
def baseline(ctx, run_dir, data_dir, overwrite, **options):
    """Train a baseline with the same target network: random-start ensemble, MC dropout or single."""

    config = config_from_options(ctx, **options)
    summary = run_training(config, run_dir, data_dir=data_dir, overwrite=overwrite, verbose=1 if sys.stdout.isatty() else 2)
    _report_training(summary, config, run_dir)
