"""The likelihood of the target networks' outputs: what every sampler's training step
minimises, and how its logs score the networks (a registry).

A data set has a task (`Dataset.task`: "classification" or "regression"); training
records the likelihood of that task (`default_likelihood`) in the run's configuration,
and every sampler asks it, and only it, for

- `loss(outputs, targets)`: the mean negative log-likelihood over the K networks and
  the batch (outputs [K, B, C], targets [B]);
- `member_score` / `ensemble_score`: the score of the logs, averaged over the K
  networks / of their ensemble (`score` names it: accuracy, or RMSE);
- `gain(ensemble, member)`: how much the ensemble beats its members (> 0: better);
- `spread(outputs)`: how much the K networks differ in their outputs.

`categorical` is the cross-entropy of classifiers (objectives/classification.py, as
before: classification runs train bit-identically); `gaussian` is the regression
likelihood N(y; f(x), noise_std^2) with a fixed noise std (`TrainConfig.noise_std`).
A new likelihood is one subclass added to `LIKELIHOODS`.
"""

from __future__ import annotations

import abc
import math
from typing import ClassVar

import tensorflow as tf

from hypergan_tf.errors import HyperganError
from hypergan_tf.objectives.classification import cross_entropy, ensemble_accuracy, mean_accuracy
from hypergan_tf.objectives.diversity import pairwise_disagreement

DEFAULT_LIKELIHOOD = "categorical"  # of a configuration that names none (classification runs)


class Likelihood(abc.ABC):
    name: ClassVar[str]
    task: ClassVar[str]  # the data sets it fits (Dataset.task)
    score: ClassVar[str]  # the name of the logs' score: "accuracy" -> accuracy, ensemble_accuracy
    higher_is_better: ClassVar[bool]
    spread_name: ClassVar[str]  # the name of `spread` in the logs

    def __init__(self, noise_std: float = 1.0):
        self.noise_std = float(noise_std)

    @abc.abstractmethod
    def loss(self, outputs, targets) -> tf.Tensor:
        """Mean negative log-likelihood over the K networks and the batch."""

    @abc.abstractmethod
    def member_score(self, outputs, targets) -> tf.Tensor:
        """The score of each network, averaged over the K networks."""

    @abc.abstractmethod
    def ensemble_score(self, outputs, targets) -> tf.Tensor:
        """The score of the K networks' ensemble."""

    @abc.abstractmethod
    def spread(self, outputs) -> tf.Tensor:
        """How much the K networks' outputs differ (0: alike)."""

    def gain(self, ensemble, member) -> tf.Tensor:
        """How much better the ensemble scores than its members (> 0: better)."""
        return ensemble - member if self.higher_is_better else member - ensemble

    def log_names(self) -> dict[str, str]:
        """The names of the logs: {"score": .., "ensemble_score": .., "spread": ..}."""
        return {"score": self.score, "ensemble_score": f"ensemble_{self.score}", "spread": self.spread_name}


class Categorical(Likelihood):
    """Softmax cross-entropy of classifiers: outputs are logits [K, B, classes], targets int labels [B]."""

    name, task, score, higher_is_better, spread_name = "categorical", "classification", "accuracy", True, "disagreement"

    def loss(self, outputs, targets):
        return cross_entropy(outputs, targets)

    def member_score(self, outputs, targets):
        return mean_accuracy(outputs, targets)

    def ensemble_score(self, outputs, targets):
        return ensemble_accuracy(outputs, targets)

    def spread(self, outputs):
        return pairwise_disagreement(outputs)


class Gaussian(Likelihood):
    """N(y; f(x), noise_std^2) with a fixed noise std: outputs [K, B, 1], float targets [B].

    The loss is the exact negative log-likelihood in nats, 0.5 ((y - f) / std)^2 +
    log(std) + 0.5 log(2 pi), so its value compares with the NLL `evaluate` reports; up to
    its constants and 1 / (2 std^2) it is the mean squared error."""

    name, task, score, higher_is_better, spread_name = "gaussian", "regression", "rmse", False, "output_std"

    def _errors(self, outputs, targets):
        return outputs[..., 0] - tf.cast(targets, outputs.dtype)[None, :]  # [K, B]

    def loss(self, outputs, targets):
        squared = tf.reduce_mean(tf.square(self._errors(outputs, targets) / self.noise_std))
        return 0.5 * squared + math.log(self.noise_std) + 0.5 * math.log(2 * math.pi)

    def member_score(self, outputs, targets):
        return tf.reduce_mean(tf.sqrt(tf.reduce_mean(tf.square(self._errors(outputs, targets)), axis=1)))

    def ensemble_score(self, outputs, targets):
        return tf.sqrt(tf.reduce_mean(tf.square(tf.reduce_mean(self._errors(outputs, targets), axis=0))))

    def spread(self, outputs):
        return tf.reduce_mean(tf.math.reduce_std(outputs, axis=0))


LIKELIHOODS: dict[str, type[Likelihood]] = {cls.name: cls for cls in (Categorical, Gaussian)}


def default_likelihood(task: str) -> str:
    """The likelihood a data set of `task` trains with: the first registered for it."""
    for name, cls in LIKELIHOODS.items():
        if cls.task == task:
            return name
    raise HyperganError(f"no likelihood fits the task {task!r}; known tasks: {', '.join(sorted({c.task for c in LIKELIHOODS.values()}))}")


def get_likelihood(name: str | None, noise_std: float = 1.0) -> Likelihood:
    name = name or DEFAULT_LIKELIHOOD
    if name not in LIKELIHOODS:
        raise HyperganError(f"unknown likelihood {name!r}; choose one of: {', '.join(LIKELIHOODS)}")
    return LIKELIHOODS[name](noise_std)
