"""Trained agents for inference: a workdir's checkpoints, or an agent shipped with the package.

An agent is a network's parameters with the config that rebuilds its env and network.
`load_agent` opens one checkpoint; `TrainedRun` keeps a source open to play several of
its checkpoints in turn (`eval --steps all`). Only parameters are restored: neither the
replay buffer nor the optimizer state is read.

Shipped agents live in `alphareason/agents/<name>/`, in the layout of a workdir's
checkpoints, so they load the same way; `alphareason export` writes one from a workdir.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.resources
import os
import pathlib
from collections.abc import Iterator, Sequence

import jax
import ml_collections

from alphareason import parallel
from alphareason.checkpoint import Checkpoints
from alphareason.config import apply_override
from alphareason.errors import UsageError
from alphareason.parts import Parts, build, make_env
from alphareason.search import configured_value_scale
from alphareason.strategies import AgentSearch, agent_search


def shipped_agents() -> dict[str, pathlib.Path]:
  """Name -> folder of each agent shipped with the package, sorted by name."""
  root = pathlib.Path(str(importlib.resources.files("alphareason") / "agents"))
  if not root.is_dir():
    return {}
  return {path.name: path for path in sorted(root.iterdir())
          if (path / "checkpoints").is_dir()}


def agent_folder(source: str | os.PathLike) -> pathlib.Path:
  """The folder holding `source`'s checkpoints: a shipped agent's name (a str such as
  "game24"), or else a workdir."""
  if isinstance(source, str) and source in shipped_agents():
    return shipped_agents()[source]
  return pathlib.Path(source)


@dataclasses.dataclass(frozen=True)
class Agent:
  """A trained network ready to play, and where it came from."""

  parts: Parts  # the config, env and network its checkpoint rebuilds
  params: dict
  step: int  # the training iteration of its checkpoint
  source: str  # the workdir, or the shipped agent's name
  env_overrides: tuple[str, ...] = ()  # env settings played other than trained ("env.max_numbers=9")

  @property
  def env(self):
    return self.parts.env

  @property
  def network(self):
    return self.parts.network

  @property
  def config(self):
    return self.parts.config

  @property
  def test_value_scale(self) -> float:
    """Test-time Gumbel MCTS's weight of a child's Q against its prior."""
    return configured_value_scale(self.config)

  @property
  def search(self) -> AgentSearch:
    """The agent's own test-time search: what `solve` and `eval` play by default."""
    return agent_search(self.config)


class TrainedRun:
  """A source's checkpoints, opened for inference: the parts of its latest config, and the
  parameters of any kept step.

  `env_overrides` ("env.max_numbers=9", ...) play the checkpoint in an env with other
  settings. Only the network's parameters are restored, and they must fit the network
  built for that env exactly: a Countdown set network plays more numbers than it was
  trained on, while a network whose shapes follow the env's size is refused.
  """

  def __init__(self, source: str | os.PathLike, *, env_overrides: Sequence[str] = ()):
    if bad := [o for o in env_overrides if not o.startswith("env.")]:
      raise UsageError(f"only env settings can change at test time, not {bad[0]!r}")
    self.source = str(source)
    self.env_overrides = tuple(env_overrides)
    self._checkpoints = Checkpoints(agent_folder(source), create=False)
    try:
      self.steps = self._checkpoints.all_steps()
      if not self.steps:
        raise UsageError(f"no checkpoint in {source}: train there first")
      config = self._checkpoints.read_config(self.steps[-1])
      if env_overrides:
        # What the observation meant in training stays, and how training drew its
        # problems goes, unless overridden too.
        trained_env = make_env(config)
        config.env.update(trained_env.observation_settings())
        for name in trained_env.draw_settings():
          if name in config.env:
            del config.env[name]
        for override in env_overrides:
          apply_override(config, override)
      self.parts = build(config, with_holdout=False)
    except BaseException:
      self._checkpoints.close()  # a refused run leaves no open manager behind
      raise

  @functools.cached_property
  def _like_params(self):
    return jax.jit(self.parts.network.init, out_shardings=parallel.replicated())(
        jax.random.PRNGKey(0))

  def params(self, step: int, like=None):
    """Step `step`'s parameters, in the shapes and shardings of `like` (default: those of
    the network this run plays): a network built for another env, where they fit, as a
    run that fine-tunes them has. Parameters of other shapes are refused."""
    if step not in self.steps:
      raise UsageError(f"no checkpoint at step {step} in {self.source}; "
                       f"kept steps: {', '.join(map(str, self.steps))}")
    return self._checkpoints.restore_params(step, self._like_params if like is None else like)

  def observing_as_trained(self, config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """`config` with the env settings that fix what an observation means to this network
    (Countdown's moves-left scale) as trained: a run that fine-tunes it on another env
    (`train.init_from`) keeps its features' meaning."""
    config = config.copy_and_resolve_references()
    config.env.update(self.parts.env.observation_settings())
    return config

  def agent(self, step: int | None = None) -> Agent:
    """The agent of checkpoint `step` (default: the latest)."""
    step = self.steps[-1] if step is None else step
    return Agent(self.parts, self.params(step), step, self.source, self.env_overrides)

  def agents(self, steps: Sequence[int]) -> Iterator[Agent]:
    """The agents of `steps` in turn, each restored when it is reached."""
    for step in steps:
      yield self.agent(step)

  def close(self) -> None:
    self._checkpoints.close()

  def __enter__(self) -> "TrainedRun":
    return self

  def __exit__(self, *exc) -> None:
    self.close()


def load_agent(source: str | os.PathLike, step: int | None = None, *,
               env_overrides: Sequence[str] = ()) -> Agent:
  """The agent of a checkpoint: a shipped agent's name or a workdir (the latest step by
  default)."""
  with TrainedRun(source, env_overrides=env_overrides) as run:
    return run.agent(step)


# The agent's own search, as export's keywords -> its config's fields.
SEARCH_FIELDS = dict(strategy="test_strategy", budget="test_budget", restarts="test_restarts",
                     root_noise="test_root_noise", value_scale="test_value_scale",
                     score="test_score")


def export_agent(source: str | os.PathLike, out: str | os.PathLike,
                 step: int | None = None, *, env_overrides: Sequence[str] = (),
                 **search) -> pathlib.Path:
  """Writes checkpoint `step` (default: the latest) of `source` to `out` as an agent: its
  parameters and config only, in the layout of a workdir's checkpoints. `search` sets
  the agent's own test-time search where given (not None), the `search.test_*` fields
  `solve` and `eval` play by default: `strategy`, `budget`, `restarts`, `root_noise`,
  `value_scale` and `score` (SEARCH_FIELDS). `env_overrides` make the env it plays by
  default other than the one it trained in, as in `TrainedRun` (a Countdown agent of 4
  to 6 numbers shipped for 3 to 9)."""
  out = pathlib.Path(out)
  if (out / "checkpoints").exists():
    raise UsageError(f"{out} already holds checkpoints: export to a new folder")
  with TrainedRun(source, env_overrides=env_overrides) as run:
    agent = run.agent(step)
    config = agent.config.copy_and_resolve_references()
    for name, value in search.items():
      if value is not None:
        config.search[SEARCH_FIELDS[name]] = value
    agent_search(config)  # refuses an unknown strategy before anything is written
    checkpoints = Checkpoints(out, keep=1)
    try:
      checkpoints.save(agent.step, {"params": agent.params}, config)
      checkpoints.wait()
    finally:
      checkpoints.close()
  return out / "checkpoints" / str(agent.step)
