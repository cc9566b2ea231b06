"""Sampled networks as standalone `.keras` models of ordinary Keras layers."""

from __future__ import annotations

from pathlib import Path

from hypergan_tf.atomic import atomic_path
from hypergan_tf.errors import HyperganError
from hypergan_tf.resources import check_disk, check_path_name, network_bytes
from hypergan_tf.samplers import NETWORK_SEED, WeightSampler

CHUNK = 100  # networks sampled and written at a time
KERAS_FILE_OVERHEAD = 16_000  # bytes of a .keras file besides the weights (config, zip headers)


def save_networks(model: WeightSampler, out: str | Path, num_networks: int, seed: int = NETWORK_SEED) -> list[Path]:
    """Sample `num_networks` networks (at most as many as the sampler has) and save each as
    OUT/network_<i>.keras."""
    if num_networks < 1:
        raise HyperganError("-n must be at least 1")
    out = Path(out)
    check_path_name(out, "--out")
    existing = sorted(out.glob("network_*.keras")) if out.is_dir() else []
    if existing:
        raise HyperganError(f"{out} already holds sampled networks ({existing[0].name} ...); choose an empty --out folder, "
                            "or delete them first, so networks of two runs are never mixed")
    num_networks = model.networks_available(num_networks)
    check_disk("-n", num_networks, network_bytes(model.target) + KERAS_FILE_OVERHEAD, out, "the .keras files")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise HyperganError(f"cannot create {out} ({err.strerror}); choose a writable --out") from None
    paths = []
    digits = max(3, len(str(num_networks - 1)))
    for start, weights in model.iter_networks(num_networks, seed, CHUNK):  # one piece in memory at a time
        for j in range(len(next(iter(weights.values())))):
            path = out / f"network_{start + j:0{digits}d}.keras"
            with atomic_path(path) as tmp:
                model.target.to_keras(weights, j, model.input_mean, model.input_std, name=f"hypergan_network_{start + j}").save(tmp)
            paths.append(path)
    return paths
