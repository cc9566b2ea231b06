"""Weight samplers: every model that produces target networks.

`WeightSampler` (base.py) is the interface; `SAMPLERS` maps each `--method` to its
class: HyperGAN (hypergan.py, with mixer.py, generators.py, discriminator.py), the
baselines (baselines.py), Ha et al.'s static hypernetwork (static_hypernet.py) and
HyperNEAT's evolved CPPNs (hyperneat.py).
"""

from __future__ import annotations

from hypergan_tf.samplers.base import NETWORK_SEED, WeightSampler, fixed_noise
from hypergan_tf.samplers.baselines import METHODS as BASELINE_METHODS
from hypergan_tf.samplers.baselines import BaselineEnsemble
from hypergan_tf.samplers.hypergan import HyperGAN
from hypergan_tf.samplers.hyperneat import HyperNEAT
from hypergan_tf.samplers.static_hypernet import StaticHypernet

# Every --method (`train`'s and `baseline`'s) -> the sampler class that implements it.
SAMPLERS: dict[str, type[WeightSampler]] = {"hypergan": HyperGAN, **{method: BaselineEnsemble for method in BASELINE_METHODS},
                                            "static-hypernet": StaticHypernet, "hyperneat": HyperNEAT}
TRAIN_METHODS = tuple(method for method in SAMPLERS if method not in BASELINE_METHODS)  # `hypergan-tf train --method`


def build_sampler(config, total_steps: int = 1) -> WeightSampler:
    """The freshly initialised sampler a TrainConfig describes; `total_steps` (the length
    of training) spans its schedules."""
    return SAMPLERS[config.method].from_train_config(config, config.resolved_target(), total_steps)


__all__ = ["NETWORK_SEED", "SAMPLERS", "BaselineEnsemble", "HyperGAN", "HyperNEAT", "StaticHypernet", "WeightSampler", "build_sampler", "fixed_noise"]
