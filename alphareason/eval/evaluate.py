"""Evaluates trained agents on a suite: strategies x budgets, every answer re-checked.

`evaluate` plays the suite's problems with each strategy at each budget (once for
strategies without one), for each checkpoint and oracle mode, re-checks every answer with
the env's independent plain-Python checker (and the suite's external verifier, where it
has one: reasoning-gym's), and returns an `Evaluation`: the summary that `results.json`
holds, its report, and the defects found (answers on which two verifiers disagree).
"""

from __future__ import annotations

import dataclasses
import math
import pathlib
import time
from collections.abc import Iterable, Sequence

import jax
import numpy as np
import tqdm

from alphareason import parallel
from alphareason.agent import Agent
from alphareason.errors import UsageError
from alphareason.eval import report
from alphareason.play import Player, stack_problems
from alphareason.strategies import STRATEGIES
from alphareason.suites import Suite

# With the oracle, search may use the verifier's reward. "auto" lets it only where the
# task is self-verifiable; "both" runs with and without it on the same problems.
ORACLE_MODES = ("auto", "on", "off", "both")


def wilson_interval(successes: int, total: int, z: float = 1.959964) -> tuple[float, float]:
  """The 95% Wilson score interval of a binomial proportion."""
  if total == 0:
    return 0.0, 1.0
  p = successes / total
  centre = (p + z * z / (2 * total)) / (1 + z * z / total)
  half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
  return max(0.0, centre - half), min(1.0, centre + half)


def oracle_flags(mode: str, self_verifiable: bool) -> list[bool]:
  """The oracle settings an `ORACLE_MODES` mode runs, in order."""
  if mode not in ORACLE_MODES:
    raise UsageError(f"unknown oracle mode {mode!r}; known: {', '.join(ORACLE_MODES)}")
  return {"auto": [self_verifiable], "on": [True], "off": [False], "both": [True, False]}[mode]


def check_strategies(strategies: Sequence[str], budgets: Sequence[int]) -> None:
  for name in strategies:
    if name not in STRATEGIES:
      raise UsageError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}")
  if not budgets or any(b < 1 for b in budgets):
    raise UsageError(f"budgets must be at least 1, got {list(budgets)}")


def play_strategies(player: Player, problem_texts: Sequence[str], strategies: Sequence[str],
                    budgets: Sequence[int], *, oracle: bool, seed: int = 0,
                    chunk_size: int | None = None, progress: bool = False) -> list[dict]:
  """Every strategy at every budget (once for strategies without one), re-checked: a run
  record each, with its accuracy, 95% interval, mean NFE and every problem's row."""
  problems = stack_problems(player.env, problem_texts)
  work = [(s, b) for s in strategies
          for b in (budgets if STRATEGIES[s].uses_budget else [1])]
  runs = []
  for strategy, budget in tqdm.tqdm(work, desc="eval", disable=not progress, unit="run"):
    start = time.perf_counter()
    outcome = player.play(strategy, budget, problems, oracle=oracle, seed=seed,
                          chunk_size=chunk_size)
    seconds = time.perf_counter() - start
    runs.append(_summarise(player.env, strategy, budget, problem_texts, outcome, seconds))
  return runs


def _summarise(env, strategy, budget, problem_texts, outcome, seconds) -> dict:
  rows = []
  for i, text in enumerate(problem_texts):
    final = jax.tree.map(lambda x: x[i], outcome.final)
    answer = env.answer_text(final)
    checked = bool(env.reference_check(text, answer))
    rows.append(dict(problem=text, solved=bool(outcome.solved[i]), nfe=int(outcome.nfe[i]),
                     answer=answer, reference_check=checked))
  solved = sum(r["reference_check"] for r in rows)
  low, high = wilson_interval(solved, len(rows))
  return dict(
      strategy=strategy, budget=budget, problems=len(rows), solved=solved,
      accuracy=solved / max(len(rows), 1), ci95=[low, high],
      mean_nfe=float(np.mean(outcome.nfe)) if rows else 0.0,
      # The env's verdict and the independent checker must agree; any difference is a bug.
      disagreements=sum(r["solved"] != r["reference_check"] for r in rows),
      wall_seconds=seconds, results=rows)


@dataclasses.dataclass(frozen=True)
class Evaluation:
  """What an evaluation found: `summary` is what results.json holds."""

  summary: dict

  @property
  def runs(self) -> list[dict]:
    return self.summary["runs"]

  def defects(self) -> list[str]:
    """A line for each answer two verifiers disagree on: the env and the independent
    checker (any such row is a bug), or the external verifier and ours."""
    lines = []
    if any(r["disagreements"] for r in self.runs):
      lines.append("error: the env and the independent checker disagreed; see results.json")
    for r in self.runs:
      for row in r["results"]:
        if "rg_score" in row and (row["rg_score"] >= 1.0) != row["reference_check"]:
          lines.append(
              f"defect: reasoning-gym scores {row['rg_score']:g} and our checker says "
              f"{'correct' if row['reference_check'] else 'wrong'} for {row['answer']!r} to "
              f"{row['problem']!r} ({r['strategy']} {r['budget']})")
    return lines

  def write_report(self, out: str | pathlib.Path) -> dict[str, pathlib.Path]:
    """results.json, report.md, scaling.png (and iso_accuracy.png for several steps)."""
    return report.write_report(self.summary, pathlib.Path(out))


def evaluate(agents: Agent | Iterable[Agent], suite: Suite, strategies: Sequence[str],
             budgets: Sequence[int], *, oracle: str = "auto", split: str = "test",
             limit: int | None = None, seed: int = 0, value_scale: float | None = None,
             restarts: int | None = None, root_noise: float | None = None,
             progress: bool = False) -> Evaluation:
  """Plays `suite`'s `split` (several joined by commas; the first `limit` problems) with
  each strategy at each budget, for each agent in turn: one agent, or checkpoints of one
  run (`TrainedRun.agents`), which share one compiled program per pairing. Gumbel MCTS
  weighs Q by `value_scale`; a restarted strategy plays a problem up to `restarts` times,
  with Gumbel noise of scale `root_noise` at the root: each the first agent's own
  (`Agent.search`) when None."""
  check_strategies(strategies, budgets)
  agents = [agents] if isinstance(agents, Agent) else agents
  problems = [p for name in split.split(",") if name.strip()
              for p in suite.split(name.strip())][:limit]
  player, runs, steps, first = None, [], [], None
  for agent in agents:
    if player is None:
      first = agent
      suite.check_env(agent.env)
      oracles = oracle_flags(oracle, agent.env.self_verifiable)
      player = Player.for_agent(agent, value_scale, restarts, root_noise)
    player.params = agent.params  # programs take params as an argument: no recompiling
    steps.append(agent.step)
    for flag in oracles:
      for result in play_strategies(player, problems, strategies, budgets, oracle=flag,
                                    seed=seed, progress=progress and parallel.is_leader()):
        if suite.external is not None:
          result = suite.external.score_run(result)
        runs.append(dict(step=agent.step, oracle=flag, **result))
  if first is None:
    raise UsageError("no checkpoint to evaluate")
  config = first.config
  summary = dict(
      suite=dict(name=suite.name, version=suite.version, split=split,
                 **(suite.external.summary_fields() if suite.external is not None else {})),
      env_id=config.env_id, env_settings=config.env.to_dict(),
      env_overrides=list(first.env_overrides), oracle_modes=oracles,
      value_scale=player.value_scale, restarts=player.restarts, root_noise=player.root_noise,
      checkpoint=dict(workdir=first.source, steps=steps), runs=runs)
  return Evaluation(summary)
