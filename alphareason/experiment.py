"""Builds an experiment's parts (env, network, optimizer) from its config, one way."""

from __future__ import annotations

import dataclasses

import jax
import ml_collections
import numpy as np
import optax

from alphareason import registry
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


def build(config: ml_collections.ConfigDict, *, data_dir=None) -> Experiment:
  """The env (excluding the holdout suite's problems from its generator) and the network.

  `data_dir` is where suites are built and read (default: the user's cache).
  """
  env_settings = config.env.to_dict()
  try:
    plain_env = registry.make(config.env_id, **env_settings)
  except (TypeError, ValueError) as error:
    raise UsageError(f"bad env settings for {config.env_id}: {error}") from None
  holdout = suites.load_suite(config.holdout_suite, data_dir=data_dir) if config.holdout_suite else None
  if holdout is None:
    env = plain_env
  else:
    if holdout.env_id.split("-v")[0] != config.env_id.split("-v")[0]:
      raise UsageError(f"holdout suite {holdout.name!r} is for {holdout.env_id}, not {config.env_id}")
    problems = [plain_env.parse_problem(p) for p in holdout.held_out]
    batch = jax.tree.map(lambda *xs: np.stack(xs), *problems)
    keys = np.asarray(jax.jit(jax.vmap(plain_env.problem_key))(batch))
    env = registry.make(config.env_id, **env_settings, exclude=keys)
  try:
    network = make_network(config.network, env)
  except ValueError as error:
    raise UsageError(f"bad network settings: {error}") from None
  return Experiment(config, env, network, make_optimizer(config.train), holdout)


def load_trained(workdir, step: int | None = None, *, data_dir=None):
  """(experiment, params, step) of a workdir's checkpoint (the latest by default)."""
  from alphareason.train.checkpoint import Checkpoints
  from alphareason.train.learner import init_train_state

  checkpoints = Checkpoints(workdir, create=False)
  try:
    step = checkpoints.latest_step() if step is None else step
    if step is None or step not in checkpoints.all_steps():
      raise UsageError(f"no checkpoint{'' if step is None else f' at step {step}'} in {workdir}")
    config = checkpoints.read_config(step)
    parts = build(config, data_dir=data_dir)
    like = init_train_state(parts.env, parts.network, parts.optimizer, config)
    state = checkpoints.restore(step, like)
  finally:
    checkpoints.close()
  return parts, state.params, step
