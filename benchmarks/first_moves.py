"""What the network thinks of each first move of the puzzles its search misses.

  python -m benchmarks.first_moves --workdir W [--step S] (--missed RESULTS --budget N | PUZZLE ...)

For every legal first move of a Countdown-family puzzle (the Game of 24 included): the
policy's prior, the prior's rank, the network's value of the numbers the move leaves, and
whether those numbers can still reach the target, decided by the plain-Python solver
(alphareason.suites.countdown_solver, exact fractions, independent of the JAX env). The
puzzles are given, or taken from an eval's results.json: those MCTS missed at a budget.

Gumbel MCTS visits each considered root action once and keeps the best by prior plus the
child's value, so a solvable child valued near 0 is dropped before the verifier is reached.
"""

from __future__ import annotations

import argparse
import json
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from alphareason.agent import load_agent
from alphareason.env import ProblemError
from alphareason.envs.countdown import Countdown
from alphareason.search import predict
from alphareason.suites import countdown_solver


def missed_puzzles(results_path: str, step: int, budget: int, strategy: str = "mcts") -> list[str]:
  """The problems a checkpoint's strategy left unsolved at a budget, verifier in search."""
  with open(results_path) as f:
    runs = json.load(f)["runs"]
  for run in runs:
    if (run["step"], run["strategy"], run["budget"], run["oracle"]) == (step, strategy, budget, True):
      return [r["problem"] for r in run["results"] if not r["solved"]]
  raise SystemExit(f"first_moves: no {strategy} run of step {step} at budget {budget} in {results_path}")


class FirstMoves(NamedTuple):
  """Every legal first move of a list of puzzles, one row per move (M rows), on the host."""

  puzzle: np.ndarray  # [M] int, the puzzle's index in the list
  action: np.ndarray  # [M] int
  left: list[str]  # [M] the numbers the move leaves, sorted
  solvable: np.ndarray  # [M] bool, by the plain-Python solver: they can still reach the target
  observation: np.ndarray  # [M, *obs] what the network sees after the move
  roots: object  # the puzzles' initial states, [P] (device)


def legal_first_moves(env, texts: list[str]) -> FirstMoves:
  """Every legal first move of each puzzle, the numbers it leaves checked by the solver
  (each distinct position once). Raises ProblemError for a text that is no puzzle."""
  from alphareason.play import stack_problems
  roots = jax.jit(jax.vmap(env.init))(stack_problems(env, texts))
  step_every = jax.jit(jax.vmap(jax.vmap(env.step, in_axes=(None, 0)), in_axes=(0, None)))
  children, legal = jax.device_get((step_every(roots, jnp.arange(env.num_actions)),
                                    roots.legal_action_mask))
  puzzle, action = np.nonzero(legal)
  known, left, solvable = {}, [], []
  for b, a in zip(puzzle, action):
    child = jax.tree.map(lambda x: x[b, a], children)
    numbers = Countdown.numbers_left(child)
    key = (tuple(sorted(numbers)), int(child.problem.target))
    if key not in known:
      known[key] = countdown_solver.solve(numbers, key[1]) is not None
    left.append(" ".join(map(str, key[0])))
    solvable.append(known[key])
  return FirstMoves(puzzle=puzzle, action=action, left=left, solvable=np.asarray(solvable),
                    observation=children.observation[puzzle, action], roots=roots)


def first_moves(agent, texts: list[str]) -> list[list[dict]]:
  """For each puzzle, one row per legal first move, likeliest first."""
  moves = legal_first_moves(agent.env, texts)
  network = agent.network

  @jax.jit
  def rate(params, roots, observations):  # one call: every root's prior, every child's value
    _, values = network.apply(params, observations)
    return jax.nn.softmax(predict(network, params, roots)[0]), jax.nn.sigmoid(values)

  prior, values = jax.device_get(rate(agent.params, moves.roots, moves.observation))
  tables = [[] for _ in texts]
  for m, (b, a) in enumerate(zip(moves.puzzle, moves.action)):
    tables[b].append(dict(left=moves.left[m], prior=float(prior[b, a]), value=float(values[m]),
                          solvable=bool(moves.solvable[m])))
  for rows in tables:
    rows.sort(key=lambda row: -row["prior"])
    for rank, row in enumerate(rows, 1):
      row["rank"] = rank
  return tables


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", required=True, help="a training run, or a shipped agent's name")
  parser.add_argument("--step", type=int, default=None, help="default: the latest checkpoint")
  parser.add_argument("--missed", default=None, help="an eval results.json: take the puzzles missed")
  parser.add_argument("--budget", type=int, default=64, help="with --missed: the MCTS budget")
  parser.add_argument("puzzles", nargs="*", help='puzzles such as "1 5 5 5"')
  args = parser.parse_args()
  if not args.puzzles and not args.missed:
    raise SystemExit("first_moves: give puzzles, or --missed RESULTS")
  agent = load_agent(args.workdir, args.step)
  if not isinstance(agent.env, Countdown):
    raise SystemExit(f"first_moves: {agent.config.env_id} is not a Countdown-family env")
  puzzles = args.puzzles + (missed_puzzles(args.missed, agent.step, args.budget) if args.missed else [])
  try:
    tables = first_moves(agent, puzzles)
  except ProblemError as error:
    raise SystemExit(f"first_moves: {error}") from None
  print("| puzzle | solvable children: left (prior rank, value) | best value of an unsolvable child |")
  print("|---|---|---:|")
  for text, rows in zip(puzzles, tables):
    good = {}  # one entry per distinct position left
    for row in rows:
      if row["solvable"]:
        good.setdefault(row["left"], row)
    cells = ", ".join(f"`{r['left']}` (#{r['rank']}, {r['value']:.2f})" for r in good.values())
    worst = max((r["value"] for r in rows if not r["solvable"]), default=float("nan"))
    print(f"| {text} | {cells or 'none'} | {worst:.2f} |")


if __name__ == "__main__":
  main()
