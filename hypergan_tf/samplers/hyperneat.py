"""HyperNEAT (Stanley, D'Ambrosio & Gauci, 2009): evolved CPPNs paint the target network.

A compositional pattern-producing network (CPPN) is a small feed-forward network of
periodic, Gaussian and sigmoidal units. Queried at every connection of the target
network (the substrate) with the geometry of that connection, it returns the weight::

    inputs  = (source y, x, channel,  destination y, x, channel,  distance,  layer one-hot)
    outputs = (weight, bias)

Positions are in [-1, 1] (`TargetLayer.substrate`): a conv kernel entry reads input
channel c at offset (dy, dx) from its unit, a dense entry reads the input neuron at its
place in the grid it was flattened from. Output 0 at the kernel entries of a unit,
standardised over its fan-in and times the layer's He scale sqrt(2 / fan_in), gives its
weights; output 1 at (source 0, destination = the unit) is the unit's bias. Without the
standardisation a CPPN's smooth, mostly one-signed outputs add up over the fan-in and the
logits explode (mnist-small on digits: mean cross-entropy of a generation about 9). So the whole target network (mnist-small: 31,530 numbers) comes from a
genome of a few dozen genes, and weights vary smoothly, symmetrically or periodically
with the geometry.

The CPPNs are evolved by NEAT with `neat-python` (training/evolution.py). Here a CPPN is
evaluated with NumPy over all coordinate rows at once (`CPPN.__call__`), not with
neat-python's `activate`, which takes one input vector per Python call.

A trained HyperNEAT sampler holds the `networks` best genomes of the evolution (the
generation champions best on held-out images), painted, best first: network i is genome i. `max_networks` is their number; there is no
latent space. The genomes themselves go to RUN/hyperneat_genomes.json (`CPPN.to_json`: node
lists and numbers only, nothing that executes when loaded) and repaint the same weights.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import keras
import numpy as np
import tensorflow as tf

from hypergan_tf.errors import HyperganError
from hypergan_tf.samplers.base import NETWORK_SEED, WeightSampler
from hypergan_tf.targets import TargetSpec

if TYPE_CHECKING:
    from hypergan_tf.config import TrainConfig


def _clip(z, low, high):
    return np.clip(z, low, high)


# neat-python's activation functions (neat/activations.py, same clamps and gains) over arrays.
ACTIVATIONS = {
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-_clip(5.0 * z, -60.0, 60.0))),
    "tanh": lambda z: np.tanh(_clip(2.5 * z, -60.0, 60.0)),
    "sin": lambda z: np.sin(_clip(5.0 * z, -60.0, 60.0)),
    "gauss": lambda z: np.exp(-5.0 * _clip(z, -3.4, 3.4) ** 2),
    "relu": lambda z: np.maximum(z, 0.0),
    "identity": lambda z: z,
    "abs": np.abs,
    "clamped": lambda z: _clip(z, -1.0, 1.0),
}
# Node attributes of a CPPN's JSON form, in order.
NODE_FIELDS = ("key", "activation", "bias", "response", "links")


class CPPN:
    """A feed-forward CPPN as plain data: input keys, output keys and its nodes in
    evaluation order, each (key, activation, bias, response, [(input key, weight), ...])."""

    def __init__(self, inputs: list[int], outputs: list[int], nodes: list[tuple], fitness: float | None = None,
                 val_accuracy: float | None = None):
        self.inputs, self.outputs, self.nodes = list(inputs), list(outputs), [tuple(n) for n in nodes]
        self.fitness, self.val_accuracy = fitness, val_accuracy  # on its generation's batch; on held-out images

    @classmethod
    def from_genome(cls, genome, neat_config) -> "CPPN":
        """The expressed network of a neat-python genome (its enabled connections on a path
        to an output), as neat-python's FeedForwardNetwork builds it."""
        import neat

        network = neat.nn.FeedForwardNetwork.create(genome, neat_config)
        nodes = []
        for key, _, _, bias, response, links in network.node_evals:
            gene = genome.nodes[key]
            if gene.aggregation != "sum" or gene.activation not in ACTIVATIONS:
                raise HyperganError(f"CPPN node {key} uses {gene.activation}/{gene.aggregation}; only sum aggregation and "
                                    f"the activations {', '.join(ACTIVATIONS)} are supported")
            nodes.append((int(key), gene.activation, float(bias), float(response), [(int(i), float(w)) for i, w in links]))
        return cls(network.input_nodes, network.output_nodes, nodes, genome.fitness)

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        """inputs [N, num_inputs] -> outputs [N, num_outputs], every row at once (float64)."""
        values = {key: inputs[:, i].astype(np.float64) for i, key in enumerate(self.inputs)}
        zero = np.zeros(len(inputs))
        for key, activation, bias, response, links in self.nodes:
            total = zero
            for source, weight in links:
                total = total + values[source] * weight
            values[key] = ACTIVATIONS[activation](bias + response * total)
        return np.stack([values.get(key, zero) for key in self.outputs], axis=-1)

    @property
    def size(self) -> dict[str, int]:
        return {"nodes": len(self.nodes), "connections": sum(len(node[4]) for node in self.nodes)}

    def to_json(self) -> dict:
        return {"inputs": self.inputs, "outputs": self.outputs, "fitness": self.fitness, "val_accuracy": self.val_accuracy,
                "nodes": [dict(zip(NODE_FIELDS, (key, act, bias, resp, [list(link) for link in links])))
                          for key, act, bias, resp, links in self.nodes]}

    @classmethod
    def from_json(cls, values: dict, where: str = "genome") -> "CPPN":
        try:
            nodes = [tuple(node[field] for field in NODE_FIELDS) for node in values["nodes"]]
            cppn = cls([int(k) for k in values["inputs"]], [int(k) for k in values["outputs"]],
                       [(int(k), str(a), float(b), float(r), [(int(i), float(w)) for i, w in links]) for k, a, b, r, links in nodes],
                       values.get("fitness"), values.get("val_accuracy"))
        except (KeyError, TypeError, ValueError) as err:
            raise HyperganError(f"{where} is not a CPPN written by hypergan-tf ({type(err).__name__}: {err})") from None
        unknown = sorted({node[1] for node in cppn.nodes} - set(ACTIVATIONS))
        if unknown:
            raise HyperganError(f"{where} uses unknown activation(s) {unknown}; known: {', '.join(ACTIVATIONS)}")
        return cppn


