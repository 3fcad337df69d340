"""A reference Python-tree MCTS, written the way popular Python AlphaZero implementations are.

Recursive PUCT over Python node objects holding numpy statistics (visit counts N, value
sums W, priors P, one entry per action; children in a dict), one leaf per network call:
the same jit-compiled network and weights as the batched search, on a batch of one
observation. The env is the same too, in one of two ways:

- `CountdownPort`, a plain-Python port of Countdown (exact integer arithmetic with the
  JAX env's int32 overflow rules, numpy float32 observations), checked against the JAX env
  on random play by `check_port`. It is the faster, so the comparison uses it.
- `JaxEnvModel`, the JAX env itself: one jitted single-state call per expanded node that
  steps the env and calls the network.

Selection follows mctx's `muzero_policy` as `alphareason.search` configures it (PUCT
constants 1.25 and 19652, Q in [0, 1] with unvisited actions at 0, terminal values 0), so
both searches make the same kind of decisions.

  python -m benchmarks.python_mcts [--config configs/game24.py] [--batch 256] [--simulations 32]

runs mctx's batched search and this tree on the same problems, with the same simulations
per move and the same network, and prints the ratio of their simulations per second
(`make bench`).
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import statistics
import sys
import time
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from alphareason import bench, parts as parts_lib
from alphareason.config import load_config, split_overrides
from alphareason.networks import masked_logits

PB_C_INIT = 1.25  # mctx.muzero_action_selection's defaults
PB_C_BASE = 19652.0
_INT_MAX = 2**31 - 1


# --- the env: the JAX env, or a plain-Python port of Countdown ------------------------

class Expansion(NamedTuple):
  """What expanding a node tells the tree."""

  state: Any  # the env state, in whatever form the model keeps it
  prior: np.ndarray  # [A] prior probabilities, 0 on illegal actions
  legal: np.ndarray  # [A] bool
  value: float  # the network's value estimate; 0 for a finished state
  reward: float  # paid on the step into this state
  finished: bool


class PortState(NamedTuple):
  numerator: tuple[int, ...]  # [N]
  denominator: tuple[int, ...]  # [N], > 0
  alive: tuple[bool, ...]  # [N]
  target: int
  step_count: int
  legal: np.ndarray  # [A] bool
  reward: float
  terminated: bool
  truncated: bool


def _fits(x: int) -> bool:
  return -_INT_MAX <= x <= _INT_MAX


@functools.lru_cache(maxsize=1 << 18)
def combine(an: int, ad: int, bn: int, bd: int) -> tuple:
  """The four results of a OP b as (numerator, denominator), None where illegal.

  The same steps as `alphareason.envs.countdown.combine`, in exact Python integers: an
  intermediate is rejected exactly when it would not fit int32 there.
  """
  g = math.gcd(ad, bd) or 1
  left, right, den = an * (bd // g), bn * (ad // g), (ad // g) * bd
  terms_fit = _fits(left) and _fits(right) and _fits(den)

  def reduced(num):
    if not (terms_fit and _fits(num)):
      return None
    g = math.gcd(num, den) or 1
    return num // g, den // g

  g1, g2 = math.gcd(an, bd) or 1, math.gcd(bn, ad) or 1
  product = (an // g1) * (bn // g2), (ad // g2) * (bd // g1)
  quotient = None
  if bn != 0:
    inverse_num, inverse_den = (-bd if bn < 0 else bd), abs(bn)
    g1, g2 = math.gcd(an, inverse_den) or 1, math.gcd(inverse_num, ad) or 1
    quotient = (an // g1) * (inverse_num // g2), (ad // g2) * (inverse_den // g1)
  return (reduced(left + right), reduced(left - right),
          product if _fits(product[0]) and _fits(product[1]) else None,
          quotient if quotient and _fits(quotient[0]) and _fits(quotient[1]) else None)


class CountdownPort:
  """Countdown's rules (and the base Env's) in plain Python, for one `Countdown` env."""

  def __init__(self, env):
    self.n = n = env.max_numbers
    self.num_actions = env.num_actions
    self.max_steps = env.max_steps
    self._dead_slot = (0.0,) * env.observation_shape[-1]
    # For each ordered pair of slots, the (operator, action) moves it can ever make.
    self._pair_moves = {
        (i, j): [(op, op * n * n + i * n + j) for op in range(4)
                 if env._action_shape_ok[op * n * n + i * n + j]]
        for i in range(n) for j in range(n) if i != j}

  def init(self, problem) -> PortState:
    count = int(problem.count)
    numerator = tuple(int(x) if i < count else 0 for i, x in enumerate(problem.numbers))
    alive = tuple(i < count for i in range(self.n))
    return self._finish(numerator, (1,) * self.n, alive, int(problem.target), 0, 0.0, False)

  def step(self, state: PortState, action: int) -> PortState:
    if state.terminated or state.truncated:
      return state._replace(reward=0.0)
    if not (0 <= action < self.num_actions and state.legal[action]):
      return self._finish(state.numerator, state.denominator, state.alive, state.target,
                          state.step_count + 1, 0.0, True, state.legal)
    op, rest = divmod(action, self.n * self.n)
    i, j = divmod(rest, self.n)
    num, den = combine(state.numerator[i], state.denominator[i],
                       state.numerator[j], state.denominator[j])[op]
    keep, drop = min(i, j), max(i, j)
    numerator, denominator, alive = (list(state.numerator), list(state.denominator),
                                     list(state.alive))
    numerator[keep], denominator[keep] = num, den
    numerator[drop], denominator[drop], alive[drop] = 0, 1, False
    done = sum(alive) <= 1
    solved = done and num == state.target and den == 1
    return self._finish(tuple(numerator), tuple(denominator), tuple(alive), state.target,
                        state.step_count + 1, float(solved), done)

  def _finish(self, numerator, denominator, alive, target, step_count, reward, terminated,
              legal=None):
    """The legal mask, then the base Env's rules: dead ends fail, max_steps truncates."""
    if legal is None:
      legal = self._legal(numerator, denominator, alive)
    dead_end = not terminated and not legal.any()
    terminated = terminated or dead_end
    truncated = not terminated and step_count >= self.max_steps
    if terminated or truncated:
      legal = np.zeros(self.num_actions, bool)
    return PortState(numerator, denominator, alive, target, step_count, legal,
                     0.0 if dead_end else reward, terminated, truncated)

  def _legal(self, numerator, denominator, alive) -> np.ndarray:
    legal = np.zeros(self.num_actions, bool)
    live = [i for i in range(self.n) if alive[i]]
    moves = []
    for i in live:
      for j in live:
        if i != j:
          results = combine(numerator[i], denominator[i], numerator[j], denominator[j])
          moves += [action for op, action in self._pair_moves[i, j] if results[op] is not None]
    legal[moves] = True
    return legal

  def observation(self, state: PortState) -> np.ndarray:
    """The JAX env's features ([N, F] float32), slot by slot in Python floats.

    Each value is the float32 quotient the JAX env computes, so the features that depend
    on its exact bits (the fraction part) agree; the rest differ by float32 rounding.
    """
    target = max(float(np.float32(state.target)), 1.0)
    log_target = math.log(max(target, 2.0))
    shared = (math.log1p(target) / 8.0, (sum(state.alive) - 1) / self.max_steps)
    rows = []
    for num, den, alive in zip(state.numerator, state.denominator, state.alive):
      if not alive:
        rows.append(self._dead_slot)
        continue
      value = float(np.float32(num) / np.float32(den))
      magnitude = abs(value)
      rows.append((
          1.0, (value > 0) - (value < 0), math.log1p(magnitude) / 8.0,
          -1.0 if num == 0 else math.log(max(magnitude, 1e-6)) / log_target,
          min(max(value / target, -4.0), 4.0),
          0.0 if num == 0 else min(max(target / value, -4.0), 4.0),
          float(den == 1), float(num == state.target and den == 1),
          value - math.floor(value)) + shared)
    return np.array(rows, np.float32)


