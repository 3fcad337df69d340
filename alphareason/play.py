"""Plays batches of problems with a test-time strategy: compiled once per pairing, chunked, sharded.

Each (strategy, budget, oracle) pairing is one jit-compiled program over a batch of
problems, chunked only where the states it holds at once would pass
MAX_STATES_PER_BATCH (the last chunk is padded, so nothing recompiles). A strategy's
later attempts play only the unsolved problems, at power-of-two batch sizes. Batches are split
over all devices of the data mesh. Training validates with it; evaluation and `solve`
play with it.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np

from alphareason import parallel
from alphareason.env import Env
from alphareason.networks import Network
from alphareason.search import DEFAULT_VALUE_SCALE
from alphareason.strategies import STRATEGIES, Outcome

# Env states held at once (samples, beam children, tree nodes) across a batch: bounds the
# memory of one program, whose network activations scale with it.
MAX_STATES_PER_BATCH = 2**15


def stack_problems(env: Env, texts: Sequence[str]):
  """Parses problem texts into one batched problem pytree [B, ...]."""
  problems = [env.parse_problem(text) for text in texts]
  return jax.tree.map(lambda *xs: np.stack(xs), *problems)


class Player:
  """Plays problems with any strategy and budget, compiling each pairing once.

  `params` may be swapped for another checkpoint's of the same network: programs take
  them as an argument, so nothing recompiles. `value_scale` is Gumbel MCTS's weight of a
  child's Q against its prior (`Agent.test_value_scale` for an agent's own).
  """

  def __init__(self, env: Env, network: Network, params, *,
               value_scale: float = DEFAULT_VALUE_SCALE):
    self.env, self.network, self.params = env, network, params
    self.value_scale = value_scale
    self._compiled = {}

  @classmethod
  def for_agent(cls, agent, value_scale: float | None = None) -> "Player":
    """A player of `agent` (an `alphareason.agent.Agent`), searching at `value_scale`,
    or at the agent's own scale when None."""
    return cls(agent.env, agent.network, agent.params,
               value_scale=agent.test_value_scale if value_scale is None else value_scale)

  def program(self, strategy: str, budget: int, oracle: bool):
    """The jitted `(params, rng_key, problems) -> Outcome` of a pairing, split over devices."""
    key = (strategy, budget, oracle)
    if key not in self._compiled:
      play = STRATEGIES[strategy].play
      env, network, value_scale = self.env, self.network, self.value_scale

      def run(params, rng_key, problems):
        states = jax.vmap(env.init)(problems)
        return play(env, network, params, rng_key, states, budget, oracle=oracle,
                    value_scale=value_scale)

      self._compiled[key] = jax.jit(run, out_shardings=parallel.batch_sharded())
    return self._compiled[key]

  def play(self, strategy: str, budget: int, problems, *, oracle: bool, seed: int = 0,
           chunk_size: int | None = None) -> Outcome:
    """Plays a batched problem pytree; returns the host Outcome (final states, solved, nfe).

    A strategy of several attempts (`Strategy.attempts`) searches again, with the oracle,
    only the problems no attempt has verified yet, gathered into a batch of their own
    (rounded up to a power of two, so a few sizes compile): the unsolved few cost a
    search each, not the whole batch's. A problem's NFE adds up over its attempts.
    """
    spec = STRATEGIES[strategy]
    program = self.program(strategy, budget, oracle)
    if chunk_size is None:
      chunk_size = max(1, MAX_STATES_PER_BATCH // spec.states_per_problem(budget))
    key = jax.random.PRNGKey(seed)
    total = len(jax.tree.leaves(problems)[0])
    outcome = self._play_chunks(program, key, problems, parallel.padded_size(min(chunk_size, total)))
    for attempt in range(1, spec.attempts if oracle else 1):
      unsolved = np.flatnonzero(~outcome.solved)
      if unsolved.size == 0:
        break
      again = self._play_chunks(program, jax.random.fold_in(key, attempt),
                                jax.tree.map(lambda x: x[unsolved], problems),
                                parallel.padded_size(
                                    min(chunk_size, 1 << (unsolved.size - 1).bit_length())))
      outcome = Outcome(_scatter(outcome.final, unsolved, again.final),
                        _scatter(outcome.solved, unsolved, again.solved),
                        _scatter(outcome.nfe, unsolved, outcome.nfe[unsolved] + again.nfe))
    return outcome

  def _play_chunks(self, program, key, problems, chunk: int) -> Outcome:
    """Plays `problems` in batches of `chunk`, the last padded: one compiled shape."""
    total = len(jax.tree.leaves(problems)[0])
    outputs = []
    for start in range(0, total, chunk):
      part = jax.tree.map(lambda x: x[start:start + chunk], problems)
      size = len(jax.tree.leaves(part)[0])
      if size < chunk:  # pad with copies of the first problem: same shapes, no recompile
        part = jax.tree.map(lambda x: np.concatenate([x, np.repeat(x[:1], chunk - size, 0)]), part)
      outcome = program(self.params, key, parallel.put_batch(part))
      outputs.append(jax.tree.map(lambda x: x[:size], parallel.to_host(outcome)))
    return jax.tree.map(lambda *xs: np.concatenate(xs), *outputs)


def _scatter(tree, rows: np.ndarray, values):
  """A copy of the host pytree `tree` [B, ...] with `rows` replaced by `values`."""
  def put(x, v):
    x = np.array(x)
    x[rows] = v
    return x

  return jax.tree.map(put, tree, values)
