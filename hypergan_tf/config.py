"""Every training default in one frozen dataclass; the CLI maps its options onto it.

The resolved configuration is written next to each run as `config.json`, and is all
that is needed to rebuild the model for evaluation.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

from hypergan_tf.atomic import write_text
from hypergan_tf.errors import HyperganError
from hypergan_tf.data.augment import AUGMENTATIONS
from hypergan_tf.objectives.diversity import DIVERSITY_SCALES, DIVERSITY_TERMS
from hypergan_tf.objectives.off_data import OFF_DATA_INPUTS, OFF_DATA_OBJECTIVES
from hypergan_tf.objectives.fitness import FITNESS
from hypergan_tf.objectives.likelihood import LIKELIHOODS, get_likelihood

# The number formats target networks can compute in (training steps, exports, benchmarks).
NUMBER_FORMATS = ("float32", "bfloat16")
# --precision of training: one of NUMBER_FORMATS, or "auto": bfloat16 where the machine
# computes it natively (resources.fast_bfloat16), else float32.
PRECISIONS = NUMBER_FORMATS + ("auto",)

# What every config.json written by `train` holds (a `{}` file is not a run's configuration).
RUN_KEYS = ("method", "dataset", "target", "seed", "num_classes", "input_mean", "input_std")

DEFAULT_LEARNING_RATE = 1e-3
# The static hypernetwork learns its kernels through a rank-limited linear map: at 1e-3 it
# underfits (MNIST, 6 epochs, validation 98.04%), at 3e-3 it reaches 98.68% (README).
METHOD_LEARNING_RATES = {"static-hypernet": 3e-3}

# A data set's own defaults, for the options a command line leaves at their defaults
# (`TrainConfig.for_dataset`). The toy regression (20 points, a 1 -> 100 -> 1 MLP): one
# batch is the whole training set, so training is counted in steps: 300 (5 s), a backup
# every 100. Longer training fits x^3 closer inside the data but shrinks the networks'
# spread (3,000 steps: RMSE to x^3 1.80 instead of 2.56, but std outside / inside with
# the noise 1.7x instead of 3.6x, NLL outside 47 instead of 21). No validation split (20
# points); smaller noise, codes and generator MLPs. No explicit diversity term: the
# networks differ by the noise and the adversarial term alone. The weight repulsion (the
# one term that fits regression; the others read class probabilities) at 0.01-1.0 bends
# every network at the edges of the data, and at 1.0 wrecks the fit inside [-4, 4].
# README, 1D regression.
#
# CIFAR (issue 13): the authors' code's CIFAR network (cifar-mednet: the paper's cifar-small
# stopped at 71.8% on CIFAR-10 for the mean network, 4.6 points under the paper), random
# crops and flips (without them the networks overfit from the 8th epoch, validation at
# most 71%), K = 8 networks per step in bfloat16 where it is native (more steps in the
# hour: 0.20 s a step here, against 0.42 s at K = 16 in float32), and the diversity term
# at a strength relative to the cross-entropy's gradient (absolute weight 1.0, MNIST's
# default, is a relative strength of 5.6 on CIFAR-10 and leaves the networks at 20%),
# 0.5, off for the first tenth of training and ramped in until half of it: at full
# strength from the start it keeps the networks from learning features (600 steps,
# validation single network: 55.2% at relative weight 0.5, 39.1% at 1.5 after 300 steps,
# against 46.4% at 0.5), and even ramped in from the first step at 0.5 it kept a CIFAR-5
# run at chance for its first 2,600 steps. README, Every data set.
_CIFAR = {"target": "cifar-mednet", "augment": "crop-flip", "networks_per_step": 8, "precision": "auto",
          "diversity_scale": "relative", "diversity_weight": 0.5, "diversity_delay": 0.1, "diversity_warmup": 0.4}
DATASET_DEFAULTS: dict[str, dict] = {
    # MNIST (issue 18): a mixture of 8 modes, a weak relative diversity term ramped in late,
    # and the off-data term, in bfloat16 where the CPU has it, for 1,925 steps (3.5 passes;
    # every method takes them), so that the default run takes under 10 minutes here
    # (issue 15). Seeds 0 / 1: mean network 98.84 / 98.89%, 10 networks 99.29 / 99.33%, 100
    # networks 99.39 / 99.29%, notMNIST entropy AUROC 0.996 / 0.997 (10 random starts:
    # 0.985; the one-mode HyperGAN of the paper, which these options replaced: 98.83%,
    # 99.27%, 99.33%, 0.968); 9 min 32 s / 9 min 31 s wall on a slow day. 5 passes
    # (`--epochs 5`, 12.5 min): 98.98 / 99.01%, 99.41 / 99.39%, 99.41 / 99.35%. README,
    # Uncertainty away from the data. mnist5000 keeps the one-mode HyperGAN.
    "mnist": {"modes": 8, "diversity_scale": "relative", "diversity_weight": 0.25, "diversity_delay": 0.1, "diversity_warmup": 0.4,
              "precision": "auto", "off_data_weight": 0.25, "off_data_objective": "disagreement", "steps": 1925},
    "toy-cubic": {"target": "regression-mlp", "steps": 300, "backup_every": 100, "batch_size": 20, "validation_examples": 0,
                  "noise_dim": 32, "code_dim": 32, "hidden_units": 128, "summary_networks": 32, "diversity": "weights",
                  "diversity_weight": 0.0},
    # 4,500 training images after the validation split: 45 steps per pass, so longer in passes.
    "mnist5000": {"steps": 2250, "backup_every": 450},
    "cifar10": {**_CIFAR, "steps": 15750, "backup_every": 1575},  # 35 passes over the 45,000 training images
    # CIFAR-5 (issues 18, 13): a mixture of 8 modes with the diversity term at half the CIFAR
    # strength, and MLPs 128 wide (the generators' output layers then hold 12 million weights,
    # not 46: a step of 150 ms instead of 220 here), so that the recipe's hour holds 23,000
    # steps instead of 15,750. Seeds 0 / 1: mean network 85.52 / 85.63%, 100 networks 89.12 /
    # 89.36%, entropy AUROC for classes 5-9 0.724 / 0.720 (10 random starts given the same
    # time: 0.718 / 0.720; this recipe at 512 units and 15,750 steps: 0.713 / 0.712). README,
    # Every data set of the paper.
    "cifar5": {**_CIFAR, "steps": 23000, "backup_every": 1575,  # 102 passes over 22,500
               "modes": 8, "diversity_weight": 0.25, "hidden_units": 128},
}


# HyperNEAT's own options (refused with the other methods).
HYPERNEAT_OPTIONS = ("population", "generations", "kept_networks", "fitness")

# Options that mean something for one method only: `validate` refuses them, away from their
# defaults, with another method, and a data set's recipe sets them for that method's runs
# only (`for_dataset`), so that `baseline --dataset cifar5` still runs.
METHOD_ONLY_OPTIONS = {**{name: "hypergan" for name in ("modes", "off_data_weight", "off_data_objective", "off_data",
                                                        "off_data_probes", "off_data_networks", "feature_diversity_weight",
                                                        "early_stopping")},
                       **{name: "hyperneat" for name in HYPERNEAT_OPTIONS}}
# How `validate`'s refusal names each such method's runs.
_METHOD_RUNS = {"hypergan": "HyperGAN runs", "hyperneat": "--method hyperneat"}


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    method: str = "hypergan"  # a key of samplers.SAMPLERS: "static-hypernet", or a baseline: "ensemble", "single", "mc-dropout"
    members: int = 10  # ensemble baseline: independently initialised networks
    dropout_rate: float = 0.25  # mc-dropout baseline: on the inputs of every layer but the first
    dataset: str = "mnist"
    target: str = "mnist-small"  # a preset of targets/presets.py, or the path of a JSON target spec
    # Length of training: `steps`, if set, wins over `epochs`.
    epochs: int = 6
    steps: int | None = None
    networks_per_step: int = 32  # K: networks sampled and evaluated per step
    batch_size: int = 100  # images per step, shared by the K networks
    beta: float = 1.0  # weight of the adversarial term on the codes
    beta_final: float | None = None  # if set, beta moves linearly to this over training
    per_layer_discriminator: bool = False  # one discriminator per layer code, not a shared one
    mixer_noise: float = 0.0  # std of Gaussian noise added to the mixer's input in training
    # The sampler's learning rate (HyperGAN: mixer and generators; cosine decay to 1% of it);
    # None: the method's own default, METHOD_LEARNING_RATES, else 1e-3.
    g_learning_rate: float | None = None
    d_learning_rate: float = 1e-4  # discriminator
    lr_schedule: str = "cosine"  # "cosine" or "constant"
    seed: int = 0
    deterministic: bool = False  # TensorFlow op determinism: same seed, same weights (slower)
    strategy: str = "default"  # "default", "mirrored" or "multiworker" (see distribution.py)
    noise_dim: int = 256  # size of s
    code_dim: int = 128  # d: size of each layer code
    hidden_units: int = 512  # width of the mixer, generator and discriminator MLPs
    use_mixer: bool = True  # False: each generator gets its own independent noise (ablation)
    batch_norm: bool = False  # batch norm inside mixer and generators, over the K networks
    batch_norm_affine: bool = True  # False: no learned scale/shift, the noise cannot be scaled away
    # Explicit diversity term (diversity.py): "predictions" / "probes" = repulsion of the
    # networks' predictions on the batch / on between-class probes, "errors" = repulsion of
    # their distributions over the wrong classes on the batch, "weights" = repulsion
    # of their weights modulo scaling symmetry, "function" = ambiguity of their predictions.
    # Default: repulsion of the wrong-class distributions, weight 1.0: of the settings run at
    # full length, the most accurate ensembles, the best OOD detection, and a 10-network
    # gain above 0.4 points (README, Diversity).
    diversity: str = "errors"
    diversity_weight: float = 1.0
    # "absolute": the generators' loss adds diversity_weight * the term. "relative": the
    # term's gradient at the networks' outputs is rescaled, every step, to diversity_weight
    # times the norm of the likelihood's gradient there, so the strength of the push
    # does not depend on how large the term's own gradient happens to be on a data set
    # (terms of the batch's outputs only: DiversityTerm.reads_outputs).
    diversity_scale: str = "absolute"
    # Fraction of training over which the diversity weight ramps linearly up from 0 (0: full
    # strength from the first step): networks that have not learned features yet are
    # pushed apart at the cost of learning them (CIFAR-10).
    diversity_warmup: float = 0.0
    # Fraction of training before the diversity term starts (the ramp follows it): even a
    # weak term, ramping in from the first step, can keep networks from learning features
    # at all (CIFAR-5 at relative weight 0.5: training accuracy 21.5% over steps 700-800,
    # chance being 20%, against 65% without the term).
    diversity_delay: float = 0.0
    # Uncertainty away from the data (objectives/off_data.py, issue 18): every step the K
    # networks also see inputs made from the batch that belong to no class (`off_data`,
    # OFF_DATA_INPUTS) and the generators' loss subtracts off_data_weight times their
    # uncertainty there (`off_data_objective`, OFF_DATA_OBJECTIVES; in [0, 1]). 0: off.
    # The probes cost one more forward and backward pass of off_data_networks networks (the
    # first of the step's K) on off_data_probes images: 32 x 8 network-images against the
    # batch's 100 x 32 (measured: 6% of a one-mode MNIST step).
    off_data: str = "mixed"
    off_data_objective: str = "entropy"
    off_data_weight: float = 0.0
    off_data_probes: int = 32
    off_data_networks: int = 8
    # Different representations (objectives/feature_diversity.py, issue 18): the generators'
    # loss adds feature_diversity_weight times the repulsion (minus the mean log nearest-
    # neighbour distance) of the K networks in linear CKA, from their outputs of
    # feature_diversity_layers (comma-separated; None: every hidden layer) on the first
    # feature_diversity_examples images of the batch, read from the step's own forward pass;
    # it follows the diversity term's delay and warmup. 0: off.
    feature_diversity_weight: float = 0.0
    feature_diversity_layers: str | None = None
    feature_diversity_examples: int = 32
    # A mixture of `modes` HyperGANs sharing the mixer and generators (samplers/hypergan.py):
    # each mode adds its own, independently initialised set of target weights to the
    # generated ones, so networks of different modes start, like independently trained
    # networks, from different initial networks; the first noise coordinate picks the mode,
    # round-robin in every step and every sampled ensemble. 1: the paper's HyperGAN.
    modes: int = 1
    # The number format of the target networks in training steps: "float32", or "bfloat16"
    # (mixed precision: float32 variables, losses and optimizer; the networks' forward and
    # backward passes and the matmuls of the generators' output layers in bfloat16), or
    # "auto" (resolved_precision). Evaluation and export are float32 either way.
    precision: str = "float32"
    # N > 0: training steps run the K target networks in groups of N, and backward passes
    # compute each group's forward pass again instead of keeping its activations (one
    # more forward pass; activations of N networks at a time, not K): for large K. 0: off.
    recompute: int = 0
    # Data augmentation of training batches (data/augment.py AUGMENTATIONS): "none" or "crop-flip".
    augment: str = "none"
    # Static hypernetwork (Ha et al.): N_z = d, the size of each layer's embedding, and the
    # layers whose kernels are generated (comma-separated; None: all but the first and last).
    embedding_dim: int = 4
    hyper_layers: str | None = None
    # HyperNEAT (samplers/hyperneat.py, training/evolution.py): CPPN genomes per generation,
    # generations evolved, the generation champions (best on the validation split) kept as the
    # run's networks, and the fitness of a painted network on the generation's batch of
    # --batch-size training images (objectives/fitness.py).
    population: int = 50
    generations: int = 50
    kept_networks: int = 5
    fitness: str = "accuracy"  # "accuracy" or "cross-entropy" (its negative)
    early_stopping: int = 0  # patience in epochs on validation ensemble gain; 0 = off
    mixer_pretrain_steps: int = 0  # match the codes' mean and covariance to N(0, I) first
    backup_every: int | None = None  # steps between backups; None = one pass over the data
    validation_examples: int = 5000  # held out from the train split for monitoring
    eval_networks: int = 10  # networks sampled per validation batch
    summary_networks: int = 100  # networks sampled for the per-epoch diversity summaries
    noise_std: float = 3.0  # the gaussian likelihood's fixed observation noise (regression; the toy set's true noise)
    # Filled in by training: where the data came from (evaluate looks there too), and
    # input statistics (inputs are pixels in [0, 1]).
    data_dir: str | None = None
    num_classes: int | None = None
    input_mean: float | None = None
    input_std: float | None = None
    # The likelihood of the data set's task (objectives/likelihood.py); None: categorical.
    likelihood: str | None = None
    # The resolved target network (TargetSpec.to_config()), so a run reopens from its
    # config alone even when --target was a JSON file that has since moved.
    target_spec: dict | None = None

    DERIVED = ("data_dir", "num_classes", "input_mean", "input_std", "likelihood", "target_spec")  # filled in by training

    def __post_init__(self):
        from hypergan_tf.samplers import SAMPLERS  # here, not at the top: the samplers read this module's defaults

        if self.g_learning_rate is None:
            object.__setattr__(self, "g_learning_rate", METHOD_LEARNING_RATES.get(self.method, DEFAULT_LEARNING_RATE))
        numbers = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if isinstance(getattr(self, f.name), float)}
        for name, value in numbers.items():
            if not math.isfinite(value):
                raise HyperganError(f"--{name.replace('_', '-')} must be a finite number (got {value})")
        checks = [
            (self.method in SAMPLERS, "--method must be one of " + ", ".join(SAMPLERS)),
            (self.members >= 1, "--members must be at least 1"),
            (0 <= self.dropout_rate < 1, "--dropout-rate must be in [0, 1)"),
            (self.networks_per_step >= 1, "--networks-per-step must be at least 1"),
            (self.batch_size >= 1, "--batch-size must be at least 1"),
            (self.epochs >= 1, "--epochs must be at least 1"),
            (self.steps is None or self.steps >= 1, "--steps must be at least 1"),
            (self.beta >= 0, "--beta must be >= 0 (0 turns the discriminator off)"),
            (self.beta_final is None or self.beta_final >= 0, "--beta-final must be >= 0"),
            (self.mixer_noise >= 0, "--mixer-noise must be >= 0"),
            (self.early_stopping >= 0, "--early-stopping must be >= 0 epochs (0 = off)"),
            (self.g_learning_rate > 0 and self.d_learning_rate > 0, "learning rates must be > 0"),
            (self.strategy in ("default", "mirrored", "multiworker"), "--strategy must be default, mirrored or multiworker"),
            (self.lr_schedule in ("cosine", "constant"), "--lr-schedule must be 'cosine' or 'constant'"),
            (self.noise_dim >= 1 and self.code_dim >= 1 and self.hidden_units >= 1, "model sizes must be >= 1"),
            (self.backup_every is None or self.backup_every >= 1, "--backup-every must be at least 1 step"),
            (self.diversity in DIVERSITY_TERMS, "--diversity must be one of " + ", ".join(DIVERSITY_TERMS)),
            (self.embedding_dim >= 1, "--embedding-dim must be at least 1"),
            (self.population >= 2 and self.generations >= 1 and self.kept_networks >= 1,
             "--population must be at least 2, --generations and --kept-networks at least 1"),
            (self.fitness in FITNESS, "--fitness must be one of " + ", ".join(FITNESS)),
            (0 <= self.seed < 2**31, "--seed must be in [0, 2**31)"),
            (self.diversity_weight >= 0, "--diversity-weight must be >= 0 (0 turns the term off)"),
            (0 <= self.diversity_warmup <= 1, "--diversity-warmup must be a fraction of training in [0, 1]"),
            (0 <= self.diversity_delay < 1, "--diversity-delay must be a fraction of training in [0, 1)"),
            (self.diversity_delay + self.diversity_warmup <= 1,
             "--diversity-delay plus --diversity-warmup must be at most 1, so that the term reaches its weight within training"),
            (self.off_data in OFF_DATA_INPUTS, "--off-data must be one of " + ", ".join(OFF_DATA_INPUTS)),
            (self.off_data_objective in OFF_DATA_OBJECTIVES, "--off-data-objective must be one of " + ", ".join(OFF_DATA_OBJECTIVES)),
            (self.off_data_weight >= 0, "--off-data-weight must be >= 0 (0 turns the term off)"),
            (self.off_data_probes >= 1, "--off-data-probes must be at least 1"),
            (self.off_data_networks >= 2, "--off-data-networks must be at least 2 (disagreement needs two networks)"),
            (self.off_data_weight == 0 or self.task == "classification",
             "--off-data-weight applies to HyperGAN runs on classification data sets only"),
            (self.feature_diversity_weight >= 0, "--feature-diversity-weight must be >= 0 (0 turns the term off)"),
            (self.feature_diversity_examples >= 2, "--feature-diversity-examples must be at least 2 (a similarity of features needs two images)"),
            (self.feature_diversity_weight == 0 or self.recompute == 0,
             "--feature-diversity-weight reads the activations that --recompute drops: use one of them"),
            (self.modes >= 1, "--modes must be at least 1 (1: a single HyperGAN, the paper's)"),
            (self.diversity_scale in DIVERSITY_SCALES, "--diversity-scale must be one of " + ", ".join(DIVERSITY_SCALES)),
            (self.diversity_scale != "relative" or self.diversity not in DIVERSITY_TERMS or DIVERSITY_TERMS[self.diversity].reads_outputs,
             f"--diversity-scale relative rescales a term of the networks' outputs on the batch "
             f"({', '.join(name for name, term in DIVERSITY_TERMS.items() if term.reads_outputs)}); --diversity {self.diversity} is not one"),
            (self.precision in PRECISIONS, "--precision must be one of " + ", ".join(PRECISIONS)),
            (self.recompute >= 0, "--recompute must be >= 0 networks per group (0 turns it off)"),
            (self.augment in AUGMENTATIONS, "--augment must be one of " + ", ".join(AUGMENTATIONS)),
            (self.mixer_pretrain_steps >= 0, "--mixer-pretrain-steps must be >= 0"),
            (self.validation_examples >= 0, "--validation-examples must be >= 0"),
            (self.eval_networks >= 1 and self.summary_networks >= 2, "network counts for summaries must be >= 1 (>= 2 for diversity)"),
            (self.noise_std > 0, "--noise-std must be > 0"),
            (self.likelihood is None or self.likelihood in LIKELIHOODS, "likelihood must be one of " + ", ".join(LIKELIHOODS)),
        ]
        for ok, message in checks:
            if not ok:
                raise HyperganError(message)
        for method, runs in _METHOD_RUNS.items():
            if method == self.method:
                continue
            given = ["--" + name.replace("_", "-") for name, owner in METHOD_ONLY_OPTIONS.items()
                     if owner == method and getattr(self, name) != getattr(TrainConfig, name)]
            if given:
                raise HyperganError(f"{', '.join(given)} {'applies' if len(given) == 1 else 'apply'} to {runs} only")
        fitting = [name for name, term in DIVERSITY_TERMS.items() if self.task in term.tasks]
        if self.diversity not in fitting:
            raise HyperganError(f"--diversity {self.diversity} does not fit {self.dataset}, a {self.task} data set; "
                                f"choose one of: {', '.join(fitting)}")

    @classmethod
    def for_dataset(cls, values: dict, given=()) -> "TrainConfig":
        """The configuration of `values` (a command's options), where every option not in
        `given` (left at its default) takes the data set's own default, if it has one
        (DATASET_DEFAULTS)."""
        own = DATASET_DEFAULTS.get(values.get("dataset", cls.dataset), {})
        method = values.get("method", cls.method)
        own = {name: value for name, value in own.items() if METHOD_ONLY_OPTIONS.get(name, method) == method}
        if "epochs" in given:  # a length the user gives in epochs beats a recipe's length in steps
            own.pop("steps", None)
        return cls(**{**values, **{name: value for name, value in own.items() if name not in given}})

    @property
    def task(self) -> str:
        """"classification" or "regression": the task of its likelihood."""
        return self.resolved_likelihood().task

    def resolved_likelihood(self):
        """The Likelihood (objectives/likelihood.py) the samplers train with."""
        return get_likelihood(self.likelihood, self.noise_std)

    def resolved_precision(self) -> str:
        """"float32" or "bfloat16": `precision`, with "auto" resolved on this machine
        (bfloat16 where it is native: resources.fast_bfloat16)."""
        if self.precision != "auto":
            return self.precision
        from hypergan_tf.resources import fast_bfloat16

        return "bfloat16" if fast_bfloat16() else "float32"

    def resolved_target(self):
        """The TargetSpec of this run: the recorded one, else the preset or file `target`
        names, with its logits layer sized to `num_classes`."""
        from hypergan_tf.targets import TargetSpec, get_target

        if self.target_spec is not None:
            return TargetSpec.from_config(self.target_spec, where="config.json target_spec")
        return get_target(self.target, self.num_classes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        if not isinstance(values, dict):
            raise HyperganError(f"a configuration is a JSON object of TrainConfig fields, not {type(values).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise HyperganError(f"config has unknown keys {unknown}; was it written by a newer hypergan-tf?")
        try:
            return cls(**values)
        except TypeError as err:  # a field of the wrong type, e.g. "epochs": "six"
            raise HyperganError(f"config has a field of the wrong type ({err})") from None

    def save(self, path: Path) -> None:
        """Write atomically: a crash never leaves a half-written config.json."""
        write_text(path, json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> "TrainConfig":
        path = Path(path)
        values = read_run_json(path, "train", "re-run training or restore the file")
        missing = sorted(set(RUN_KEYS) - set(values)) if isinstance(values, dict) else []
        if missing:
            raise HyperganError(f"{path} lacks {missing}: it was not written by 'hypergan-tf train'; re-run training or restore the file")
        try:
            return cls.from_dict(values)
        except HyperganError as err:
            raise HyperganError(f"{path}: {err}; re-run training or restore the file") from None


def read_run_json(path: Path, command: str, fix: str):
    """The JSON value of a run's configuration file, or a HyperganError when it is missing
    or not JSON; `fix` says what to do then."""
    if not path.is_file():
        raise HyperganError(f"{path} not found: is {path.parent} a run directory written by 'hypergan-tf {command}'?")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise HyperganError(f"{path} is not valid JSON ({err}); {fix}") from None
