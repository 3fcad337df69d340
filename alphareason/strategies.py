"""Test-time strategies, each playing a batch of problems at a budget of compute.

The unit of test-time compute is the network evaluation (NFE), counted exactly per
problem: one batched call on B states costs each live problem one NFE. A strategy's
`budget` is its own knob (simulations per move for MCTS; ignored by greedy), and the
NFE it actually spent is returned beside the outcome, so strategies compare on NFE.

Every strategy takes the test-time `value_scale` (Gumbel MCTS's weight of a child's Q
against its prior) and `root_noise` (the scale of the Gumbel noise at the root of a noisy
search); only the searches that use them read them, so one player serves them all.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from alphareason.env import Env, State, tree_select
from alphareason.errors import UsageError
from alphareason.networks import Network
from alphareason.search import (DEFAULT_VALUE_SCALE, SearchConfig, configured_value_scale,
                                predict, run_search)


ROOT_NOISE = 1.0  # mcts-restarts' Gumbel noise scale at the root unless the player is told


class Outcome(NamedTuple):
  final: State  # [B] the finished episodes
  solved: jax.Array  # [B] bool, verified by the env's reward
  nfe: jax.Array  # [B] int32, network evaluations spent on each problem


def _live(states: State) -> jax.Array:
  return ~(states.terminated | states.truncated)


def _play(env: Env, key: jax.Array, states: State, advance: Callable, nfe_per_move) -> Outcome:
  """Plays every episode to the end; `advance(states, key)` makes one move of the batch.

  The loop stops once every episode has finished, not at max_steps: a Sudoku with 20
  empty cells, or a search that found a solution in its tree, costs no more moves. Move t
  uses the t-th of max_steps keys split from `key`, so stopping early changes nothing.
  """
  keys = jax.random.split(key, env.max_steps)

  def unfinished(carry):
    t, states, _, _ = carry
    return (t < env.max_steps) & jnp.any(_live(states))

  def move(carry):
    t, states, solved, nfe = carry
    live = _live(states)
    states = advance(states, keys[t])
    return t + 1, states, solved | (states.reward > 0), nfe + jnp.where(live, nfe_per_move, 0)

  batch = states.reward.shape[0]
  init = (jnp.int32(0), states, jnp.zeros(batch, bool), jnp.zeros(batch, jnp.int32))
  _, final, solved, nfe = jax.lax.while_loop(unfinished, move, init)
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
           oracle: bool, value_scale: float = DEFAULT_VALUE_SCALE,
           root_noise: float = ROOT_NOISE) -> Outcome:
  """The policy head's most likely legal action at every move: 1 NFE per move."""
  del budget, oracle, value_scale, root_noise  # one evaluation a move, no verifier, no search

  def choose(states, key):
    logits, _ = predict(network, params, states)
    return jnp.argmax(logits, axis=-1)

  return _play(env, key, states, _step_with(env, choose), 1)


