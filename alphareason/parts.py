"""An experiment's parts, built from its config one way: the env, the network, the held-out suite.

The env's generator excludes the held-out suite's problems (its validation and test
splits), so training never sees them. Training adds its optimizer; inference adds
parameters (`alphareason.agent`).
"""

from __future__ import annotations

import dataclasses

import jax
import ml_collections
import numpy as np

from alphareason import registry, suites
from alphareason.env import Env
from alphareason.errors import UsageError
from alphareason.networks import Network, make_network
from alphareason.play import stack_problems


@dataclasses.dataclass(frozen=True)
class Parts:
  config: ml_collections.ConfigDict
  env: Env
  network: Network
  holdout: suites.Suite | None


def make_env(config: ml_collections.ConfigDict, **extra) -> Env:
  """The config's env with its settings, and `extra` (excluded problem keys, say)."""
  registry.import_env_module(config)  # a checkpoint's config may name the user's env module
  try:
    return registry.make(config.env_id, **config.env.to_dict(), **extra)
  except (TypeError, ValueError) as error:
    raise UsageError(f"bad env settings for {config.env_id}: {error}") from None


def build(config: ml_collections.ConfigDict, *, data_dir=None, with_holdout: bool = True) -> Parts:
  """The env (excluding the holdout suite's problems from its generator) and the network.

  `data_dir` is where suites are built and read (default: the user's cache). Inference
  draws no problems, so it builds without the holdout (`with_holdout=False`).
  """
  plain_env = make_env(config)
  holdout = (suites.load_suite(config.holdout_suite, data_dir=data_dir)
             if config.holdout_suite and with_holdout else None)
  if holdout is None:
    env = plain_env
  else:
    if holdout.env_id.split("-v")[0] != config.env_id.split("-v")[0]:
      raise UsageError(f"holdout suite {holdout.name!r} is for {holdout.env_id}, not {config.env_id}")
    batch = stack_problems(plain_env, holdout.held_out)
    keys = np.asarray(jax.jit(jax.vmap(plain_env.problem_key))(batch))
    env = make_env(config, exclude=keys)
  try:
    network = make_network(config.network, env)
  except ValueError as error:
    raise UsageError(f"bad network settings: {error}") from None
  return Parts(config, env, network, holdout)
