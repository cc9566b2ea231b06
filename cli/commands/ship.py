"""Shipping a run: export (SavedModel, LiteRT), sample (.keras networks) and predict (a TF
Serving client)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from hypergan_tf.export import export_litert, export_saved_model, save_networks
from hypergan_tf.export.saved_model import SERVING_PRECISIONS
from hypergan_tf.export.serving_client import predict_files
from hypergan_tf.runs import load_run, require_task
from hypergan_tf.samplers import NETWORK_SEED
from hypergan_tf_cli.common import SEED, folder_name, row


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("--out", type=click.Path(file_okay=False), required=True, callback=folder_name, help="Model folder, e.g. exports/mnist; versions go inside.")
@click.option("--version", "version", type=int, default=None, help="TF Serving version folder (default: the next free integer).")
@click.option("--ensemble-size", type=int, default=100, show_default=True, help="Networks in the fixed ensemble behind serving_default.")
@click.option("--seed", type=SEED, default=NETWORK_SEED, show_default=True, help="Seed that draws the ensemble (evaluate's default: the same networks).")
@click.option("--litert", "--tflite", "litert", is_flag=True, help="Also write OUT/litert/classifier.tflite (and sampler.tflite for a sampler with a latent space).")
@click.option("--precision", type=click.Choice(SERVING_PRECISIONS), default="float32", show_default=True,
              help="What serving_default's networks compute in: float32 gives the probabilities evaluate reports; bfloat16 "
                   "is faster on CPUs with bfloat16 instructions (AVX512_BF16, AMX) and slower on others, which emulate it. "
                   "Inputs and outputs stay float32; the LiteRT files compute in float32.")
def export(run_dir, out, version, ensemble_size, seed, litert, precision):
    """Export a SavedModel for TF Serving (and LiteRT files) from a trained run."""
    config, model = load_run(run_dir)
    require_task(config, "classification", "export")  # its signatures return class probabilities
    path = export_saved_model(model, out, version, ensemble_size, seed, precision)
    signatures = "serving_default" + (", sample_weights" if model.noise_dim is not None else "")
    click.echo(f"wrote SavedModel {path} (signatures {signatures}; {model.networks_available(ensemble_size)} networks, seed {seed}"
               + (f"; computing in {precision}" if precision != "float32" else "") + ")")
    if litert:
        for name, file in export_litert(model, out, ensemble_size, seed).items():
            click.echo(f"wrote LiteRT {name} {file} ({file.stat().st_size / 1e6:.1f} MB)")


@click.command()
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.option("-n", "--num-networks", type=int, default=10, show_default=True)
@click.option("--out", type=click.Path(file_okay=False), required=True, callback=folder_name)
@click.option("--seed", type=SEED, default=NETWORK_SEED, show_default=True, help="Network i is the i-th network evaluate and export draw.")
def sample(run_dir, num_networks, out, seed):
    """Save sampled networks as standalone .keras models of ordinary Keras layers."""
    config, model = load_run(run_dir)
    require_task(config, "classification", "sample")  # the saved networks end in a softmax
    paths = save_networks(model, out, num_networks, seed)
    click.echo(f"wrote {len(paths)} networks to {out} ({paths[0].name} ... {paths[-1].name}); "
               "keras.models.load_model opens them without hypergan-tf")


@click.command()
@click.argument("images", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--server", default="http://localhost:8501", show_default=True, help="TF Serving REST address.")
@click.option("--model", "model_name", required=True, help="Model name on the server (its --model_name).")
@click.option("--json", "as_json", is_flag=True, help="Print the server's raw JSON answer.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True, max=3600), default=60.0, show_default=True,
              help="Seconds to wait for the server's answer.")
def predict(images, server, model_name, as_json, timeout):
    """Classify image files (PNG/JPEG) with an exported model on a TF Serving server."""
    result = predict_files(server, model_name, images, timeout)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    widths, formats = (-30, 5, 6, 8, 11), (None, None, ".3f", ".4f", ".4f")
    click.echo(row(("image", "class", "prob", "entropy", "mutual_info"), widths))
    for path, line in zip(images, result["predictions"]):
        top = line["predicted_class"]
        click.echo(row((Path(path).name, top, line["probabilities"][top], line["entropy"], line["mutual_information"]), widths, formats))
