"""A SavedModel of any weight sampler for TF Serving.

SavedModel (TF Serving layout `OUT/<version>/saved_model.pb + variables/`), signatures:

- `serving_default`: `images` float32 [batch, H, W, C], pixels in [0, 1] ->
  `probabilities` [batch, classes] (mean of the fixed ensemble), `predicted_class`
  [batch] int64, `entropy` [batch] (of the mean prediction, nats), `mutual_information`
  [batch] (entropy of the mean minus mean entropy of the members: the epistemic part).
  The ensemble is drawn once, at export time, from `seed`: same input, same answer.
  Its networks compute in float32 (the probabilities `evaluate` reports) or, with
  `precision="bfloat16"`, in bfloat16 from the same weights (faster on CPUs with
  bfloat16 instructions, slower on those without, which emulate it); inputs and outputs stay float32.
- `sample_weights` (samplers with a latent space: HyperGAN): `noise` float32
  [n, noise_dim] -> one tensor per target parameter, named `<layer>_<kernel|bias>`
  (e.g. `conv1_kernel` [n, 5, 5, 1, 32]).

Baselines and the static hypernetwork have no latent space: their SavedModel has
`serving_default` only, over their members (up to `ensemble_size`).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import tensorflow as tf

from hypergan_tf.atomic import exclusive_lock
from hypergan_tf.config import NUMBER_FORMATS
from hypergan_tf.errors import HyperganError
from hypergan_tf.resources import check_disk, check_memory, check_path_name, network_bytes
from hypergan_tf.samplers import NETWORK_SEED, WeightSampler


# What serving_default's networks may compute in: the number formats of TargetSpec.forward, not
# training's "auto", which would pick one from the exporting machine, not the serving one;
# float32 is what `evaluate` computes.
SERVING_PRECISIONS = NUMBER_FORMATS


def output_name(param: str) -> str:
    """"conv1/kernel" -> "conv1_kernel": signature keys cannot hold a slash."""
    return param.replace("/", "_")


def ensemble_outputs(member_probabilities: tf.Tensor) -> dict[str, tf.Tensor]:
    """[K, B, C] member probabilities -> the serving outputs for the batch."""
    probabilities = tf.reduce_mean(member_probabilities, axis=0)
    entropy = -tf.reduce_sum(probabilities * tf.math.log(probabilities + 1e-12), axis=-1)
    member_entropy = -tf.reduce_sum(member_probabilities * tf.math.log(member_probabilities + 1e-12), axis=-1)
    return {
        "probabilities": probabilities,
        "predicted_class": tf.argmax(probabilities, axis=-1, output_type=tf.int64),
        "entropy": entropy,
        "mutual_information": entropy - tf.reduce_mean(member_entropy, axis=0),
    }


class ExportedSampler(tf.Module):
    """What the SavedModel holds: the sampler (mixer + generators) and a fixed ensemble."""

    def __init__(self, model: WeightSampler, ensemble_size: int, seed: int, precision: str = "float32"):
        super().__init__(name="hypergan_sampler")
        self.model = model
        self.precision = precision
        # Stored in the precision the networks compute in: no cast of every weight per call.
        self.ensemble = {
            name: tf.Variable(tf.cast(value, precision), trainable=False, name=output_name(name))
            for name, value in model.sample_networks(model.networks_available(ensemble_size), seed).items()
        }
        shape = list(model.target.input_shape)
        self.serving_default = tf.function(
            self._classify, input_signature=[tf.TensorSpec([None] + shape, tf.float32, name="images")]
        )
        self.exported_signatures = {"serving_default": self.serving_default}
        if model.noise_dim is not None:
            self.sample_weights = tf.function(
                self._sample, input_signature=[tf.TensorSpec([None, model.noise_dim], tf.float32, name="noise")]
            )
            self.exported_signatures["sample_weights"] = self.sample_weights

    def _classify(self, images):
        # Loaded signatures do not enforce the spec's shape: check it here, before the
        # first convolution would fail with an error about channel groups.
        shape = list(self.model.target.input_shape)
        check = tf.debugging.assert_equal(
            tf.shape(images)[1:], tf.constant(shape),
            message=f"images must be float32 [batch, {', '.join(map(str, shape))}] with pixels in [0, 1]; got another image shape",
        )
        with tf.control_dependencies([check]):
            images = tf.identity(images)
        logits = self.model.classify(images, dict(self.ensemble), self.precision)
        return ensemble_outputs(tf.nn.softmax(logits))

    def _sample(self, noise):
        return {output_name(name): value for name, value in self.model.weights_from_noise(noise).items()}


def next_version(out: Path) -> int:
    """TF Serving versions are integer folder names; the next free one."""
    versions = [int(p.name) for p in out.iterdir() if p.is_dir() and p.name.isdigit()] if out.is_dir() else []
    return max(versions, default=0) + 1


def export_saved_model(model: WeightSampler, out: str | Path, version: int | None = None, ensemble_size: int = 100, seed: int = NETWORK_SEED,
                       precision: str = "float32") -> Path:
    """Write OUT/<version>/ atomically (built in a temporary folder, then renamed), readable
    by other users as ordinary files are (TF Serving often runs as another user).

    OUT/.export.lock is held meanwhile: a second export into OUT waits for none and fails at
    once, and the hidden staging folders of an export that was killed are removed."""
    out = Path(out)
    check_path_name(out, "--out")
    if ensemble_size < 1:
        raise HyperganError("--ensemble-size must be at least 1")
    if precision not in SERVING_PRECISIONS:
        raise HyperganError(f"--precision must be one of {', '.join(SERVING_PRECISIONS)} (got {precision!r})")
    if version is not None and not 0 <= version < 2**63:  # before anything is created
        raise HyperganError("--version must be a non-negative integer below 2**63 (TF Serving versions are int64)")
    count = model.networks_available(ensemble_size)
    # The ensemble's weights exist three times while saving: sampled, as variables, serialised.
    check_memory("--ensemble-size", count, 3 * network_bytes(model.target), "the fixed ensemble, while it is saved")
    check_disk("--ensemble-size", count, network_bytes(model.target), out, "the fixed ensemble's weights")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise HyperganError(f"cannot create {out} ({err.strerror}); choose a writable --out") from None
    with export_lock(out):
        for leftover in out.glob(".*.partial-*"):  # a killed export's staging folder
            shutil.rmtree(leftover, ignore_errors=True)
        version = next_version(out) if version is None else version
        final = out / str(version)
        if final.exists():
            raise HyperganError(f"{final} already exists; TF Serving versions are immutable: pick another --version or leave it out")
        module = ExportedSampler(model, ensemble_size, seed, precision)
        staging = Path(tempfile.mkdtemp(prefix=f".{version}.partial-", dir=out))
        try:
            tf.saved_model.save(module, str(staging), signatures=module.exported_signatures)
            _make_readable(staging)
            staging.replace(final)
        except (OSError, tf.errors.OpError) as err:
            # TensorFlow reports a full disk as an OpError: "{{function_node ...}} <file>; No space
            # left on device [Op:SaveV2]"; keep the reason.
            message = getattr(err, "strerror", None) or getattr(err, "message", str(err))
            found = re.search(r";\s*([^;\[]+?)\s*\[Op:", message)
            reason = found.group(1) if found else message.splitlines()[0][:200]
            raise HyperganError(f"cannot write the export into {out} ({reason}); free some disk space or choose "
                                "another --out and run the command again (nothing was kept)") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return final


def export_lock(out: Path):
    """Hold OUT/.export.lock while an export writes into OUT."""
    return exclusive_lock(out / ".export.lock", f"another hypergan-tf export is writing into {out}; wait for it to finish")


def _make_readable(folder: Path) -> None:
    """tempfile.mkdtemp makes a folder of mode 0700 whatever the umask: give the export the
    modes an ordinary `mkdir` / file write would have."""
    umask = os.umask(0)
    os.umask(umask)
    for root, dirs, files in os.walk(folder):
        os.chmod(root, 0o777 & ~umask)
        for name in files:
            os.chmod(os.path.join(root, name), 0o666 & ~umask)
