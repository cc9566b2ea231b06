"""Choosing a tf.distribute strategy by name (`--strategy`).

- `default`: one device.
- `mirrored`: MirroredStrategy over the local devices (GPUs, or logical CPUs).
- `multiworker`: MultiWorkerMirroredStrategy; the cluster comes from $TF_CONFIG, e.g.
  `{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}`.
  It must be created before TensorFlow runs any op, so `train` makes it first.

Each replica gets a shard of every data batch and evaluates the same K networks on it
(their noise is drawn statelessly from the seed and step), and losses are divided by
the number of replicas before gradients are summed: a step equals the single-device step.
"""

from __future__ import annotations

import json
import os

import tensorflow as tf

from hypergan_tf.errors import HyperganError

STRATEGIES = ("default", "mirrored", "multiworker")


def make_strategy(name: str) -> tf.distribute.Strategy:
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        try:
            cluster = json.loads(os.environ["TF_CONFIG"])["cluster"]["worker"]
        except (KeyError, json.JSONDecodeError, TypeError):
            raise HyperganError(
                '--strategy multiworker needs $TF_CONFIG, e.g. {"cluster": {"worker": ["localhost:12345", "localhost:12346"]}, '
                '"task": {"type": "worker", "index": 0}}'
            ) from None
        if not cluster:
            raise HyperganError("$TF_CONFIG lists no workers")
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise HyperganError(f"unknown strategy {name!r}; choose one of: {', '.join(STRATEGIES)}")
