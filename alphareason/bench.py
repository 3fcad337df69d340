"""Throughput benchmarks: the batched search and the training iteration, as JSON records.

Every figure keeps compile time apart from run time: a program is compiled ahead of time
(`jax.jit(...).lower(...).compile()`, timed), then runs once untimed and `repeats` times
timed, each to `block_until_ready`, and the median is reported. Parameters are freshly
initialised: throughput does not depend on what the network has learnt.

The search overhead R = search seconds / (simulations x seconds of one batched network
call on the same batch) says how much the tree, the env and the glue cost on top of the
network: R = 1 would be a search that costs nothing but its network calls. The network
call is timed inside one compiled loop of calls, where the search makes its calls too,
so no per-call dispatch flatters R.

Memory: the analytic size of mctx's tree, the size of the tree the search really builds
(`jax.eval_shape`), the peak memory the compiled search allocates (XLA's buffer assignment
for its temporaries and outputs), and the process's peak resident set.
"""

from __future__ import annotations

import functools
import math
import resource
import statistics
import time
from typing import Callable

import jax
import jax.numpy as jnp
import ml_collections
import optax

from alphareason.parts import Parts, build
from alphareason.env import Env, State
from alphareason.search import SearchConfig, run_search
from alphareason.train import selfplay
from alphareason.train.learner import init_train_state, make_iteration, make_optimizer, make_update

# mctx's Tree: arrays of [B, S+1] (node_visits, raw_values, node_values, parents,
# action_from_parent) and of [B, S+1, A] (children_index, children_prior_logits,
# children_visits, children_rewards, children_discounts, children_values), all 4-byte.
NODE_ARRAYS = 5
EDGE_ARRAYS = 6
# Network calls per timed loop: enough that the program's fixed launch cost is negligible,
# whatever the simulation count (R compares steady-state calls).
NETWORK_LOOP_CALLS = 32


def sample_roots(env: Env, batch: int, seed: int = 0) -> State:
  """`batch` fresh problems' initial states [B, ...], the same for a given seed."""
  keys = jax.random.split(jax.random.PRNGKey(seed), batch)
  return jax.jit(jax.vmap(lambda key: env.init(env.sample_problem(key))))(keys)


def fresh_params(network, seed: int = 0):
  """Freshly initialised parameters, the same for a given seed (compiled: eager init is slow)."""
  return jax.jit(network.init)(jax.random.PRNGKey(seed))


def state_bytes(states: State) -> int:
  """Bytes of one state of a batch [B, ...]: what each tree node's embedding holds."""
  return sum(x.dtype.itemsize * math.prod(x.shape[1:]) for x in jax.tree.leaves(states))


def tree_bytes_formula(batch: int, simulations: int, num_actions: int, embedding_bytes: int) -> int:
  """B (S+1) (5 x 4 + 6 x 4 A + E) bytes: mctx's node and edge arrays, plus the embeddings."""
  return batch * (simulations + 1) * (4 * NODE_ARRAYS + 4 * EDGE_ARRAYS * num_actions + embedding_bytes)


def peak_rss_bytes() -> int:
  """The process's peak resident set so far (Linux reports kilobytes)."""
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def median_seconds(run: Callable[[], object], repeats: int) -> float:
  """The median wall time of `repeats` calls, each waited for to the end.

  One untimed call goes first: a program's first run in a process also pays for the
  allocator's first large requests, which would make a cold outlier of it.
  """
  jax.block_until_ready(run())
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    jax.block_until_ready(run())
    times.append(time.perf_counter() - start)
  return statistics.median(times)


def compile_timed(function: Callable, *args):
  """(compiled program, seconds to trace, lower and compile it for `args`)."""
  start = time.perf_counter()
  compiled = jax.jit(function).lower(*args).compile()
  return compiled, time.perf_counter() - start


def memory_bytes(compiled, *, arguments: bool) -> int:
  """XLA's buffer assignment for a compiled program: its outputs and temporaries (one arena
  sized to their peak), and its arguments too if asked."""
  stats = compiled.memory_analysis()
  total = stats.output_size_in_bytes + stats.temp_size_in_bytes
  if arguments:  # an output written into a donated argument's buffer counts once
    total += stats.argument_size_in_bytes - stats.alias_size_in_bytes
  return total


