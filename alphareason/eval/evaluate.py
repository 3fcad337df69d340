"""Evaluates a checkpoint: strategies x budgets on a list of problems, every answer re-checked.

Each (strategy, budget) runs as one jit-compiled batch over all problems, chunked only
where the states it holds at once would pass MAX_STATES_PER_BATCH (the last chunk is
padded, so nothing recompiles). Batches are split over all devices of the data mesh.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import jax
import numpy as np
import tqdm

from alphareason import parallel
from alphareason.env import Env
from alphareason.eval.strategies import STRATEGIES
from alphareason.networks import Network


def stack_problems(env: Env, texts: Sequence[str]):
  """Parses problem texts into one batched problem pytree [B, ...]."""
  problems = [env.parse_problem(text) for text in texts]
  return jax.tree.map(lambda *xs: np.stack(xs), *problems)


def wilson_interval(successes: int, total: int, z: float = 1.959964) -> tuple[float, float]:
  """The 95% Wilson score interval of a binomial proportion."""
  if total == 0:
    return 0.0, 1.0
  p = successes / total
  centre = (p + z * z / (2 * total)) / (1 + z * z / total)
  half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
  return max(0.0, centre - half), min(1.0, centre + half)


# Env states held at once (samples, beam children, tree nodes) across a batch: bounds the
# memory of one program, whose network activations scale with it.
MAX_STATES_PER_BATCH = 2**15


class Evaluator:
  """Plays problems with any strategy and budget, compiling each pairing once."""

  def __init__(self, env: Env, network: Network, params):
    self.env, self.network, self.params = env, network, params
    self._compiled = {}

  def program(self, strategy: str, budget: int, oracle: bool):
    """The jitted `(params, rng_key, problems) -> Outcome` of a pairing, split over devices."""
    key = (strategy, budget, oracle)
    if key not in self._compiled:
      play = STRATEGIES[strategy].play
      env, network = self.env, self.network

      def run(params, rng_key, problems):
        states = jax.vmap(env.init)(problems)
        return play(env, network, params, rng_key, states, budget, oracle=oracle)

      self._compiled[key] = jax.jit(run, out_shardings=parallel.batch_sharded())
    return self._compiled[key]

  def play(self, strategy: str, budget: int, problems, *, oracle: bool, seed: int = 0,
           chunk_size: int | None = None):
    """Plays a batched problem pytree; returns host (final states, solved, nfe)."""
    program = self.program(strategy, budget, oracle)
    total = len(jax.tree.leaves(problems)[0])
    if chunk_size is None:
      chunk_size = max(1, MAX_STATES_PER_BATCH // STRATEGIES[strategy].states_per_problem(budget))
    chunk = parallel.padded_size(min(chunk_size, total))
    outputs = []
    for start in range(0, total, chunk):
      part = jax.tree.map(lambda x: x[start:start + chunk], problems)
      size = len(jax.tree.leaves(part)[0])
      if size < chunk:  # pad with copies of the first problem: same shapes, no recompile
        part = jax.tree.map(lambda x: np.concatenate([x, np.repeat(x[:1], chunk - size, 0)]), part)
      outcome = program(self.params, jax.random.PRNGKey(seed), parallel.put_batch(part))
      outputs.append(jax.tree.map(lambda x: x[:size], parallel.to_host(outcome)))
    return jax.tree.map(lambda *xs: np.concatenate(xs), *outputs)

  def run(self, problem_texts: Sequence[str], strategies: Sequence[str], budgets: Sequence[int],
          *, oracle: bool, seed: int = 0, chunk_size: int | None = None,
          progress: bool = True) -> list[dict]:
    """Every strategy at every budget (once for strategies without one), re-checked."""
    problems = stack_problems(self.env, problem_texts)
    work = [(s, b) for s in strategies
            for b in (budgets if STRATEGIES[s].uses_budget else [1])]
    runs = []
    for strategy, budget in tqdm.tqdm(work, desc="eval", disable=not progress, unit="run"):
      start = time.perf_counter()
      outcome = self.play(strategy, budget, problems, oracle=oracle, seed=seed,
                          chunk_size=chunk_size)
      seconds = time.perf_counter() - start
      runs.append(self._summarise(strategy, budget, problem_texts, outcome, seconds))
    return runs

  def _summarise(self, strategy, budget, problem_texts, outcome, seconds) -> dict:
    env = self.env
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
