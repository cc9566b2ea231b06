"""Run directories: the files a run owns (directory.py), reopening a trained run and its
test data (load.py)."""

from hypergan_tf.runs.directory import CONFIG_FILE, SUMMARY_FILE, WEIGHTS_FILE, owned_paths, remove_run
from hypergan_tf.runs.load import load_run, load_test_split, load_training_data, require_task

__all__ = ["CONFIG_FILE", "SUMMARY_FILE", "WEIGHTS_FILE", "load_run", "load_test_split", "load_training_data", "owned_paths", "remove_run", "require_task"]