def network_call_seconds(network, params, observation: jax.Array, *, calls: int,
                         repeats: int) -> float:
  """Seconds per batched network call, timed as `calls` calls in one compiled loop."""

  def loop(params, observation):
    def call(observation, _):
      logits, value = network.apply(params, observation)
      # A vanishing dependence on both heads keeps XLA from hoisting the call out of the
      # loop or dropping a head.
      used = (value + jnp.sum(logits, -1)).reshape(-1, *[1] * (observation.ndim - 1))
      return observation + 1e-30 * used, None
    return jax.lax.scan(call, observation, None, length=calls)[0]

  compiled, _ = compile_timed(loop, params, observation)
  return median_seconds(lambda: compiled(params, observation), repeats) / calls


def network_flops_per_call(network, params, observation: jax.Array) -> float:
  """XLA's count of floating-point operations in one batched network call."""
  compiled = jax.jit(network.apply).lower(params, observation).compile()
  analysis = compiled.cost_analysis()
  analysis = analysis[0] if isinstance(analysis, (list, tuple)) else analysis
  return float(analysis.get("flops", float("nan")))


@functools.cache
def matmul_flops_per_second(size: int = 1024, repeats: int = 5) -> float:
  """The device's float32 matrix-multiply rate, measured here: the roof a network-bound
  search can approach, so a search's FLOP rate reads as a share of what the device does."""
  a = jax.random.normal(jax.random.PRNGKey(0), (size, size), jnp.float32)
  compiled, _ = compile_timed(lambda a: a @ a, a)
  return 2 * size**3 / median_seconds(lambda: compiled(a), repeats)


def dispatched_call_seconds(network, params, observation: jax.Array, calls: int = 20) -> float:
  """Seconds of one jit-dispatched network call from Python (the median of `calls`)."""
  apply = jax.jit(network.apply)
  return median_seconds(lambda: apply(params, observation), calls)


def search_benchmark(config: ml_collections.ConfigDict, *, batch: int | None = None,
                     simulations: int | None = None, repeats: int = 5, seed: int = 0,
                     data_dir=None, parts: Parts | None = None) -> dict:
  """Times mctx's batched search from `batch` roots at `simulations` per search.

  `batch` and `simulations` default to the config's self-play settings; `parts` reuses an
  experiment's parts already built from `config` (a sweep builds them once).
  """
  parts = parts or build(config, data_dir=data_dir)
  env, network = parts.env, parts.network
  batch = config.train.selfplay_batch_size if batch is None else batch
  simulations = config.search.num_simulations if simulations is None else simulations
  search_config = SearchConfig.from_config(config.search, num_simulations=simulations)
  params = fresh_params(network, seed)
  states = sample_roots(env, batch, seed)
  rng_key = jax.random.PRNGKey(seed + 1)

  def search(params, rng_key, states):
    output = run_search(env, network, params, rng_key, states, search_config)
    return output.action, output.action_weights  # what self-play and evaluation keep

  compiled, compile_seconds = compile_timed(search, params, rng_key, states)
  search_seconds = median_seconds(lambda: compiled(params, rng_key, states), repeats)
  call_seconds = network_call_seconds(
      network, params, states.observation, calls=NETWORK_LOOP_CALLS, repeats=repeats)
  dispatch_seconds = dispatched_call_seconds(network, params, states.observation)
  # Every simulation calls the network once on the whole batch.
  network_flops_per_second = (network_flops_per_call(network, params, states.observation)
                              * simulations / search_seconds)

  tree = jax.eval_shape(
      lambda *args: run_search(env, network, *args, search_config).search_tree,
      params, rng_key, states)
  tree_bytes = sum(x.size * x.dtype.itemsize for x in jax.tree.leaves(tree))
  formula_bytes = tree_bytes_formula(batch, simulations, env.num_actions, state_bytes(states))
  # What the search allocates; its arguments (parameters and roots) exist before it runs.
  search_memory = memory_bytes(compiled, arguments=False)
  return dict(
      benchmark="search", env_id=config.env_id, policy=search_config.policy,
      network=config.network.to_dict(), device=jax.devices()[0].device_kind, batch=batch, simulations=simulations,
      repeats=repeats,
      compile_seconds=compile_seconds,
      search_seconds=search_seconds,
      simulations_per_second=batch * simulations / search_seconds,
      network_call_seconds=call_seconds,
      network_call_dispatched_seconds=dispatch_seconds,
      search_overhead=search_seconds / (simulations * call_seconds),
      search_overhead_dispatched=search_seconds / (simulations * dispatch_seconds),
      network_flops_per_second=network_flops_per_second,
      matmul_flops_per_second=matmul_flops_per_second(),
      network_share_of_matmul_rate=network_flops_per_second / matmul_flops_per_second(),
      tree_bytes_formula=formula_bytes,
      tree_bytes=tree_bytes,
      search_memory_bytes=search_memory,
      search_memory_over_formula=search_memory / formula_bytes,
      peak_rss_bytes=peak_rss_bytes())


