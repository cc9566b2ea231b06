"""Shipping a trained sampler: a SavedModel for TF Serving (saved_model.py), LiteRT files
(litert.py), standalone .keras networks (keras_networks.py), and a REST client for TF
Serving (serving_client.py). Each takes any weight sampler."""

from hypergan_tf.export.keras_networks import save_networks
from hypergan_tf.export.litert import export_litert
from hypergan_tf.export.saved_model import export_saved_model

__all__ = ["export_litert", "export_saved_model", "save_networks"]
