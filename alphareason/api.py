"""The library API: what the `alphareason` command does, as functions it only prints from.

    import alphareason as ar
    agent = ar.load_agent("game24")                    # a shipped agent, or a workdir
    print(ar.solve(agent, "1 5 5 5")[0].answer)        # 5*(5-1/5), re-checked
    evaluation = ar.evaluate(agent, "game24", ["greedy", "mcts"], [16, 64])
    evaluation.write_report("runs/eval")               # results.json, report.md, scaling.png
    ar.train_agent("configs/game24.py", "runs/game24") # or a ConfigDict; resumes if it can
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
from collections.abc import Sequence

import ml_collections

from alphareason.errors import UsageError


@dataclasses.dataclass(frozen=True)
class Solution:
  problem: str  # the problem's canonical text
  solved: bool  # the env verified the answer and the independent checker accepted it
  answer: str | None  # the checked answer, None when none was found
  nfe: int  # network evaluations spent


def load_agent(source, step: int | None = None, *, env_overrides: Sequence[str] = ()):
  """A trained agent: a shipped agent's name ("game24"; `shipped_agents()` lists them)
  or a workdir, at its latest checkpoint or `step`. `env_overrides` ("env.KEY=VALUE")
  play it in an env with other settings where its parameters fit."""
  from alphareason.agent import load_agent as load
  return load(source, step, env_overrides=env_overrides)


def export_agent(source, out: str | os.PathLike, step: int | None = None, *,
                 value_scale: float | None = None,
                 env_overrides: Sequence[str] = ()) -> pathlib.Path:
  """Writes an agent's parameters and config (no optimizer state or replay) to `out`, in
  the layout of a workdir's checkpoints: what `load_agent(out)` reads, and how the
  shipped agents were made. `value_scale` sets the agent's own test-time value scale;
  `env_overrides` ("env.max_numbers=9", ...) the env it plays, where its parameters fit."""
  from alphareason.agent import export_agent as export
  _check_value_scale(value_scale)
  return export(source, out, step, value_scale=value_scale, env_overrides=env_overrides)


def shipped_agents() -> list[str]:
  """The names of the agents shipped with the package."""
  from alphareason.agent import shipped_agents as shipped
  return list(shipped())


def _check_value_scale(value_scale: float | None) -> None:
  if value_scale is not None and not value_scale > 0:
    raise UsageError(f"the value scale must be above 0, got {value_scale}")


def solve(agent, problems: str | Sequence[str], *, simulations: int = 64,
          value_scale: float | None = None) -> list[Solution]:
  """Searches each problem with MCTS at `simulations` per move (the verifier in search
  where the task is self-verifiable); an answer is returned only when the independent
  checker accepts it. `value_scale` weighs a child's Q against its prior (default: the
  agent's own, `Agent.test_value_scale`)."""
  import jax

  from alphareason.play import Player, stack_problems

  texts = [problems] if isinstance(problems, str) else list(problems)
  if not texts:
    raise UsageError("give a problem to solve")
  if simulations < 1:
    raise UsageError(f"simulations must be at least 1, got {simulations}")
  _check_value_scale(value_scale)
  env = agent.env
  canonical = [env.problem_text(env.parse_problem(text)) for text in texts]  # validates all first
  outcome = Player.for_agent(agent, value_scale).play(
      "mcts", simulations, stack_problems(env, canonical), oracle=env.self_verifiable)
  solutions = []
  for i, problem in enumerate(canonical):
    answer = env.answer_text(jax.tree.map(lambda x: x[i], outcome.final))
    # Only an answer the independent checker accepts is ever returned as a solution.
    checked = bool(outcome.solved[i]) and env.reference_check(problem, answer)
    solutions.append(Solution(problem, checked, answer if checked else None, int(outcome.nfe[i])))
  return solutions


