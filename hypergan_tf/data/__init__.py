"""Data sets: the registry of names and where each comes from (registry.py), the offline
file formats (formats.py), TensorFlow Datasets and scikit-learn (sources.py), and the
tf.data pipelines training and analysis read (pipelines.py)."""

from hypergan_tf.data.dataset import Dataset
from hypergan_tf.data.registry import DATA_DIR_ENV, DATASETS, OOD_PARTNERS, TRAINABLE_DATASETS, load_dataset, ood_partner, resolve_data_dir

__all__ = ["DATASETS", "DATA_DIR_ENV", "OOD_PARTNERS", "TRAINABLE_DATASETS", "Dataset", "load_dataset", "ood_partner", "resolve_data_dir"]
