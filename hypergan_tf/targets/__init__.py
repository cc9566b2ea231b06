"""Target networks: the classifiers a weight sampler produces.

`TargetSpec` (spec.py) is the interface every sampler, analysis and export uses:
parameter shapes, a batched forward of K networks, the per-network reference, the
conversion to ordinary Keras layers, and the JSON form. Layer kinds live in layers.py
(a registry), named networks in presets.py, the scaling symmetry in symmetry.py.
"""

from hypergan_tf.targets.layers import LAYER_KINDS, Conv, Dense, TargetLayer
from hypergan_tf.targets.presets import PRESETS, get_target, load_target_file
from hypergan_tf.targets.spec import TargetSpec, standardise

__all__ = ["LAYER_KINDS", "PRESETS", "Conv", "Dense", "TargetLayer", "TargetSpec", "get_target", "load_target_file", "standardise"]