def _mcts(policy: str, noisy: bool = False):
  def play(env: Env, network: Network, params, key, states: State, budget: int, *,
           oracle: bool, value_scale: float = DEFAULT_VALUE_SCALE,
           root_noise: float = ROOT_NOISE) -> Outcome:
    # Deterministic at test time unless noisy: no root noise, play the search's best
    # action. Gumbel considers max(16, budget / 2) root actions, wider than mctx's 16 once
    # the budget allows two visits each: with the verifier, breadth finds solutions. On
    # the Game-of-24 test split at 64 simulations, 32 solve 96.4% against 93.4% with 16;
    # at 32 simulations 16 are best (91.8% against 84.8% with 32). See docs/results.md.
    config = SearchConfig(num_simulations=budget, policy=policy, oracle=oracle,
                          gumbel_scale=root_noise if noisy else 0.0, value_scale=value_scale,
                          dirichlet_fraction=0.0, temperature=0.0,
                          max_num_considered_actions=min(env.num_actions, max(16, budget // 2)))

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


RESTARTS = 4  # searches of one problem at most in mcts-restarts, unless the player is told


def _repeat(tree, n: int):
  """[B, ...] -> [B * n, ...], each example n times in a row."""
  return jax.tree.map(lambda x: jnp.repeat(x, n, axis=0), tree)


def _pick(tree, index: jax.Array):
  """[B, n, ...] pytree and an index [B] -> [B, ...]."""
  return jax.tree.map(lambda x: x[jnp.arange(x.shape[0]), index], tree)


def best_of_n(env: Env, network: Network, params, key, states: State, budget: int, *,
              oracle: bool, value_scale: float = DEFAULT_VALUE_SCALE,
              root_noise: float = ROOT_NOISE, temperature: float = 1.0) -> Outcome:
  """`budget` episodes sampled from the policy head; one is chosen.

  With the oracle the verifier chooses (pass@N: any verified sample). Without it the
  value head judges each finished episode (the learned verifier), one more NFE each.
  """
  del value_scale, root_noise  # no search
  batch = states.reward.shape[0]
  sample_key, play_key = jax.random.split(key)

  def choose(states, key):
    logits, _ = predict(network, params, states)
    # The masked logits keep illegal actions at the dtype's minimum: never sampled.
    return jax.random.categorical(key, logits / temperature)

  samples = _play(env, play_key, _repeat(states, budget), _step_with(env, choose), 1)
  nfe = samples.nfe.reshape(batch, budget).sum(1)
  if oracle:
    score = samples.solved.astype(jnp.float32)
  else:
    _, value = predict(network, params, samples.final)
    score = value
    nfe = nfe + budget
  score = score.reshape(batch, budget)
  chosen = jnp.argmax(score, axis=1)
  as_grid = lambda x: x.reshape(batch, budget, *x.shape[1:])
  final = _pick(jax.tree.map(as_grid, samples.final), chosen)
  solved = _pick(as_grid(samples.solved), chosen)
  return Outcome(final, solved, nfe)


BEAM_EXPANSION = 8  # children scored per beam and move, at most


def beam(env: Env, network: Network, params, key, states: State, budget: int, *,
         oracle: bool, value_scale: float = DEFAULT_VALUE_SCALE,
         root_noise: float = ROOT_NOISE) -> Outcome:
  """Beam search of width W = `budget`, children scored by the value head.

  Each move expands every beam by its policy's K = min(W, 8) most likely actions and
  keeps the W best children; scoring a child is one NFE (it also yields the child's
  policy for the next expansion). A finished child scores by the verifier with the
  oracle, else by the value head. NFE: 1 for the root, then one per legal child of a
  live beam. Width 1 is greedy.

  The beam grows from the root: after d moves it holds at most K^d states, so the arrays
  are min(W, K^d) wide, not W, and no compute goes to beams that cannot exist yet.
  """
  del key, value_scale, root_noise  # deterministic; children are ranked by value alone
  expand = min(budget, BEAM_EXPANSION, env.num_actions)
  batch = states.reward.shape[0]
  beams = states  # [B * w], w = 1: the root
  beam_logits, _ = predict(network, params, states)
  score = jnp.zeros((batch, 1))
  solved = jnp.zeros((batch, 1), bool)
  nfe = jnp.ones(batch, jnp.int32)

  width = 1
  for _ in range(env.max_steps):
    live = _live(beams)  # [B * w]
    top = jax.lax.top_k(beam_logits, expand)[1]  # [B * w, K]
    children = jax.vmap(jax.vmap(env.step, in_axes=(None, 0)))(beams, top)  # [B * w, K]
    flat = jax.tree.map(lambda x: x.reshape(batch * width * expand, *x.shape[2:]), children)
    child_logits, child_value = predict(network, params, flat)
    finished = ~_live(flat)
    paid = flat.reward > 0
    child_score = jnp.where(finished & oracle, paid.astype(jnp.float32), child_value)
    parent_score = jnp.repeat(score.reshape(-1), expand)
    # A finished beam carries itself over once, unchanged and unscored again.
    parent_live = jnp.repeat(live, expand)
    first_copy = jnp.tile(jnp.arange(expand) == 0, batch * width)
    child_score = jnp.where(parent_live, child_score, jnp.where(first_copy, parent_score, -jnp.inf))
    child_score = jnp.where(parent_score == -jnp.inf, -jnp.inf, child_score)
    # Illegal expansions (fewer legal actions than K) are dead.
    legal = jnp.take_along_axis(beams.legal_action_mask, top, axis=1).reshape(-1)
    child_score = jnp.where(parent_live & ~legal, -jnp.inf, child_score)
    child_solved = jnp.repeat(solved.reshape(-1), expand) | paid
    # Only legal children of real beams are evaluated: dead copies and illegal moves are free.
    real = jnp.repeat(live & (score.reshape(-1) > -jnp.inf), expand) & legal
    nfe = nfe + jnp.sum(real.reshape(batch, width * expand), axis=1)
    kept = min(budget, width * expand)
    best = jax.lax.top_k(child_score.reshape(batch, width * expand), kept)[1]  # [B, w']
    pick = lambda x: jnp.take_along_axis(
        x.reshape(batch, width * expand, *x.shape[1:]),
        best.reshape(batch, kept, *([1] * (x.ndim - 1))), axis=1)
    beams = jax.tree.map(lambda x: pick(x).reshape(batch * kept, *x.shape[1:]), flat)
    beam_logits = pick(child_logits).reshape(batch * kept, -1)
    score = pick(child_score)
    solved = pick(child_solved)
    width = kept

  chosen = jnp.argmax(score, axis=1)
  final = _pick(jax.tree.map(lambda x: x.reshape(batch, width, *x.shape[1:]), beams), chosen)
  return Outcome(final, _pick(solved, chosen), nfe)


def dfs(env: Env, network: Network, params, key, states: State, budget: int, *,
        oracle: bool, value_scale: float = DEFAULT_VALUE_SCALE,
        root_noise: float = ROOT_NOISE) -> Outcome:
  """Depth-first search guided by the policy head, backtracking from failures, until a
  solution or `budget` NFE.

  At each state the policy's favourite move names a choice (`Env.alternatives`: for
  Sudoku one cell's digits, or one digit's places in a unit); its options are tried in
  the policy's order, and when all have failed the state has no completion and search
  backs up. A failure is an episode that ends unpaid (a dead end by the rules, with the
  oracle) or, without it, one the value head scores under one half. Each state entered
  costs one NFE (its policy); with the oracle a finished one costs none. Exhaustive, so it
  finds every solvable puzzle given the NFE; the policy decides how soon.
  """
  del key, value_scale, root_noise  # deterministic: options in the policy's order
  batch = states.reward.shape[0]
  depth_cap = env.max_steps + 1  # states on a path, the root's included
  levels = jnp.arange(depth_cap)

  # Per problem and level of its path: the state there, and its untried options' logits
  # (-inf elsewhere), which rank them; `open_` [B, D] says which levels have any left, so
  # backing up reads D flags, not D * A scores.
  def option_scores(states, logits):
    chosen = jnp.argmax(logits, axis=-1)
    options = jax.vmap(env.alternatives)(states, chosen) & states.legal_action_mask
    return jnp.where(options & _live(states)[:, None], logits, -jnp.inf)

  def accepted(states, value):
    finished = ~_live(states)
    return finished & ((states.reward > 0) if oracle else (value >= 0.5))

  def deepest_open(open_, depth):
    """The deepest level on each path with an untried option, -1 where none is left."""
    return jnp.max(jnp.where(open_ & (levels <= depth[:, None]), levels, -1), axis=1)

  put = jax.vmap(lambda s, d, x: jax.lax.dynamic_update_index_in_dim(s, x, d, 0))
  take = jax.vmap(lambda s, d: jax.lax.dynamic_index_in_dim(s, d, 0, keepdims=False))
  root_logits, root_value = predict(network, params, states)
  root_scores = option_scores(states, root_logits)
  zero = jnp.zeros(batch, jnp.int32)
  stack = jax.tree.map(
      lambda x: put(jnp.zeros((batch, depth_cap, *x.shape[1:]), x.dtype), zero, x), states)
  scores = jnp.full((batch, depth_cap, env.num_actions), -jnp.inf, root_logits.dtype)
  scores = scores.at[:, 0].set(root_scores)
  open_ = jnp.zeros((batch, depth_cap), bool).at[:, 0].set(jnp.any(root_scores > -jnp.inf, axis=1))
  init = (stack, scores, open_, zero, deepest_open(open_, zero), accepted(states, root_value),
          states, jnp.ones(batch, jnp.int32))

  def searching(carry):
    *_, level, solved, _, nfe = carry
    return jnp.any(~solved & (level >= 0) & (nfe < budget))

  def expand(carry):
    stack, scores, open_, depth, level, solved, answer, nfe = carry
    active = ~solved & (level >= 0) & (nfe < budget)
    level = jnp.maximum(level, 0)
    parent = jax.tree.map(lambda s: take(s, level), stack)
    parent_scores = take(scores, level)
    action = jnp.argmax(parent_scores, axis=-1)
    tried = jax.nn.one_hot(action, env.num_actions, dtype=bool) & active[:, None]
    parent_scores = jnp.where(tried, -jnp.inf, parent_scores)
    scores = put(scores, level, parent_scores)
    open_ = put(open_, level, jnp.any(parent_scores > -jnp.inf, axis=1))
    child = jax.vmap(env.step)(parent, action)
    child_logits, child_value = predict(network, params, child)
    child_scores = jnp.where(active[:, None], option_scores(child, child_logits), -jnp.inf)
    # A problem that stops searching never searches again, so what is written below its
    # path is never read: the writes need no guard (nor a copy of the stack).
    below = level + 1
    stack = jax.tree.map(lambda s, x: put(s, below, x), stack, child)
    scores = put(scores, below, child_scores)
    open_ = put(open_, below, jnp.any(child_scores > -jnp.inf, axis=1))
    depth = jnp.where(active, below, depth)
    found = active & accepted(child, child_value)
    answer = tree_select_batch(found, child, answer)
    spent = active & (_live(child) | (not oracle))
    return (stack, scores, open_, depth, deepest_open(open_, depth), solved | found, answer,
            nfe + spent)

  *_, solved, answer, nfe = jax.lax.while_loop(searching, expand, init)
  # The verifier's word on the answer, which without the oracle the search never read.
  return Outcome(answer, solved & (answer.reward > 0), nfe)


@dataclasses.dataclass(frozen=True)
class Strategy:
  name: str
  play: Callable[..., Outcome]
  description: str
  uses_budget: bool = True
  # Env states one problem holds at once at a budget in an env of so many max_steps
  # (samples, beam children, tree nodes, a path): the evaluator sizes its batches by it
  # to bound memory.
  states_per_problem: Callable[[int, int], int] = lambda budget, max_steps: 1
  # Played up to `Player.restarts` times a problem, each with a fresh key: with the oracle
  # only the problems no play has verified yet play again; without it every problem plays
  # them all and the value head picks its answer.
  restarted: bool = False
  uses_value_scale: bool = False  # Gumbel MCTS's weight of Q against the prior


STRATEGIES = {
    s.name: s for s in (
        Strategy("greedy", greedy, "argmax of the policy head, no search", uses_budget=False),
        Strategy("bestofn", best_of_n, "N sampled episodes, chosen by the verifier with the "
                 "oracle, else by the value head; budget = N", states_per_problem=lambda n, _: n),
        Strategy("beam", beam, "beam search scored by the value head; budget = beam width",
                 states_per_problem=lambda w, _: w * min(w, BEAM_EXPANSION)),
        Strategy("dfs", dfs, "depth-first search in the policy's order, backing up from "
                 "failures; budget = NFE at most", states_per_problem=lambda _, steps: steps + 1),
        Strategy("mcts", _mcts("gumbel"), "Gumbel MuZero search, budget = simulations per move",
                 states_per_problem=lambda s, _: s + 1, uses_value_scale=True),
        Strategy("mcts-puct", _mcts("puct"), "PUCT MuZero search, budget = simulations per move",
                 states_per_problem=lambda s, _: s + 1),
        # Deterministic MCTS commits to its first moves: a puzzle whose only solutions start
        # with a move its prior rates low is lost at any budget. Root noise makes each
        # search commit differently.
        Strategy("mcts-restarts", _mcts("gumbel", noisy=True), "Gumbel MuZero search "
                 f"with root noise (--root-noise), restarted: up to {RESTARTS} searches of a "
                 "problem (--restarts); budget = simulations per move",
                 states_per_problem=lambda s, _: s + 1, restarted=True, uses_value_scale=True),
    )
}


@dataclasses.dataclass(frozen=True)
class AgentSearch:
  """An agent's own test-time search, kept in its config (`search.test_*`): what `solve`
  and `eval` play unless told otherwise, and the score it was measured to reach."""

  strategy: str  # a name of STRATEGIES
  budget: int  # its knob: simulations per move for MCTS
  restarts: int  # searches of one problem at most, for a restarted strategy
  root_noise: float  # the Gumbel noise's scale at the root, for a noisy search
  value_scale: float  # Gumbel MCTS's weight of a child's Q against its prior
  score: str  # what this search was measured to score, as text; "" where unmeasured

  def describe(self) -> str:
    """"mcts-restarts at 64 (16 restarts, root noise 10, value scale 0.3)"."""
    spec = STRATEGIES[self.strategy]
    knobs = [f"{self.restarts} restarts", f"root noise {self.root_noise:g}"] if spec.restarted else []
    if spec.uses_value_scale:
      knobs.append(f"value scale {self.value_scale:g}")
    budget = f" at {self.budget}" if spec.uses_budget else ""
    return f"{self.strategy}{budget}" + (f" ({', '.join(knobs)})" if knobs else "")


def agent_search(config) -> AgentSearch:
  """A config's (or checkpoint's) own test-time search; configs older than these fields
  search with MCTS at 64 simulations, as `solve` did before them."""
  s = config.search
  search = AgentSearch(strategy=s.get("test_strategy", "mcts"), budget=int(s.get("test_budget", 64)),
                      restarts=int(s.get("test_restarts", RESTARTS)),
                      root_noise=float(s.get("test_root_noise", ROOT_NOISE)),
                      value_scale=configured_value_scale(config), score=s.get("test_score", ""))
  if search.strategy not in STRATEGIES:
    raise UsageError(f"search.test_strategy must be one of {', '.join(STRATEGIES)}, "
                     f"got {search.strategy!r}")
  return search
