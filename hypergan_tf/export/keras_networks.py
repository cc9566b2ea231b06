"""Sampled networks as standalone `.keras` models of ordinary Keras layers."""

from __future__ import annotations

from pathlib import Path

from hypergan_tf.atomic import atomic_path
from hypergan_tf.errors import HyperganError
from hypergan_tf.samplers import NETWORK_SEED, WeightSampler


def save_networks(model: WeightSampler, out: str | Path, num_networks: int, seed: int = NETWORK_SEED) -> list[Path]:
    """Sample `num_networks` networks (at most as many as the sampler has) and save each as
    OUT/network_<i>.keras."""
    if num_networks < 1:
        raise HyperganError("-n must be at least 1")
    out = Path(out)
    existing = sorted(out.glob("network_*.keras")) if out.is_dir() else []
    if existing:
        raise HyperganError(f"{out} already holds sampled networks ({existing[0].name} ...); choose an empty --out folder, "
                            "or delete them first, so networks of two runs are never mixed")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise HyperganError(f"cannot create {out} ({err.strerror}); choose a writable --out") from None
    num_networks = model.networks_available(num_networks)
    weights = model.sample_networks(num_networks, seed)
    paths = []
    for i in range(num_networks):
        path = out / f"network_{i:03d}.keras"
        with atomic_path(path) as tmp:
            model.target.to_keras(weights, i, model.input_mean, model.input_std, name=f"hypergan_network_{i}").save(tmp)
        paths.append(path)
    return paths
