"""Run by tests/test_distribution.py in fresh processes (devices and collectives must be
configured before TensorFlow starts). Usage:

    python distributed_worker.py mirrored OUT_DIR       # default vs mirrored on 2 logical CPUs
    python distributed_worker.py multiworker RUN_DIR    # one worker; cluster from $TF_CONFIG
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from hypergan_tf.config import TrainConfig  # noqa: E402
from hypergan_tf.runs import load_run
from hypergan_tf.training import train  # noqa: E402

CONFIG = TrainConfig(dataset="digits", steps=6, networks_per_step=4, batch_size=16, noise_dim=16, code_dim=8,
                     hidden_units=32, summary_networks=4, eval_networks=2, seed=5,
                     diversity_weight=0.0)  # the repulsion is per shard: exact equality holds without it


def final_weights(run_dir):
    _, model = load_run(run_dir)
    return [w.numpy() for w in model.weights]


def main():
    mode, out = sys.argv[1], sys.argv[2]
    if mode == "mirrored":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        results = {}
        for strategy in ("default", "mirrored"):
            config = TrainConfig(**{**CONFIG.to_dict(), "strategy": strategy})
            summary = train(config, f"{out}/{strategy}", verbose=0)
            results[strategy] = final_weights(f"{out}/{strategy}")
            results[f"{strategy}_loss"] = summary["final"]["target_loss"]
        import tensorflow as tf  # noqa: F811

        diffs = np.concatenate([np.abs(a - b).ravel() for a, b in zip(results["default"], results["mirrored"])])
        print(json.dumps({
            "replicas": tf.distribute.MirroredStrategy().num_replicas_in_sync,
            "max_abs_diff": float(diffs.max()),
            "p99_abs_diff": float(np.quantile(diffs, 0.99)),
            "fraction_over_1e-4": float(np.mean(diffs > 1e-4)),
            "loss_default": results["default_loss"], "loss_mirrored": results["mirrored_loss"],
        }))
    elif mode == "multiworker":
        config = TrainConfig(**{**CONFIG.to_dict(), "strategy": "multiworker"})
        train(config, out, verbose=0)
        np.savez(f"{out}/final_weights.npz", *final_weights(out))
        print("done")


if __name__ == "__main__":
    main()
