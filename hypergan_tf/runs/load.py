"""Reopening a trained run: its sampler from config.json and weights, and its test data."""

from __future__ import annotations

import re
from pathlib import Path

from hypergan_tf.config import TrainConfig
from hypergan_tf.data import Dataset, load_dataset, resolve_data_dir
from hypergan_tf.errors import HyperganError
from hypergan_tf.runs.directory import CONFIG_FILE, WEIGHTS_FILE
from hypergan_tf.samplers import WeightSampler, build_sampler


def load_run(run_dir: str | Path, weights: str = WEIGHTS_FILE) -> tuple[TrainConfig, WeightSampler]:
    """Rebuild a trained sampler (HyperGAN, baseline or static hypernetwork) from its run
    directory: the configuration alone rebuilds it, then the weights are loaded."""
    run_dir = Path(run_dir)
    config = TrainConfig.load(run_dir / CONFIG_FILE)
    path = run_dir / weights
    if not path.is_file():
        raise HyperganError(f"{path} not found: training in {run_dir} did not finish; train again, or resume it")
    model = build_sampler(config)
    try:
        model.load_weights(path)
    except Exception as err:  # h5py / Keras raise several types for damaged files
        text = " ".join(str(err).split())
        mismatch = re.search(r"(expected[^.:]*(shape|variables)[^.]*)", text, re.IGNORECASE)
        if mismatch:  # a file of another target or configuration
            raise HyperganError(f"{path} holds weights of another model than {run_dir / CONFIG_FILE} describes "
                                f"({mismatch.group(1)[:160]}): was one of the two files copied from another run?") from None
        raise HyperganError(f"{path} cannot be loaded ({type(err).__name__}: {text[:200]}); the file is damaged: train again") from None
    return config, model


def require_task(config: TrainConfig, task: str, command: str) -> None:
    """A clear error when `command` cannot work on a run of this task (e.g. `ood` needs
    class probabilities, which a regression run does not have)."""
    if config.task != task:
        raise HyperganError(f"{command} works on {task} runs only, but this run was trained on {config.dataset}, "
                            f"a {config.task} data set; evaluate and diversity work on every run")


def load_test_split(config: TrainConfig, dataset: str | None = None, data_dir=None) -> Dataset:
    """The test split of `dataset` (default: the run's own) for analysing a run.

    Looked up in `data_dir`, else $HYPERGAN_TF_DATA_DIR, else where the run found its
    data; its images must fit the run's target network.
    """
    data = load_dataset(dataset or config.dataset, resolve_data_dir(data_dir) or config.data_dir, need_train=False)
    if data.name == config.dataset and config.num_classes is not None and data.num_classes != config.num_classes:
        raise HyperganError(f"the test split of {data.name} has {data.num_classes} classes, but the run was trained on "
                            f"{config.num_classes}: is this the same data set the run was trained with?")
    return _fits(config, data)


def load_training_data(config: TrainConfig, data_dir=None) -> Dataset:
    """The run's own data set with its training split (e.g. for distilling the run), looked
    up as `load_test_split` does."""
    data = load_dataset(config.dataset, resolve_data_dir(data_dir) or config.data_dir, need_train=True)
    return _fits(config, data)


def _fits(config: TrainConfig, data: Dataset) -> Dataset:
    """`data`, checked to have images of the shape the run's networks take."""
    expected = config.resolved_target().input_shape
    if tuple(data.image_shape) != tuple(expected):
        raise HyperganError(f"dataset {data.name} has images of shape {data.image_shape}, but the run's networks expect {expected}")
    return data
