"""Builds an experiment's parts (env, network, optimizer) from its config, one way."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import jax
import ml_collections
import numpy as np
import optax

from alphareason import parallel, registry
from alphareason.config import apply_override
from alphareason.env import Env
from alphareason.errors import UsageError
from alphareason.eval import suites
from alphareason.networks import Network, make_network
from alphareason.train.learner import make_optimizer


@dataclasses.dataclass(frozen=True)
class Experiment:
  config: ml_collections.ConfigDict
  env: Env
  network: Network
  optimizer: optax.GradientTransformation
  holdout: suites.Suite | None


def _make_env(config: ml_collections.ConfigDict, **extra) -> Env:
  """The config's env with its settings, and `extra` (excluded problem keys, say)."""
  registry.import_env_module(config)  # a checkpoint's config may name the user's env module
  try:
    return registry.make(config.env_id, **config.env.to_dict(), **extra)
  except (TypeError, ValueError) as error:
    raise UsageError(f"bad env settings for {config.env_id}: {error}") from None


def build(config: ml_collections.ConfigDict, *, data_dir=None) -> Experiment:
  """The env (excluding the holdout suite's problems from its generator) and the network.

  `data_dir` is where suites are built and read (default: the user's cache).
  """
  plain_env = _make_env(config)
  holdout = suites.load_suite(config.holdout_suite, data_dir=data_dir) if config.holdout_suite else None
  if holdout is None:
    env = plain_env
  else:
    if holdout.env_id.split("-v")[0] != config.env_id.split("-v")[0]:
      raise UsageError(f"holdout suite {holdout.name!r} is for {holdout.env_id}, not {config.env_id}")
    problems = [plain_env.parse_problem(p) for p in holdout.held_out]
    batch = jax.tree.map(lambda *xs: np.stack(xs), *problems)
    keys = np.asarray(jax.jit(jax.vmap(plain_env.problem_key))(batch))
    env = _make_env(config, exclude=keys)
  try:
    network = make_network(config.network, env)
  except ValueError as error:
    raise UsageError(f"bad network settings: {error}") from None
  return Experiment(config, env, network, make_optimizer(config.train), holdout)


class TrainedRun:
  """A workdir's checkpoints, opened for inference: the experiment of its latest config,
  and the parameters of any kept step.

  `env_overrides` ("env.max_numbers=9", ...) play the checkpoint in an env with other
  settings. Only the network's parameters are restored, and they must fit the network
  built for that env exactly: a Countdown set network plays more numbers than it was
  trained on, while a network whose shapes follow the env's size is refused.
  """

  def __init__(self, workdir, *, data_dir=None, env_overrides: Sequence[str] = ()):
    from alphareason.train.checkpoint import Checkpoints

    if bad := [o for o in env_overrides if not o.startswith("env.")]:
      raise UsageError(f"only env settings can change at test time, not {bad[0]!r}")
    self.workdir = workdir
    self.env_overrides = tuple(env_overrides)
    self._checkpoints = Checkpoints(workdir, create=False)
    try:
      self.steps = self._checkpoints.all_steps()
      if not self.steps:
        raise UsageError(f"no checkpoint in {workdir}: train there first")
      config = self._checkpoints.read_config(self.steps[-1])
      if env_overrides:
        # What the observation meant in training stays, unless it is overridden too.
        config.env.update(_make_env(config).observation_settings())
        for override in env_overrides:
          apply_override(config, override)
      self.parts = build(config, data_dir=data_dir)
      self._like_params = jax.jit(self.parts.network.init, out_shardings=parallel.replicated())(
          jax.random.PRNGKey(0))
    except BaseException:
      self._checkpoints.close()  # a refused run leaves no open manager behind
      raise

  def params(self, step: int):
    if step not in self.steps:
      raise UsageError(f"no checkpoint at step {step} in {self.workdir}; "
                       f"kept steps: {', '.join(map(str, self.steps))}")
    return self._checkpoints.restore_params(step, self._like_params)

  def close(self) -> None:
    self._checkpoints.close()


def load_trained(workdir, step: int | None = None, *, data_dir=None,
                 env_overrides: Sequence[str] = ()):
  """(experiment, params, step) of a workdir's checkpoint (the latest by default)."""
  run = TrainedRun(workdir, data_dir=data_dir, env_overrides=env_overrides)
  try:
    step = run.steps[-1] if step is None else step
    return run.parts, run.params(step), step
  finally:
    run.close()
