"""TrainConfig: every default in one place, per-method defaults resolved, bad values refused."""

import json

import pytest

from hypergan_tf.config import DATASET_DEFAULTS, METHOD_ONLY_OPTIONS, TrainConfig
from hypergan_tf.errors import HyperganError
from hypergan_tf.samplers import SAMPLERS


def test_the_learning_rate_defaults_per_method_and_an_explicit_one_wins():
    assert TrainConfig().g_learning_rate == 1e-3
    assert TrainConfig(method="static-hypernet").g_learning_rate == 3e-3
    assert TrainConfig(method="static-hypernet", g_learning_rate=5e-4).g_learning_rate == 5e-4


def test_the_saved_config_round_trips_with_resolved_values(tmp_path):
    config = TrainConfig(method="static-hypernet", hyper_layers="conv2")
    config.save(tmp_path / "config.json")
    assert json.loads((tmp_path / "config.json").read_text())["g_learning_rate"] == 3e-3
    assert TrainConfig.load(tmp_path / "config.json") == config


@pytest.mark.parametrize("field, value", [("mixer_noise", float("inf")), ("beta", float("nan")), ("diversity_weight", float("inf"))])
def test_non_finite_numbers_are_refused(field, value):
    with pytest.raises(HyperganError, match=f"--{field.replace('_', '-')} must be a finite number"):
        TrainConfig(**{field: value})


def test_unknown_method_and_diversity_term_list_the_registries():
    with pytest.raises(HyperganError, match="--method must be one of hypergan, ensemble, single, mc-dropout, static-hypernet"):
        TrainConfig(method="neat")
    with pytest.raises(HyperganError, match="--diversity must be one of predictions, errors, probes, weights, function"):
        TrainConfig(diversity="entropy")


def test_a_data_sets_own_defaults_fill_only_the_options_not_given():
    config = TrainConfig.for_dataset({"dataset": "toy-cubic", "steps": 50, "batch_size": 100}, given={"steps"})
    assert config.steps == 50 and config.batch_size == 20 and config.target == "regression-mlp"
    assert TrainConfig.for_dataset({"dataset": "digits", "steps": 7}) == TrainConfig(dataset="digits", steps=7)


def test_epochs_given_beat_a_recipes_steps():
    """cifar10's recipe counts its length in steps; `--epochs 2` must not be ignored for them."""
    assert TrainConfig.for_dataset({"dataset": "cifar10"}).steps == DATASET_DEFAULTS["cifar10"]["steps"]
    config = TrainConfig.for_dataset({"dataset": "cifar10", "epochs": 2}, given={"epochs"})
    assert config.epochs == 2 and config.steps is None and config.target == DATASET_DEFAULTS["cifar10"]["target"]
    both = TrainConfig.for_dataset({"dataset": "cifar10", "epochs": 2, "steps": 30}, given={"epochs", "steps"})
    assert both.steps == 30


@pytest.mark.parametrize("dataset", sorted(DATASET_DEFAULTS))
def test_every_data_sets_recipe_is_a_valid_configuration_for_its_data(dataset):
    """Each recipe names real options with valid values, and its target reads the data set's inputs."""
    from hypergan_tf.data.registry import SOURCES

    config = TrainConfig.for_dataset({"dataset": dataset})
    assert set(DATASET_DEFAULTS[dataset]) <= set(config.to_dict())
    assert config.to_dict() | DATASET_DEFAULTS[dataset] == config.to_dict()  # every recipe value was taken
    shapes = {"mnist": (28, 28, 1), "cifar10": (32, 32, 3)}
    source = SOURCES[dataset][0]
    if source in shapes:
        assert config.resolved_target().input_shape == shapes[source]


@pytest.mark.parametrize("dataset", sorted(DATASET_DEFAULTS))
def test_a_recipe_sets_a_methods_own_options_for_that_method_only(dataset):
    """A recipe's HyperGAN-only values (cifar5: --modes) reach HyperGAN runs and leave the
    baselines' at their defaults, so that every method runs on every data set."""
    for method in sorted(SAMPLERS):
        config = TrainConfig.for_dataset({"dataset": dataset, "method": method})
        for name, value in DATASET_DEFAULTS[dataset].items():
            owner = METHOD_ONLY_OPTIONS.get(name, method)
            assert getattr(config, name) == (value if owner == method else getattr(TrainConfig, name)), (method, name)


# A valid value other than the default for every method-only option (a new option needs one).
_METHOD_ONLY_VALUES = {"modes": 4, "off_data_weight": 0.5, "off_data_objective": "disagreement", "off_data": "blends",
                       "off_data_probes": 16, "off_data_networks": 4, "feature_diversity_weight": 0.1, "early_stopping": 2,
                       "population": 4, "generations": 3, "kept_networks": 2, "fitness": "cross-entropy"}


@pytest.mark.parametrize("name", sorted(METHOD_ONLY_OPTIONS))
def test_a_method_only_option_is_refused_with_every_other_method(name):
    owner = METHOD_ONLY_OPTIONS[name]
    value = _METHOD_ONLY_VALUES[name]
    assert value != getattr(TrainConfig, name)
    assert getattr(TrainConfig(method=owner, **{name: value}), name) == value
    runs = {"hypergan": "HyperGAN runs", "hyperneat": "--method hyperneat"}[owner]
    for method in sorted(set(SAMPLERS) - {owner}):
        with pytest.raises(HyperganError, match=f"^--{name.replace('_', '-')} applies to {runs} only$"):
            TrainConfig(method=method, **{name: value})


def test_regression_runs_take_only_the_diversity_terms_that_fit_them():
    with pytest.raises(HyperganError, match="--diversity errors does not fit toy-cubic, a regression data set; choose one of: weights"):
        TrainConfig(dataset="toy-cubic", likelihood="gaussian", diversity="errors")
    assert TrainConfig(dataset="toy-cubic", likelihood="gaussian", diversity="weights").task == "regression"
    assert TrainConfig().task == "classification"


def test_precision_auto_is_bfloat16_exactly_where_the_cpu_computes_it_natively(monkeypatch):
    import tensorflow as tf

    from hypergan_tf import resources

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("a GPU decides by its compute capability, not the CPU's flags")
    for flags, expected in [({"avx512f", "avx512_bf16"}, "bfloat16"), ({"amx_bf16"}, "bfloat16"), ({"fp", "asimd", "bf16"}, "bfloat16"),
                            ({"avx512f", "avx2"}, "float32"), (set(), "float32")]:
        monkeypatch.setattr(resources, "cpu_flags", lambda flags=flags: flags)
        assert TrainConfig(precision="auto").resolved_precision() == expected, flags
        assert TrainConfig(precision="float32").resolved_precision() == "float32"  # an explicit format is kept
        assert TrainConfig(precision="bfloat16").resolved_precision() == "bfloat16"


def test_cpu_flags_are_read_from_this_machine():
    from pathlib import Path

    from hypergan_tf.resources import cpu_flags

    if not Path("/proc/cpuinfo").is_file():
        pytest.skip("not Linux")
    flags = cpu_flags()
    assert flags and all(flag == flag.strip() and flag for flag in flags)
    assert ("fpu" in flags) or ("fp" in flags)  # x86 / ARM: every CPU TensorFlow runs on has floating point
