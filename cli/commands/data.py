"""`datasets`: which data sets can be loaded, and from where."""

from __future__ import annotations

import click

from hypergan_tf.data import DATASETS, load_dataset
from hypergan_tf.errors import HyperganError


@click.command()
@click.option("--data-dir", type=click.Path(file_okay=False), default=None)
@click.option("--check", "check_name", type=click.Choice(DATASETS), default=None, help="Exit 0 if this data set can be loaded, else 2.")
def datasets(data_dir, check_name):
    """List the data sets and where each one would be loaded from (never downloads)."""
    for name in [check_name] if check_name else DATASETS:
        try:
            data = load_dataset(name, data_dir, need_train=False, download=False)
        except HyperganError as err:
            if check_name:
                raise
            click.echo(f"{name:10} not found ({err})")
            continue
        train_count = 0 if data.train_labels is None else len(data.train_labels)
        click.echo(f"{name:10} {train_count:6d} train / {len(data.test_labels):5d} test, {data.describe()}, from {data.source}")
