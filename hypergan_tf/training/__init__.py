"""Training any weight sampler: the loop (loop.py), its callbacks (callbacks.py), backups that
survive a kill (backup.py) and tf.distribute strategies (distribution.py)."""

from hypergan_tf.training.loop import train

__all__ = ["train"]