class Substrate:
    """The target network's connections as CPPN input rows: every kernel entry of every
    layer, then every unit's bias, with the scale each layer's weights get."""

    def __init__(self, target: TargetSpec):
        self.target = target
        layers = len(target.layers)
        rows, self.pieces = [], []  # pieces: (parameter name, shape, first row, output, scale)
        start = 0
        for index, (layer, (source, destination)) in enumerate(zip(target.layers, target.substrates())):
            one_hot = np.zeros(layers, np.float32)
            one_hot[index] = 1.0
            bias_destination = destination.reshape(-1, layer.units, 3)[0]  # [units, 3]
            for name, src, dst, output, scale in (
                ("kernel", source.reshape(-1, 3), destination.reshape(-1, 3), 0, math.sqrt(2.0 / layer.fan_in)),
                ("bias", np.zeros_like(bias_destination), bias_destination, 1, 1.0),
            ):
                distance = np.linalg.norm(src - dst, axis=-1, keepdims=True) / math.sqrt(12.0)  # in [0, 1]
                rows.append(np.concatenate([src, dst, distance, np.broadcast_to(one_hot, (len(src), layers))], axis=-1))
                shape = layer.param_shapes[name]
                self.pieces.append((f"{layer.name}/{name}", shape, start, output, scale))
                start += len(src)
        self.inputs = np.concatenate(rows).astype(np.float32)

    @staticmethod
    def num_inputs(target: TargetSpec) -> int:
        """CPPN inputs for `target`: source (3), destination (3), distance, layer one-hot."""
        return 7 + len(target.layers)

    def query(self, cppn: CPPN) -> dict[str, np.ndarray]:
        """The CPPN's raw output at every parameter: output 0 at the kernel entries, output 1
        at the units' biases, {name: [*shape]}."""
        outputs = cppn(self.inputs)
        return {name: outputs[start : start + math.prod(shape), output].reshape(shape) for name, shape, start, output, _ in self.pieces}

    def paint(self, cppn: CPPN) -> dict[str, np.ndarray]:
        """One network's weights {name: [*shape]} (float32) from one CPPN: each unit's
        incoming weights standardised (mean 0, std 1 over its fan-in) then at He scale, so
        the CPPN sets the pattern and the activations keep their scale; biases as painted."""
        weights = {}
        for (name, shape, _, output, scale), value in zip(self.pieces, self.query(cppn).values()):
            if output == 0:  # a kernel
                per_unit = value.reshape(-1, shape[-1])
                value = ((per_unit - per_unit.mean(0)) / (per_unit.std(0) + 1e-8)).reshape(shape)
            weights[name] = (value * scale).astype(np.float32)
        return weights

    def paint_all(self, cppns: list[CPPN]) -> dict[str, np.ndarray]:
        """Networks of `cppns` stacked: {name: [P, *shape]}."""
        painted = [self.paint(cppn) for cppn in cppns]
        return {name: np.stack([weights[name] for weights in painted]) for name in painted[0]}