def check_port(env, *, episodes: int = 200, seed: int = 0) -> int:
  """Plays random legal moves in the JAX env and the port side by side.

  Raises AssertionError at the first difference in numbers, legal mask, reward,
  termination or observation; returns the number of states compared.
  """
  port = CountdownPort(env)
  rng = np.random.default_rng(seed)
  problems = jax.device_get(jax.jit(jax.vmap(env.sample_problem))(
      jax.random.split(jax.random.PRNGKey(seed), episodes)))
  init, step = jax.jit(env.init), jax.jit(env.step)
  compared = 0
  for index in range(episodes):
    problem = jax.tree.map(lambda x: x[index], problems)
    state, ported = jax.device_get(init(problem)), port.init(problem)
    while True:
      where = f"problem {env.problem_text(problem)!r} after moves {ported.step_count}"
      np.testing.assert_array_equal(state.numerator, ported.numerator, where)
      np.testing.assert_array_equal(state.denominator, ported.denominator, where)
      np.testing.assert_array_equal(state.alive, ported.alive, where)
      np.testing.assert_array_equal(state.legal_action_mask, ported.legal, where)
      assert (float(state.reward), bool(state.terminated), bool(state.truncated)) == (
          ported.reward, ported.terminated, ported.truncated), where
      np.testing.assert_allclose(state.observation, port.observation(ported),
                                 rtol=1e-5, atol=1e-6, err_msg=where)
      compared += 1
      if ported.terminated or ported.truncated:
        break
      action = int(rng.choice(np.flatnonzero(ported.legal)))
      state, ported = jax.device_get(step(state, action)), port.step(ported, action)
  return compared


