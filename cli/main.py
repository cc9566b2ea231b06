"""The `hypergan-tf` command line: train, evaluate and inspect runs of any weight sampler.

Installed as the import package `hypergan_tf_cli` (a top-level `cli` would clash with
other packages). The commands live in `commands/` (train, analyse, ship, data), what they
share in `common.py`. Every user-facing failure is a HyperganError: one line, exit code 2.
"""

from __future__ import annotations

import logging
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
logging.getLogger("absl").setLevel(logging.ERROR)  # TFDS's absl warnings are noise for users


def _start_tensorflow_quietly() -> None:
    """Import TensorFlow and initialise its devices with file descriptor 2 sent to a
    temporary file: TF 2.21 prints C++ start-up lines there (oneDNN, "CUDA drivers not
    found") that TF_CPP_MIN_LOG_LEVEL no longer silences. They are replayed if start-up
    fails, and always shown with HYPERGAN_TF_VERBOSE=1."""
    if os.environ.get("HYPERGAN_TF_VERBOSE") == "1":
        return
    from hypergan_tf.native_output import captured_native_stderr

    with captured_native_stderr():
        import tensorflow as tf

        tf.config.list_logical_devices()


_start_tensorflow_quietly()

import click  # noqa: E402

from hypergan_tf_cli.commands import analyse, data, language, manifold, ship  # noqa: E402
from hypergan_tf_cli.commands import train as training  # noqa: E402
from hypergan_tf_cli.common import HyperganGroup  # noqa: E402


@click.group(cls=HyperganGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hypergan-tf")
def cli():
    """HyperGAN and other hypernetworks: train a generator of classifiers, then sample whole ensembles."""


for command in (training.train, training.baseline, analyse.evaluate, analyse.ood, analyse.attack, ship.export, ship.sample,
                ship.predict, analyse.diversity, analyse.report, analyse.tensorboard, manifold.interpolate, manifold.distill,
                data.datasets, language.lm):
    cli.add_command(command)


def main():
    """Console entry point."""
    cli(prog_name="hypergan-tf")


if __name__ == "__main__":
    main()
