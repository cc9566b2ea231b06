"""`lm`: a character-level language model on a HyperLSTM or an LSTM, in bits per character."""

from __future__ import annotations

from pathlib import Path

import click

from hypergan_tf.errors import HyperganError
from hypergan_tf.language import CELLS, LMConfig, reevaluate, train_lm
from hypergan_tf.language.data import CORPORA, DEFAULT_CORPORA
from hypergan_tf_cli.common import folder_name, progress_bar

LM = LMConfig()


@click.command()
@click.option("--cell", type=click.Choice(list(CELLS)), default=LM.cell, show_default=True,
              help="; ".join(f"{name}: {kind.help}" for name, kind in CELLS.items()) + ".")
@click.option("--text", "text_file", type=click.Path(), default=None, help="A UTF-8 text file to model.")
@click.option("--corpus", type=click.Choice(list(CORPORA)), default=None,
              help="A named corpus: " + "; ".join(f"{name}: {c.help}" for name, c in CORPORA.items())
              + f". Without --text or --corpus: the first of {', '.join(DEFAULT_CORPORA)} that loads.")
@click.option("--run-dir", type=click.Path(file_okay=False), default=None, callback=folder_name,
              help="Where config.json, TensorBoard logs, weights and lm_result.json go (default: write nothing).")
@click.option("--units", type=int, default=LM.units, show_default=True, help="Hidden size of the main recurrent layer.")
@click.option("--hyper-units", type=int, default=LM.hyper_units, show_default=True, help="hyperlstm: size of the hyper LSTM.")
@click.option("--hyper-embedding-dim", type=int, default=LM.hyper_embedding_dim, show_default=True, help="hyperlstm: N_z, per gate.")
@click.option("--layer-norm/--no-layer-norm", default=LM.layer_norm, show_default=True, help="hyperlstm: layer normalisation.")
@click.option("--embedding-dim", type=int, default=LM.embedding_dim, show_default=True, help="Character embedding size.")
@click.option("--seq-len", type=int, default=LM.seq_len, show_default=True, help="Truncated BPTT window (characters).")
@click.option("--state-windows", type=int, default=LM.state_windows, show_default=True,
              help="The recurrent state crosses at most this many windows (training and evaluation), then restarts from zeros.")
@click.option("--batch-size", type=int, default=LM.batch_size, show_default=True, help="Parallel streams of the training text.")
@click.option("--steps", type=int, default=LM.steps, show_default=True, help="Training windows (stops earlier when --minutes is used up).")
@click.option("--minutes", type=float, default=None, help="Wall-time budget of training (evaluation not counted).")
@click.option("--learning-rate", type=float, default=LM.learning_rate, show_default=True, help="Adam, constant.")
@click.option("--clip-norm", type=float, default=LM.clip_norm, show_default=True, help="Global gradient-norm clipping.")
@click.option("--seed", type=int, default=LM.seed, show_default=True)
@click.option("--log-every", type=int, default=LM.log_every, show_default=True, help="Steps between TensorBoard scalars.")
@click.option("--overwrite", is_flag=True, help="Replace a run already in --run-dir.")
@click.option("--evaluate", "evaluate_only", is_flag=True, help="Measure the finished run in --run-dir again (its config.json and weights).")
def lm(text_file, run_dir, overwrite, evaluate_only, **options):
    """Character-level language model: bits per character on the text's held-out last 5% (test)."""
    if evaluate_only:
        if run_dir is None:
            raise HyperganError("--evaluate needs --run-dir: the run to measure again")
        result = reevaluate(run_dir)
    else:
        config = LMConfig(text_file=str(Path(text_file).absolute()) if text_file is not None else None, **options)
        with progress_bar(f"training {config.cell}") as progress:
            result = train_lm(config, run_dir, overwrite=overwrite, progress=progress)
        click.echo(f"data: {result['source']}")
        click.echo(f"{result['cell']}, {result['parameters']:,} parameters: {result['steps']} steps in "
                   f"{result['train_seconds']:.0f} s (stopped by --{result['stopped_by']}); "
                   f"train bpc {result['final_train_bpc']:.4f} (last steps)")
    click.echo(f"characters: train {result['train_characters']:,}, validation {result['validation_characters']:,}, "
               f"test {result['test_characters']:,}; vocabulary {result['vocab_size']}")
    click.echo(f"bits per character: validation {result['validation_bpc']:.4f}, test {result['test_bpc']:.4f}")
    if run_dir is not None:
        click.echo(f"run saved in {run_dir} (lm_result.json); TensorBoard: hypergan-tf tensorboard {run_dir}")