def make_predict(network, params):
  """(observation [*obs], legal [A]) -> [A + 1]: masked prior probabilities, then the value.

  One jit-compiled call of the network on a batch of one. The weights are closed over,
  so a call passes two small arrays instead of flattening every parameter.
  """
  @jax.jit
  def predict(observation, legal):
    logits, value_logits = network.apply(params, observation[None])
    priors = jax.nn.softmax(masked_logits(logits[0], legal))
    return jnp.concatenate([priors, jax.nn.sigmoid(value_logits)])

  return predict


class PortModel:
  """Expansions from `CountdownPort` and the network: one network call per live leaf."""

  def __init__(self, env, network, params):
    self.port = CountdownPort(env)
    self._predict = make_predict(network, params)
    self._no_prior = np.zeros(env.num_actions)
    self.network_calls = 0

  def clear_cache(self) -> None:
    """Forgets memoised arithmetic, so that timed passes over the same problems start cold."""
    combine.cache_clear()

  def root(self, problem) -> Expansion:
    return self._expansion(self.port.init(problem))

  def expand(self, state: PortState, action: int) -> Expansion:
    return self._expansion(self.port.step(state, action))

  def _expansion(self, state: PortState) -> Expansion:
    if state.terminated or state.truncated:  # a finished state's value is 0: no call
      return Expansion(state, self._no_prior, state.legal, 0.0, state.reward, True)
    self.network_calls += 1
    out = np.asarray(self._predict(self.port.observation(state), state.legal))
    return Expansion(state, out[:-1], state.legal, float(out[-1]), state.reward, False)


class JaxEnvModel:
  """Expansions from the JAX env: one jitted call steps a single state and calls the network."""

  def __init__(self, env, network, params):
    num_actions = env.num_actions

    def summarise(state):  # everything the tree needs on the host, in one array
      logits, value_logits = network.apply(params, state.observation[None])
      return jnp.concatenate([
          jax.nn.softmax(masked_logits(logits[0], state.legal_action_mask)),
          state.legal_action_mask.astype(jnp.float32),
          jax.nn.sigmoid(value_logits), state.reward[None],
          (state.terminated | state.truncated).astype(jnp.float32)[None]])

    def root(problem):
      state = env.init(problem)
      return state, summarise(state)

    def expand(state, action):
      state = env.step(state, action)
      return state, summarise(state)

    self._root, self._expand = jax.jit(root), jax.jit(expand)
    self._num_actions = num_actions
    self.network_calls = 0

  def root(self, problem) -> Expansion:
    return self._expansion(*self._root(problem))

  def expand(self, state, action: int) -> Expansion:
    return self._expansion(*self._expand(state, action))

  def _expansion(self, state, summary) -> Expansion:
    self.network_calls += 1
    summary = np.asarray(summary)
    a = self._num_actions
    finished = bool(summary[2 * a + 2])
    return Expansion(state, summary[:a], summary[a:2 * a] > 0,
                     0.0 if finished else float(summary[2 * a]), float(summary[2 * a + 1]),
                     finished)


