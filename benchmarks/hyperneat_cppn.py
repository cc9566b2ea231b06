"""Time one CPPN painting a whole target network: neat-python's `activate` (one input
vector per Python call) against the NumPy evaluation over all coordinate rows at once.

    python benchmarks/hyperneat_cppn.py [--target mnist-small] [--mutations 20]
"""

from __future__ import annotations

import argparse
import time

import neat
import numpy as np

from hypergan_tf.config import TrainConfig
from hypergan_tf.samplers.hyperneat import CPPN, Substrate
from hypergan_tf.targets import get_target
from hypergan_tf.training.evolution import neat_config


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="mnist-small")
    parser.add_argument("--mutations", type=int, default=20, help="mutations applied to the genome (hidden nodes, connections)")
    args = parser.parse_args()
    target = get_target(args.target, 10)
    substrate = Substrate(target)
    config = neat_config(TrainConfig(method="hyperneat", population=2), Substrate.num_inputs(target))
    genome = next(iter(neat.Population(config, seed=0).population.values()))
    for _ in range(args.mutations):
        genome.mutate(config.genome_config)
    cppn = CPPN.from_genome(genome, config)
    network = neat.nn.FeedForwardNetwork.create(genome, config)
    rows = substrate.inputs
    started = time.perf_counter()
    looped = np.array([network.activate(row) for row in rows.tolist()])
    loop_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(10):
        vectorised = cppn(rows)
    numpy_seconds = (time.perf_counter() - started) / 10
    assert np.allclose(looped, vectorised, rtol=1e-6, atol=1e-9)
    print(f"{args.target}: {len(rows):,} CPPN queries, CPPN of {cppn.size['nodes']} nodes and {cppn.size['connections']} connections")
    print(f"neat-python activate, one row per call: {loop_seconds:.3f} s; NumPy, all rows at once: {numpy_seconds * 1000:.1f} ms "
          f"({loop_seconds / numpy_seconds:.0f}x faster); same outputs")


if __name__ == "__main__":
    main()
