"""Plays batches of problems with a test-time strategy: compiled once per pairing, chunked, sharded.

Each (strategy, budget, oracle) pairing is one jit-compiled program over a batch of
problems, chunked only where the states it holds at once would pass
MAX_STATES_PER_BATCH (the last chunk is padded, so nothing recompiles). A restarted
strategy's later plays, with the verifier, take only the unsolved problems, in batches
of power-of-two sizes (a few more programs). Batches are split over all devices of the
data mesh. Training validates with it; evaluation and `solve` play with it.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np

from alphareason import parallel
from alphareason.env import Env
from alphareason.networks import Network
from alphareason.search import DEFAULT_VALUE_SCALE, predict
from alphareason.strategies import RESTARTS, ROOT_NOISE, STRATEGIES, Outcome

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
  child's Q against its prior (`Agent.test_value_scale` for an agent's own). `restarts`
  caps the plays of one problem for a restarted strategy (`Strategy.restarted`);
  strategies that play once ignore it. `root_noise` scales the Gumbel noise at the root
  of a noisy search (`mcts-restarts`).
  """

  def __init__(self, env: Env, network: Network, params, *,
               value_scale: float = DEFAULT_VALUE_SCALE, restarts: int = RESTARTS,
               root_noise: float = ROOT_NOISE):
    self.env, self.network, self.params = env, network, params
    self.value_scale, self.restarts, self.root_noise = value_scale, restarts, root_noise
    self._compiled = {}
    self._judge = jax.jit(lambda params, states: predict(network, params, states)[1],
                          out_shardings=parallel.batch_sharded())

  @classmethod
  def for_agent(cls, agent, value_scale: float | None = None, restarts: int | None = None,
                root_noise: float | None = None) -> "Player":
    """A player of `agent` (an `alphareason.agent.Agent`) at `value_scale`, `restarts`
    and `root_noise`, each the agent's own (`Agent.search`) when None."""
    own = agent.search
    pick = lambda given, default: default if given is None else given
    return cls(agent.env, agent.network, agent.params, value_scale=pick(value_scale, own.value_scale),
               restarts=pick(restarts, own.restarts), root_noise=pick(root_noise, own.root_noise))

  def program(self, strategy: str, budget: int, oracle: bool):
    """The jitted `(params, rng_key, problems) -> Outcome` of a pairing, split over devices."""
    key = (strategy, budget, oracle)
    if key not in self._compiled:
      play = STRATEGIES[strategy].play
      env, network = self.env, self.network
      value_scale, root_noise = self.value_scale, self.root_noise

      def run(params, rng_key, problems):
        states = jax.vmap(env.init)(problems)
        return play(env, network, params, rng_key, states, budget, oracle=oracle,
                    value_scale=value_scale, root_noise=root_noise)

      self._compiled[key] = jax.jit(run, out_shardings=parallel.batch_sharded())
    return self._compiled[key]

  def play(self, strategy: str, budget: int, problems, *, oracle: bool, seed: int = 0,
           chunk_size: int | None = None) -> Outcome:
    """Plays a batched problem pytree; returns the host Outcome (final states, solved, nfe).

    A restarted strategy plays each problem up to `restarts` times, the first with the
    seed's key, the r-th after it with `fold_in(key, r)`. With the oracle only the
    problems no play has verified yet play again, gathered into batches of their own (a
    power of two, so that a few sizes compile): the unsolved few cost their own searches,
    not the whole batch's. Without it every problem plays them all and the value head
    picks among the answers (one NFE each). A problem's NFE adds up over its plays.
    """
    spec = STRATEGIES[strategy]
    restarts = self.restarts if spec.restarted else 1
    program = self.program(strategy, budget, oracle)
    play = lambda key, part: program(self.params, key, part)
    if chunk_size is None:
      chunk_size = max(1, MAX_STATES_PER_BATCH // spec.states_per_problem(budget, self.env.max_steps))
    total = len(jax.tree.leaves(problems)[0])
    chunk = parallel.padded_size(min(chunk_size, total))
    key = jax.random.PRNGKey(seed)
    keys = [key] + [jax.random.fold_in(key, r) for r in range(1, restarts)]
    outcome = self._chunked(lambda part: play(keys[0], part), problems, chunk)
    if not oracle and restarts > 1:
      plays = [outcome] + [self._chunked(lambda part, k=k: play(k, part), problems, chunk)
                           for k in keys[1:]]
      value = np.stack([self._chunked(lambda part: self._judge(self.params, part), p.final, chunk)
                        for p in plays], axis=1)  # [B, restarts]
      chosen = np.argmax(value, axis=1)
      pick = lambda *xs: np.stack(xs, axis=1)[np.arange(total), chosen]
      return Outcome(jax.tree.map(pick, *[p.final for p in plays]),
                     pick(*[p.solved for p in plays]),
                     sum(p.nfe for p in plays) + restarts)
    for restart_key in keys[1:]:  # with the oracle
      unsolved = np.flatnonzero(~outcome.solved)
      if unsolved.size == 0:
        break
      again = self._chunked(lambda part: play(restart_key, part),
                            jax.tree.map(lambda x: x[unsolved], problems),
                            parallel.padded_size(
                                min(chunk_size, 1 << (unsolved.size - 1).bit_length())))
      outcome = Outcome(_scatter(outcome.final, unsolved, again.final),
                        _scatter(outcome.solved, unsolved, again.solved),
                        _scatter(outcome.nfe, unsolved, outcome.nfe[unsolved] + again.nfe))
    return outcome

  @staticmethod
  def _chunked(run, tree, chunk: int):
    """`run` over the host pytree `tree` [B, ...] in device batches of `chunk` rows, the
    last padded with copies of the first row (one compiled shape); host results [B, ...]."""
    total = len(jax.tree.leaves(tree)[0])
    outputs = []
    for start in range(0, total, chunk):
      part = jax.tree.map(lambda x: x[start:start + chunk], tree)
      size = len(jax.tree.leaves(part)[0])
      if size < chunk:
        part = jax.tree.map(lambda x: np.concatenate([x, np.repeat(x[:1], chunk - size, 0)]), part)
      output = parallel.to_host(run(parallel.put_batch(part)))
      outputs.append(jax.tree.map(lambda x: x[:size], output))
    return jax.tree.map(lambda *xs: np.concatenate(xs), *outputs)


def _scatter(tree, rows: np.ndarray, values):
  """A copy of the host pytree `tree` [B, ...] with `rows` replaced by `values`."""
  def put(x, v):
    x = np.array(x)
    x[rows] = v
    return x

  return jax.tree.map(put, tree, values)