# --- the tree ---------------------------------------------------------------------------

class Node:
  """A node, and the statistics of the edges to its children, one entry per action."""

  __slots__ = ("state", "prior", "counts", "value_sums", "qvalues", "exploration", "visits",
               "children", "reward", "finished", "value")

  def __init__(self, expansion: Expansion):
    self.state = expansion.state
    self.prior = expansion.prior.tolist()  # P; Python lists: scalar updates are cheaper
    size = len(self.prior)
    self.counts = [0] * size  # N
    self.value_sums = [0.0] * size  # W
    # W / N, 0 where unvisited (mctx's min-max Q transform), -inf on illegal actions so
    # that selection never picks one.
    self.qvalues = np.where(expansion.legal, 0.0, -np.inf)
    # P / (N + 1), PUCT's exploration term but for its factor common to the node: kept up
    # to date edge by edge, so that a selection is two array operations and an argmax.
    self.exploration = np.array(self.prior)
    self.visits = 1  # as mctx counts: the expansion, then each simulation through
    self.children: dict[int, Node] = {}
    self.reward, self.finished, self.value = expansion.reward, expansion.finished, expansion.value


class PythonMCTS:
  """PUCT search from one root at a time; `model` supplies expansions (see PortModel)."""

  def __init__(self, model, num_simulations: int, *, dirichlet_fraction: float = 0.0,
               dirichlet_alpha: float = 0.3, seed: int = 0):
    self.model, self.num_simulations = model, num_simulations
    self.dirichlet_fraction, self.dirichlet_alpha = dirichlet_fraction, dirichlet_alpha
    self._rng = np.random.default_rng(seed)

  def search(self, problem) -> np.ndarray:
    """The root's visit counts [A] after `num_simulations` simulations."""
    root = Node(self.model.root(problem))
    if self.dirichlet_fraction > 0 and not root.finished:
      legal = np.isfinite(root.qvalues)
      noise = np.zeros(len(root.prior))
      noise[legal] = self._rng.dirichlet([self.dirichlet_alpha] * int(legal.sum()))
      root.exploration = (1 - self.dirichlet_fraction) * root.exploration + self.dirichlet_fraction * noise
      root.prior = root.exploration.tolist()
    for _ in range(self.num_simulations):
      if not root.finished:
        self._simulate(root)
    return np.array(root.counts)

  def _simulate(self, node: Node) -> float:
    """Walks down from `node`, expands one leaf, backs up; returns the sampled value."""
    pb_c = PB_C_INIT + math.log((node.visits + PB_C_BASE + 1.0) / PB_C_BASE)
    action = int((node.qvalues + (pb_c * math.sqrt(node.visits)) * node.exploration).argmax())
    child = node.children.get(action)
    if child is None:
      child = node.children[action] = Node(self.model.expand(node.state, action))
      value = child.value
    elif child.finished:
      value = 0.0
    else:
      value = self._simulate(child)
    sample = child.reward + value  # discount 1, and a finished child's value is 0
    count = node.counts[action] = node.counts[action] + 1
    total = node.value_sums[action] = node.value_sums[action] + sample
    node.qvalues[action] = total / count
    node.exploration[action] = node.prior[action] / (count + 1)
    node.visits += 1
    return sample


# --- the comparison -----------------------------------------------------------------------

def python_tree_rate(model, problems, count: int, num_simulations: int, *, repeats: int = 1,
                     dirichlet_fraction: float = 0.0, dirichlet_alpha: float = 0.3) -> dict:
  """Searches the first `count` problems one at a time, `repeats` times over.

  Returns simulations per second over the median pass, and network calls per search.
  """
  tree = PythonMCTS(model, num_simulations, dirichlet_fraction=dirichlet_fraction,
                    dirichlet_alpha=dirichlet_alpha)
  host = jax.device_get(problems)
  tree_problems = [jax.tree.map(lambda x: x[i], host) for i in range(count)]
  PythonMCTS(model, 1).search(tree_problems[0])  # compiles the network call, untimed
  calls = model.network_calls
  passes = []
  for _ in range(repeats):
    getattr(model, "clear_cache", lambda: None)()
    start = time.perf_counter()
    for problem in tree_problems:
      tree.search(problem)
    passes.append(time.perf_counter() - start)
  seconds = statistics.median(passes)
  # Roots count too: one call each, as in mctx's root evaluation.
  return dict(problems=count, repeats=repeats, seconds=seconds,
              simulations_per_second=count * num_simulations / seconds,
              network_calls_per_search=(model.network_calls - calls) / (count * repeats))


