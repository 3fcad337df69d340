"""Where a Sudoku agent's greedy play goes wrong: deductions or guesses.

  python -m benchmarks.sudoku_guesses --workdir sudoku9 [--step N] [--suite sudoku9/c30-35]
      [--split test] [--limit 200]

Plays the policy greedily on a suite's puzzles and compares every move with the puzzle's
unique solution (the plain-Python solver's). A *single* is a move the rules force: a
cell's one candidate digit (naked), or a digit's one place left in a row, column or box
(hidden); in a puzzle with one solution (as the suites' are) it is always right. Prints
what share of the puzzles singles alone solve, the policy's mass on singles over all
moves played, and, at each puzzle's first wrong move, how many singles were on offer
(how many only naked, how many only hidden), the mass the policy gave them, the
probability of the move it took and the value head's rating of the state. A policy that
deduces puts its mass on singles; one that guesses the solution's likely digits does
not, and fails by a guess while singles wait.
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import numpy as np

from alphareason.agent import load_agent
from alphareason.envs.sudoku import Sudoku
from alphareason.play import stack_problems
from alphareason.search import predict
from alphareason.suites import load_suite, sudoku_solver


def single_moves(env: Sudoku, grid: jax.Array) -> tuple[jax.Array, jax.Array]:
  """[A] bool twice: the moves the rules force in `grid`, naked singles (a cell's one
  candidate) and hidden ones (a digit's one place in a unit)."""
  info = env.analyse(grid)
  candidates = info["candidates"]  # [N*N, N]
  naked = candidates & (jnp.sum(candidates, axis=1) == 1)[:, None]
  hidden = candidates & jnp.any((info["places"] == 1)[env.cell_units], axis=1)
  return naked.reshape(-1), hidden.reshape(-1)


def solved_by_singles(env: Sudoku, clues: np.ndarray) -> bool:
  grid = jnp.asarray(clues)
  forced = jax.jit(lambda grid: jnp.logical_or(*single_moves(env, grid)))
  while not bool(jnp.all(grid > 0)):
    moves = np.flatnonzero(np.asarray(forced(grid)))
    if not moves.size:
      return False
    cell, digit = divmod(int(moves[0]), env.size)
    grid = grid.at[cell].set(digit + 1)
  return True


def guesses(agent, problem_texts) -> dict:
  env = agent.env
  solutions = np.array([sudoku_solver.solve(env.parse_problem(text).clues.tolist())
                        for text in problem_texts])
  states = jax.vmap(env.init)(stack_problems(env, problem_texts))

  @jax.jit
  def move(states):
    logits, value = predict(agent.network, agent.params, states)
    policy = jax.nn.softmax(logits)
    naked, hidden = jax.vmap(lambda grid: single_moves(env, grid))(states.grid)
    singles = naked | hidden
    action = jnp.argmax(logits, axis=-1)
    return (action, jnp.sum(policy * singles, -1), jnp.sum(singles, -1),
            jnp.sum(naked & ~hidden, -1), jnp.sum(hidden & ~naked, -1),
            jnp.take_along_axis(policy, action[:, None], 1)[:, 0], value,
            jax.vmap(env.step)(states, action))

  count = len(problem_texts)
  first_wrong, single_mass = [None] * count, []
  for _ in range(env.max_steps):
    live = ~np.asarray(states.terminated | states.truncated)
    if not live.any():
      break
    grid = np.asarray(states.grid)
    action, mass, offered, naked_only, hidden_only, chosen, value, states = jax.device_get(
        move(states))
    single_mass.extend(mass[live & (offered > 0)])
    for i in np.flatnonzero(live):
      cell, digit = divmod(int(action[i]), env.size)
      if first_wrong[i] is None and solutions[i, cell] != digit + 1:
        first_wrong[i] = dict(empty=int(np.sum(grid[i] == 0)), singles=int(offered[i]),
                              naked_only=int(naked_only[i]), hidden_only=int(hidden_only[i]),
                              single_mass=float(mass[i]), chosen=float(chosen[i]),
                              value=float(value[i]))
  by_singles = np.array([solved_by_singles(env, env.parse_problem(text).clues)
                         for text in problem_texts])
  return dict(first_wrong=first_wrong, single_mass=np.array(single_mass), by_singles=by_singles,
              solved=np.array([wrong is None for wrong in first_wrong]))


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", required=True, help="a training run, or a shipped agent's name")
  parser.add_argument("--step", type=int, default=None, help="default: the latest checkpoint")
  parser.add_argument("--suite", default="sudoku9/c30-35")
  parser.add_argument("--split", default="test")
  parser.add_argument("--limit", type=int, default=200)
  args = parser.parse_args()
  agent = load_agent(args.workdir, args.step)
  if not isinstance(agent.env, Sudoku):
    raise SystemExit(f"sudoku_guesses: {agent.config.env_id} is not a Sudoku env")
  texts = load_suite(args.suite).split(args.split)[:args.limit]
  result = guesses(agent, texts)
  wrong = [w for w in result["first_wrong"] if w is not None]
  print(f"{args.workdir} step {agent.step}, {args.suite} {args.split}, {len(texts)} puzzles")
  missed_by_singles = int(np.sum(result["by_singles"][~result["solved"]]))
  print(f"greedy solves {result['solved'].mean():.1%}; singles alone solve "
        f"{result['by_singles'].mean():.1%}; of the misses, {missed_by_singles} of "
        f"{len(wrong)} singles alone solve")
  mass = result["single_mass"]
  print(f"policy mass on singles over the moves played: median {np.median(mass):.2f}, "
        f"mean {mass.mean():.2f}")
  if wrong:
    for name in ("singles", "naked_only", "hidden_only", "single_mass", "chosen", "value", "empty"):
      values = np.array([w[name] for w in wrong])
      print(f"at the first wrong move, {name}: min {values.min():.3g}, median "
            f"{np.median(values):.3g}, max {values.max():.3g}")


if __name__ == "__main__":
  main()