def _update_program(network, optimizer: optax.GradientTransformation,
                    train: ml_collections.ConfigDict) -> Callable:
  """An iteration's optimizer updates alone: the learner's own update step, scanned."""
  update = make_update(network, optimizer, train)

  def updates(params, opt_state, replay, key):
    keys = jax.random.split(key, train.updates_per_iteration)
    (params, opt_state, _), _ = jax.lax.scan(update, (params, opt_state, replay), keys)
    return params, opt_state

  return updates


def train_benchmark(config: ml_collections.ConfigDict, *, repeats: int = 3, seed: int = 0,
                    data_dir=None) -> dict:
  """Times the compiled training iteration, and its self-play and updates each alone.

  `compile_seconds` is what the first iteration of a run waits for: tracing, lowering
  and compiling the iteration, as the training loop does.
  """
  config = config.copy_and_resolve_references()
  config.seed = seed
  parts = build(config, data_dir=data_dir)
  env, network, train = parts.env, parts.network, config.train
  optimizer = make_optimizer(train)
  search_config = SearchConfig.from_config(config.search)
  state = init_train_state(env, network, optimizer, config)

  start = time.perf_counter()
  iteration = make_iteration(env, network, optimizer, config).lower(state).compile()
  compile_seconds = time.perf_counter() - start
  iteration_memory = memory_bytes(iteration, arguments=True)  # the train state included
  state, _ = jax.block_until_ready(iteration(state))  # untimed, as median_seconds does
  iteration_runs = []
  for _ in range(repeats):
    start = time.perf_counter()
    state, metrics = jax.block_until_ready(iteration(state))  # the old state is donated
    iteration_runs.append((time.perf_counter() - start, int(metrics["moves"])))

  def play(params, key):
    _, stats = selfplay.play_episodes(
        env, network, params, key, train.selfplay_batch_size, search_config)
    return stats.moves

  play_compiled, _ = compile_timed(play, state.params, state.rng_key)
  warmup_key, *play_keys = jax.random.split(jax.random.PRNGKey(seed + 1), repeats + 1)
  jax.block_until_ready(play_compiled(state.params, warmup_key))
  play_runs = []
  for key in play_keys:
    start = time.perf_counter()
    moves = int(jax.block_until_ready(play_compiled(state.params, key)))
    play_runs.append((time.perf_counter() - start, moves))

  update_args = (state.params, state.opt_state, state.replay, state.rng_key)  # a filled buffer
  update_compiled, _ = compile_timed(_update_program(network, optimizer, train), *update_args)
  update_seconds = median_seconds(lambda: update_compiled(*update_args), repeats)

  def rate(runs):  # the median of per-run moves per second
    return statistics.median(moves / seconds for seconds, moves in runs)

  iteration_seconds = statistics.median(seconds for seconds, _ in iteration_runs)
  selfplay_seconds = statistics.median(seconds for seconds, _ in play_runs)
  return dict(
      benchmark="train", env_id=config.env_id, policy=search_config.policy,
      network=config.network.to_dict(), device=jax.devices()[0].device_kind,
      selfplay_batch_size=train.selfplay_batch_size, simulations=search_config.num_simulations,
      updates_per_iteration=train.updates_per_iteration, update_batch_size=train.batch_size,
      repeats=repeats,
      compile_seconds=compile_seconds,
      iteration_seconds=iteration_seconds,
      moves_per_iteration=statistics.median_low(moves for _, moves in iteration_runs),
      moves_per_second=rate(iteration_runs),
      simulations_per_second=rate(iteration_runs) * search_config.num_simulations,
      updates_per_second=train.updates_per_iteration / update_seconds,
      selfplay_seconds=selfplay_seconds,
      selfplay_moves_per_second=rate(play_runs),
      selfplay_simulations_per_second=rate(play_runs) * search_config.num_simulations,
      update_seconds=update_seconds,
      iteration_memory_bytes=iteration_memory,
      peak_rss_bytes=peak_rss_bytes())
