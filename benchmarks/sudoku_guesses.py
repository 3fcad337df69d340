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
  """[A] bool twice: the moves the rules force in `grid`, naked and hidden singles."""
  naked, hidden = env.singles(env.analyse(grid))
  return naked.reshape(-1), hidden.reshape(-1)


def solved_by_singles(env: Sudoku, clues: np.ndarray) -> np.ndarray:
  """[P] bool: whether writing forced moves, one at a time, fills each grid ([P, N*N])."""

  def forced(grid):
    return jnp.logical_or(*single_moves(env, grid))

  def fill(grid):
    def write(grid):
      cell, digit = jnp.divmod(jnp.argmax(forced(grid)), env.size)
      return grid.at[cell].set(digit + 1)

    return jnp.all(jax.lax.while_loop(lambda grid: jnp.any(forced(grid)), write, grid) > 0)

  return np.asarray(jax.jit(jax.vmap(fill))(jnp.asarray(clues)))


def guesses(agent, problem_texts) -> dict:
  env = agent.env
  problems = stack_problems(env, problem_texts)
  clues = np.asarray(problems.clues)
  solutions = np.array([sudoku_solver.solve(grid.tolist()) for grid in clues])
  states = jax.vmap(env.init)(problems)

  @jax.jit
  def move(states):
    logits, value = predict(agent.network, agent.params, states)
    policy = jax.nn.softmax(logits)
    naked, hidden = jax.vmap(lambda grid: single_moves(env, grid))(states.grid)
    singles = naked | hidden
    action = jnp.argmax(logits, axis=-1)
    record = dict(
        live=~(states.terminated | states.truncated), grid=states.grid, action=action,
        mass=jnp.sum(policy * singles, -1), offered=jnp.sum(singles, -1),
        naked_only=jnp.sum(naked & ~hidden, -1), hidden_only=jnp.sum(hidden & ~naked, -1),
        chosen=jnp.take_along_axis(policy, action[:, None], 1)[:, 0], value=value)
    return record, jax.vmap(env.step)(states, action)

  count = len(problem_texts)
  first_wrong, single_mass = [None] * count, []
  for _ in range(env.max_steps):
    record, states = move(states)
    # Only the per-move figures come to the host; the states stay on the device.
    r = jax.device_get(record)
    if not r["live"].any():
      break
    single_mass.extend(r["mass"][r["live"] & (r["offered"] > 0)])
    for i in np.flatnonzero(r["live"]):
      cell, digit = divmod(int(r["action"][i]), env.size)
      if first_wrong[i] is None and solutions[i, cell] != digit + 1:
        first_wrong[i] = dict(empty=int(np.sum(r["grid"][i] == 0)), singles=int(r["offered"][i]),
                              naked_only=int(r["naked_only"][i]),
                              hidden_only=int(r["hidden_only"][i]),
                              single_mass=float(r["mass"][i]), chosen=float(r["chosen"][i]),
                              value=float(r["value"][i]))
  return dict(first_wrong=first_wrong, single_mass=np.array(single_mass),
              by_singles=solved_by_singles(env, clues),
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
