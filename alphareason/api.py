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
                 strategy: str | None = None, budget: int | None = None,
                 restarts: int | None = None, root_noise: float | None = None,
                 value_scale: float | None = None, score: str | None = None,
                 env_overrides: Sequence[str] = ()) -> pathlib.Path:
  """Writes an agent's parameters and config (no optimizer state or replay) to `out`, in
  the layout of a workdir's checkpoints: what `load_agent(out)` reads, and how the
  shipped agents were made. The agent's own search, what `solve` and `eval` play by
  default, is the run's unless given: `strategy` at `budget`, `restarts` and
  `root_noise` (mcts-restarts), `value_scale`, and the `score` it was measured to reach
  (text that `alphareason agents` shows). `env_overrides` ("env.max_numbers=9", ...) set
  the env it plays, where its parameters fit."""
  from alphareason.agent import export_agent as export
  from alphareason.eval.evaluate import check_strategies
  _check_search_settings(value_scale, restarts, root_noise)
  if strategy is not None or budget is not None:
    check_strategies([strategy or "mcts"], [1 if budget is None else budget])
  return export(source, out, step, env_overrides=env_overrides, strategy=strategy,
                budget=budget, restarts=restarts, root_noise=root_noise,
                value_scale=value_scale, score=score)


def shipped_agents() -> list[str]:
  """The names of the agents shipped with the package."""
  from alphareason.agent import shipped_agents as shipped
  return list(shipped())


def agent_searches() -> dict[str, dict]:
  """Each shipped agent's env id, own search (described) and its measured score, read
  from its checkpoint's config alone (no parameters are loaded)."""
  from alphareason.agent import agent_folder, shipped_agents as shipped
  from alphareason.checkpoint import Checkpoints
  from alphareason.strategies import agent_search
  listed = {}
  for name in shipped():
    checkpoints = Checkpoints(agent_folder(name), create=False)
    try:
      config = checkpoints.read_config(checkpoints.all_steps()[-1])
    finally:
      checkpoints.close()
    search = agent_search(config)
    listed[name] = dict(env_id=config.env_id, search=search.describe(), score=search.score)
  return listed


def _check_value_scale(value_scale: float | None) -> None:
  if value_scale is not None and not value_scale > 0:
    raise UsageError(f"the value scale must be above 0, got {value_scale}")


def _check_search_settings(value_scale, restarts, root_noise) -> None:
  _check_value_scale(value_scale)
  if restarts is not None and restarts < 1:
    raise UsageError(f"restarts must be at least 1, got {restarts}")
  if root_noise is not None and not root_noise >= 0:
    raise UsageError(f"the root noise must be at least 0, got {root_noise}")


def solve(agent, problems: str | Sequence[str], *, strategy: str | None = None,
          simulations: int | None = None, value_scale: float | None = None,
          restarts: int | None = None, root_noise: float | None = None) -> list[Solution]:
  """Plays each problem with `strategy` at `simulations` (its budget), the verifier in
  search where the task is self-verifiable; an answer is returned only when the
  independent checker accepts it. Each setting left None is the agent's own search
  (`Agent.search`, what its export measured best): `value_scale` weighs a child's Q
  against its prior, `restarts` and `root_noise` shape `mcts-restarts`."""
  import jax

  from alphareason.eval.evaluate import check_strategies
  from alphareason.play import Player, stack_problems

  texts = [problems] if isinstance(problems, str) else list(problems)
  if not texts:
    raise UsageError("give a problem to solve")
  own = agent.search
  strategy = own.strategy if strategy is None else strategy
  simulations = own.budget if simulations is None else simulations
  if simulations < 1:
    raise UsageError(f"simulations must be at least 1, got {simulations}")
  check_strategies([strategy], [simulations])
  _check_search_settings(value_scale, restarts, root_noise)
  env = agent.env
  canonical = [env.problem_text(env.parse_problem(text)) for text in texts]  # validates all first
  outcome = Player.for_agent(agent, value_scale, restarts, root_noise).play(
      strategy, simulations, stack_problems(env, canonical), oracle=env.self_verifiable)
  solutions = []
  for i, problem in enumerate(canonical):
    answer = env.answer_text(jax.tree.map(lambda x: x[i], outcome.final))
    # Only an answer the independent checker accepts is ever returned as a solution.
    checked = bool(outcome.solved[i]) and env.reference_check(problem, answer)
    solutions.append(Solution(problem, checked, answer if checked else None, int(outcome.nfe[i])))
  return solutions


def evaluate(source, suite=None, strategies: Sequence[str] | None = None,
             budgets: Sequence[int] | None = None, *, steps: str | Sequence[int] = "latest",
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
  `value_scale` weighs a child's Q against its prior in Gumbel MCTS, `restarts` caps the
  searches of one problem in `mcts-restarts` and `root_noise` scales their Gumbel noise
  at the root. Whatever is left None is the agent's own search (`Agent.search`): its
  strategy at its budget, its restarts, root noise and value scale. Returns an
  `Evaluation`: its `summary`, `write_report(out)` and `defects()`.
  """
  from alphareason import suites as suites_lib
  from alphareason.agent import Agent, TrainedRun
  from alphareason.eval.evaluate import check_strategies
  from alphareason.eval.evaluate import evaluate as evaluate_agents
  from alphareason.strategies import agent_search

  _check_search_settings(value_scale, restarts, root_noise)
  settings = dict(value_scale=value_scale, restarts=restarts, root_noise=root_noise)

  def own_search(config):
    own = agent_search(config)
    chosen = (list(strategies or [own.strategy]), list(budgets or [own.budget]))
    check_strategies(*chosen)
    return chosen

  if isinstance(source, Agent):
    if env_overrides or steps not in ("latest", [source.step], (source.step,)):
      raise UsageError("an Agent is one checkpoint in one env: give its source to choose "
                       "steps or env settings")
    return evaluate_agents(source, _suite(suites_lib, suite, source.config, suite_version,
                                          data_dir, rg_size, rg_seed),
                           *own_search(source.config), oracle=oracle, split=split,
                           limit=limit, seed=seed, progress=progress, **settings)
  with TrainedRun(source, env_overrides=env_overrides) as run:
    searched = own_search(run.parts.config)
    chosen = _steps(steps, run.steps)
    resolved = _suite(suites_lib, suite, run.parts.config, suite_version, data_dir, rg_size,
                      rg_seed)
    return evaluate_agents(run.agents(chosen), resolved, *searched, oracle=oracle,
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
