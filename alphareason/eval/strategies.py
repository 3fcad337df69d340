"""Test-time strategies, each playing a batch of problems at a budget of compute.

The unit of test-time compute is the network evaluation (NFE), counted exactly per
problem: one batched call on B states costs each live problem one NFE. A strategy's
`budget` is its own knob (simulations per move for MCTS; ignored by greedy), and the
NFE it actually spent is returned beside the outcome, so strategies compare on NFE.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from alphareason.env import Env, State, tree_select
from alphareason.networks import Network
from alphareason.search import SearchConfig, evaluate, run_search


class Outcome(NamedTuple):
  final: State  # [B] the finished episodes
  solved: jax.Array  # [B] bool, verified by the env's reward
  nfe: jax.Array  # [B] int32, network evaluations spent on each problem


def _live(states: State) -> jax.Array:
  return ~(states.terminated | states.truncated)


def _play(env: Env, key: jax.Array, states: State, advance: Callable, nfe_per_move) -> Outcome:
  """Plays every episode to the end; `advance(states, key)` makes one move of the batch."""

  def move(carry, key):
    states, solved, nfe = carry
    live = _live(states)
    states = advance(states, key)
    return (states, solved | (states.reward > 0), nfe + jnp.where(live, nfe_per_move, 0)), None

  batch = states.reward.shape[0]
  init = (states, jnp.zeros(batch, bool), jnp.zeros(batch, jnp.int32))
  (final, solved, nfe), _ = jax.lax.scan(move, init, jax.random.split(key, env.max_steps))
  return Outcome(final, solved, nfe)


def tree_select_batch(pred: jax.Array, on_true, on_false):
  """Per-example choice [B] between two batched pytrees."""
  return jax.vmap(tree_select)(pred, on_true, on_false)


def _step_with(env: Env, choose: Callable) -> Callable:
  return lambda states, key: jax.vmap(env.step)(states, choose(states, key))


def verified_in_tree(tree) -> tuple[jax.Array, State]:
  """Whether each search tree [B] reached a verified solution, and that solved state.

  The tree's embeddings are real env states (the env is the model), and with the oracle a
  node's reward is the verifier's, so a paid node is a solution the search has found.
  """
  paid = tree.embeddings.reward > 0  # [B, N]
  node = jnp.argmax(paid, axis=1)
  found = jnp.any(paid, axis=1)
  solved = jax.tree.map(lambda x: x[jnp.arange(x.shape[0]), node], tree.embeddings)
  return found, solved


def greedy(env: Env, network: Network, params, key, states: State, budget: int, *,
           oracle: bool) -> Outcome:
  """The policy head's most likely legal action at every move: 1 NFE per move."""
  del budget, oracle  # greedy spends one evaluation per move and never sees the verifier

  def choose(states, key):
    logits, _ = evaluate(network, params, states)
    return jnp.argmax(logits, axis=-1)

  return _play(env, key, states, _step_with(env, choose), 1)


def _mcts(policy: str):
  def play(env: Env, network: Network, params, key, states: State, budget: int, *,
           oracle: bool) -> Outcome:
    # Deterministic at test time: no root noise, play the search's best action.
    config = SearchConfig(num_simulations=budget, policy=policy, oracle=oracle,
                          gumbel_scale=0.0, dirichlet_fraction=0.0, temperature=0.0)

    def advance(states, key):
      output = run_search(env, network, params, key, states, config)
      moved = jax.vmap(env.step)(states, output.action)
      if not oracle:
        return moved
      # A solution verified inside the tree is kept, not thrown away for the next search.
      found, solved = verified_in_tree(output.search_tree)
      return tree_select_batch(found & _live(states), solved, moved)

    return _play(env, key, states, advance, budget + 1)  # the root, then one per simulation

  play.__doc__ = (f"MCTS ({policy}) with `budget` simulations per move: budget + 1 NFE per "
                  "move. With the oracle, a verified solution found in the tree is returned.")
  return play


@dataclasses.dataclass(frozen=True)
class Strategy:
  name: str
  play: Callable[..., Outcome]
  description: str
  uses_budget: bool = True


STRATEGIES = {
    s.name: s for s in (
        Strategy("greedy", greedy, "argmax of the policy head, no search", uses_budget=False),
        Strategy("mcts", _mcts("gumbel"), "Gumbel MuZero search, budget = simulations per move"),
        Strategy("mcts-puct", _mcts("puct"), "PUCT MuZero search, budget = simulations per move"),
    )
}