def evaluate(source, suite=None, strategies: Sequence[str] = ("greedy", "mcts", "mcts-puct"),
             budgets: Sequence[int] = (4, 8, 16, 32, 64), *, steps: str | Sequence[int] = "latest",
             oracle: str = "auto", split: str = "test", limit: int | None = None, seed: int = 0,
             env_overrides: Sequence[str] = (), suite_version: str | None = None,
             data_dir=None, rg_size: int = 500, rg_seed: int = 0, value_scale: float | None = None,
             restarts: int | None = None, root_noise: float | None = None,
             progress: bool = False):
  """Evaluates an agent on a suite: each strategy at each budget, every answer re-checked.

  `source` is an `Agent`, or a shipped agent's name or a workdir, whose checkpoints
  `steps` ("latest", "all", or step numbers) are evaluated in turn. `suite` is a `Suite`
  or a name (`alphareason.suites.load_suite`: "game24", "countdown/n6", "rg:countdown",
  ...); by default the suite the agent's training held out. `oracle` is "auto" (the
  verifier in search where the task is self-verifiable), "on", "off" or "both".
  `value_scale` weighs a child's Q against its prior in Gumbel MCTS (default: the
  agent's own). `restarts` caps the searches of one problem in `mcts-restarts`
  (default: `strategies.RESTARTS`) and `root_noise` scales their Gumbel noise at the
  root (default: `strategies.ROOT_NOISE`). Returns an `Evaluation`: its `summary`,
  `write_report(out)` and `defects()`.
  """
  from alphareason import suites as suites_lib
  from alphareason.agent import Agent, TrainedRun
  from alphareason.eval.evaluate import check_strategies
  from alphareason.eval.evaluate import evaluate as evaluate_agents

  check_strategies(strategies, budgets)
  _check_value_scale(value_scale)
  if restarts is not None and restarts < 1:
    raise UsageError(f"restarts must be at least 1, got {restarts}")
  if root_noise is not None and not root_noise >= 0:
    raise UsageError(f"the root noise must be at least 0, got {root_noise}")
  from alphareason.strategies import RESTARTS, ROOT_NOISE
  settings = dict(value_scale=value_scale, restarts=RESTARTS if restarts is None else restarts,
                  root_noise=ROOT_NOISE if root_noise is None else root_noise)
  if isinstance(source, Agent):
    if env_overrides or steps not in ("latest", [source.step], (source.step,)):
      raise UsageError("an Agent is one checkpoint in one env: give its source to choose "
                       "steps or env settings")
    return evaluate_agents(source, _suite(suites_lib, suite, source.config, suite_version,
                                          data_dir, rg_size, rg_seed),
                           strategies, budgets, oracle=oracle, split=split, limit=limit,
                           seed=seed, progress=progress, **settings)
  with TrainedRun(source, env_overrides=env_overrides) as run:
    chosen = _steps(steps, run.steps)
    resolved = _suite(suites_lib, suite, run.parts.config, suite_version, data_dir, rg_size,
                      rg_seed)
    return evaluate_agents(run.agents(chosen), resolved, strategies, budgets, oracle=oracle,
                           split=split, limit=limit, seed=seed, progress=progress, **settings)


def _suite(suites_lib, suite, config, version, data_dir, rg_size, rg_seed):
  if suite is None:
    suite = config.holdout_suite
    if not suite:
      raise UsageError("this checkpoint names no suite: give one")
  if isinstance(suite, str):
    suite = suites_lib.load_suite(suite, data_dir=data_dir, rg_size=rg_size, rg_seed=rg_seed)
  if version and version != suite.version:
    raise UsageError(f"suite {suite.name} is version {suite.version}, not {version}")
  return suite


def _steps(steps, kept: list[int]) -> list[int]:
  if steps == "latest":
    return kept[-1:]
  if steps == "all":
    return kept
  if isinstance(steps, str):
    try:
      steps = [int(x) for x in steps.split(",") if x.strip()]
    except ValueError:
      raise UsageError(f"--steps must be latest, all, or steps separated by commas, got "
                       f"{steps!r}") from None
  return sorted(set(steps))


def load_config(path: str | os.PathLike, overrides: Sequence[str] = ()) -> ml_collections.ConfigDict:
  """A config file's get_config(), with "key=value" overrides, validated."""
  from alphareason.config import load_config as load
  return load(path, overrides)


def train_agent(config: ml_collections.ConfigDict | str | os.PathLike, workdir: str | os.PathLike, *,
          progress: bool = True, data_dir=None):
  """Trains `config` (a ConfigDict or a config file) in `workdir` to its last iteration,
  resuming from the workdir's latest checkpoint; returns the final train state."""
  from alphareason.train.loop import train as train_loop

  if not isinstance(config, ml_collections.ConfigDict):
    config = load_config(config)
  return train_loop(config, pathlib.Path(workdir), progress=progress, data_dir=data_dir)