def compare(config, *, batch: int, simulations: int, tree_problems: int,
            jax_env_problems: int, repeats: int = 5, seed: int = 0) -> dict:
  """mctx's batched search and the Python tree on the same problems, network and budget."""
  parts = parts_lib.build(config)
  env, network = parts.env, parts.network
  params = bench.fresh_params(network, seed)  # what search_benchmark initialises
  problems = bench.sample_roots(env, batch, seed).problem  # the problems it searches
  mctx = {}
  for policy in ("puct", "gumbel"):
    policy_config = config.copy_and_resolve_references()
    policy_config.search.policy = policy
    mctx[policy] = bench.search_benchmark(policy_config, batch=batch, simulations=simulations,
                                          repeats=repeats, seed=seed, parts=parts)
  noise = dict(repeats=repeats, dirichlet_fraction=config.search.dirichlet_fraction,
               dirichlet_alpha=config.search.dirichlet_alpha)
  port = python_tree_rate(PortModel(env, network, params), problems,
                          min(tree_problems, batch), simulations, **noise)
  jax_env = python_tree_rate(JaxEnvModel(env, network, params), problems,
                             min(jax_env_problems, batch), simulations, **noise)
  best_tree = max(port["simulations_per_second"], jax_env["simulations_per_second"])
  return dict(
      env_id=config.env_id, batch=batch, simulations=simulations, device=jax.devices()[0].device_kind,
      mctx_puct=mctx["puct"], mctx_gumbel=mctx["gumbel"],
      python_tree_port=port, python_tree_jax_env=jax_env,
      ratio_puct=mctx["puct"]["simulations_per_second"] / best_tree,
      ratio_gumbel=mctx["gumbel"]["simulations_per_second"] / best_tree)


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--config", default="configs/game24.py")
  parser.add_argument("--batch", type=int, default=256, help="roots mctx searches at once")
  parser.add_argument("--simulations", type=int, default=32, help="simulations per move, both")
  parser.add_argument("--tree-problems", type=int, default=256,
                      help="of the same problems, how many the Python tree (port) searches")
  parser.add_argument("--jax-env-problems", type=int, default=32,
                      help="how many the Python tree searches stepping the JAX env")
  parser.add_argument("--repeats", type=int, default=5,
                      help="timed runs of each search, mctx and Python (the median)")
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--json", default=None, help="also write every figure to this file")
  args, rest = parser.parse_known_args(argv)
  overrides, unknown = split_overrides(rest)  # `--config.key=value`, as in `alphareason train`
  if unknown:
    parser.error(f"unrecognized arguments: {' '.join(unknown)}")
  result = compare(load_config(args.config, overrides), batch=args.batch, simulations=args.simulations,
                   tree_problems=args.tree_problems, jax_env_problems=args.jax_env_problems,
                   repeats=args.repeats, seed=args.seed)
  if args.json:
    with open(args.json, "w") as out:
      json.dump(result, out, indent=1)
  port, jax_env = result["python_tree_port"], result["python_tree_jax_env"]
  print(f"{result['env_id']}, {args.simulations} simulations per move, device {result['device']}")
  for policy in ("puct", "gumbel"):
    print(f"  mctx {policy:6s} batch {args.batch:5d}: "
          f"{result[f'mctx_{policy}']['simulations_per_second']:10.0f} simulations/s")
  print(f"  Python tree, Countdown port: {port['simulations_per_second']:10.0f} simulations/s "
        f"({port['problems']} problems)")
  print(f"  Python tree, JAX env:        {jax_env['simulations_per_second']:10.0f} simulations/s "
        f"({jax_env['problems']} problems)")
  print(f"ratio of simulations/s, mctx batch {args.batch} over the faster Python tree: "
        f"{result['ratio_puct']:.1f}x (puct), {result['ratio_gumbel']:.1f}x (gumbel)")
  return 0


if __name__ == "__main__":
  sys.exit(main())