@keras.saving.register_keras_serializable(package="hypergan_tf")
class HyperNEAT(WeightSampler):
    """The best `networks` genomes of an evolution, painted onto the target, best first. Trained by evolution (training/evolution.py), not by an optimizer."""

    training = "evolution"

    def __init__(self, target: TargetSpec, networks: int = 5, input_mean: float = 0.0, input_std: float = 1.0, seed: int = 0,
                 likelihood: str | None = None, noise_std: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.target = target
        self.networks = int(networks)
        if self.networks < 1:
            raise HyperganError("--kept-networks must be at least 1")
        self.input_mean, self.input_std = float(input_mean), float(input_std)
        self.seed = int(seed)
        self.substrate = Substrate(target)
        self.cppns: list[CPPN] = []  # the genomes behind the painted networks (set by `set_genomes`)
        # The painted networks: not trained by gradients, saved in model.weights.h5.
        self.params = {name: self.add_weight(shape=(self.networks,) + shape, initializer="zeros", trainable=False,
                                             name=name.replace("/", "_"))
                       for name, shape in target.param_shapes.items()}
        self.use_likelihood(likelihood, noise_std)
        self.built = True

    @property
    def max_networks(self) -> int:
        return self.networks

    def set_genomes(self, cppns: list[CPPN]) -> None:
        """Paint `cppns` (best first, exactly `networks` of them) into the sampler."""
        if len(cppns) != self.networks:
            raise HyperganError(f"this HyperNEAT sampler holds {self.networks} networks, got {len(cppns)} genomes")
        for name, value in self.substrate.paint_all(cppns).items():
            self.params[name].assign(value)
        self.cppns = list(cppns)

    def network_weights(self, num_networks: int, seed: int = NETWORK_SEED) -> dict[str, tf.Tensor]:
        """The `num_networks` best painted networks (the seed does not matter: they are fixed)."""
        self.check_count(num_networks)
        return {name: tf.convert_to_tensor(value)[:num_networks] for name, value in self.params.items()}

    def describe(self) -> str:
        return f"HyperNEAT ({self.networks} best genome{'s' if self.networks > 1 else ''})"

    def parameter_counts(self) -> dict[str, int]:
        """No trainable parameters: the target's size, and the best CPPN's genes when the
        genomes are known (after training, or `set_genomes`)."""
        counts = {"target_network": int(self.target.num_params)}
        if self.cppns:
            best = self.cppns[0].size
            counts.update({"best_cppn_nodes": best["nodes"], "best_cppn_connections": best["connections"]})
        return counts

    # ---- training hooks (evolution: training/evolution.py) -----------------------------
    @classmethod
    def from_train_config(cls, config: "TrainConfig", target: TargetSpec, total_steps: int = 1) -> "HyperNEAT":
        return cls(target, config.kept_networks, input_mean=config.input_mean or 0.0, input_std=config.input_std or 1.0,
                   seed=config.seed, likelihood=config.likelihood, noise_std=config.noise_std)

    @classmethod
    def trained_networks(cls, config: "TrainConfig") -> tuple[str, int]:
        return "--population", config.population

    @classmethod
    def check_config(cls, config: "TrainConfig", target: TargetSpec) -> None:
        from hypergan_tf.config import TrainConfig

        defaults = TrainConfig.for_dataset({"method": config.method, "dataset": config.dataset})
        changed = {name for name in NOT_APPLICABLE if getattr(config, name) != getattr(defaults, name)}
        if "epochs" in changed and config.steps is None:
            changed.discard("steps")  # --epochs given drops the recipe's steps: the user did not set --steps
        ignored = [f"--{name.replace('_', '-')}" for name in NOT_APPLICABLE if name in changed]
        if ignored:
            raise HyperganError(f"{', '.join(ignored)} do{'es' if len(ignored) == 1 else ''} not apply to --method hyperneat "
                                "(evolution: set its length with --generations, its size with --population)")
        if config.kept_networks > config.population:
            raise HyperganError(f"--kept-networks {config.kept_networks} is more than the --population {config.population} it is chosen from")
        super().check_config(config, target)

    def get_config(self) -> dict:
        return {"name": self.name, "target": self.target.to_config(), "networks": self.networks, "input_mean": self.input_mean,
                "input_std": self.input_std, "seed": self.seed, **self.likelihood_config()}

    @classmethod
    def from_config(cls, config: dict) -> "HyperNEAT":
        config = dict(config)
        return cls(TargetSpec.from_config(config.pop("target")), **config)


# TrainConfig fields of gradient training that evolution does not use: left at their
# defaults, or `train --method hyperneat` refuses them.
NOT_APPLICABLE = ("members", "dropout_rate", "epochs", "steps", "networks_per_step", "beta", "beta_final", "per_layer_discriminator", "mixer_noise",
                  "g_learning_rate", "d_learning_rate", "lr_schedule", "code_dim", "hidden_units", "use_mixer", "batch_norm", "batch_norm_affine",
                  "diversity", "diversity_weight", "diversity_scale", "diversity_warmup", "diversity_delay", "off_data", "off_data_objective", "off_data_weight", "off_data_probes", "off_data_networks", "precision", "recompute", "augment", "mixer_pretrain_steps", "backup_every", "early_stopping", "embedding_dim",
                  "hyper_layers", "strategy", "deterministic")


# RUN/hyperneat_genomes.json: the kept genomes, best first (network i of the run is genome i),
# each `CPPN.to_json`, with the names of the CPPN inputs in order and of its outputs.
GENOMES_FORMAT = "hypergan-tf hyperneat genomes v1"
INPUT_NAMES = ["source_y", "source_x", "source_channel", "destination_y", "destination_x", "destination_channel",
               "distance", "layer_one_hot (one input per layer)"]


def genomes_json(cppns: list[CPPN]) -> dict:
    return {"format": GENOMES_FORMAT, "inputs": INPUT_NAMES, "outputs": ["weight", "bias"], "genomes": [cppn.to_json() for cppn in cppns]}


def load_genomes(path) -> list[CPPN]:
    """The genomes of a RUN/hyperneat_genomes.json, best first (JSON only: nothing runs on load)."""
    path = Path(path)
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise HyperganError(f"cannot read {path} ({type(err).__name__}); is it a HyperNEAT run's genome file?") from None
    if not isinstance(values, dict) or values.get("format") != GENOMES_FORMAT or not isinstance(values.get("genomes"), list):
        raise HyperganError(f"{path} is not a HyperNEAT genome file (format {GENOMES_FORMAT!r})")
    return [CPPN.from_json(genome, f"{path}, genome {i}") for i, genome in enumerate(values["genomes"])]
