"""Benchmarks: the JSON records, the Python-tree baseline, and an iteration compiled once."""

import json
import math
import sys

import chex
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

import alphareason
from alphareason import cli, parts as parts_lib
from alphareason.envs.countdown import OPERATORS
from alphareason.networks import make_network
from alphareason.search import SearchConfig, run_search
from alphareason.train.learner import init_train_state, make_iteration, make_optimizer
from conftest import ROOT, tiny_config

sys.path.insert(0, str(ROOT))  # benchmarks/ lives beside the package, not in it
from benchmarks import first_moves, python_mcts, sudoku_guesses  # noqa: E402

TINY = str(ROOT / "configs" / "tiny.py")
SEARCH_FIGURES = (
    "compile_seconds", "search_seconds", "simulations_per_second", "network_call_seconds",
    "network_call_dispatched_seconds", "search_overhead", "search_overhead_dispatched",
    "tree_bytes_formula", "tree_bytes", "search_memory_bytes", "search_memory_over_formula",
    "network_flops_per_second", "matmul_flops_per_second", "network_share_of_matmul_rate",
    "peak_rss_bytes")
TRAIN_FIGURES = (
    "compile_seconds", "iteration_seconds", "moves_per_iteration", "moves_per_second",
    "simulations_per_second", "updates_per_second", "selfplay_seconds",
    "selfplay_moves_per_second", "selfplay_simulations_per_second", "update_seconds",
    "iteration_memory_bytes", "peak_rss_bytes")


def bench(capsys, *args):
  assert cli.main(["bench", *args, "--config", TINY]) == 0
  return json.loads(capsys.readouterr().out)


def assert_positive_and_finite(record, keys):
  for key in keys:
    assert isinstance(record[key], (int, float)) and math.isfinite(record[key]) and record[key] > 0, key


@pytest.mark.slow  # times searches
def test_bench_search_reports_throughput_overhead_and_memory(capsys):
  record = bench(capsys, "search", "--batch", "4", "--simulations", "3", "--repeats", "2")
  assert (record["benchmark"], record["batch"], record["simulations"]) == ("search", 4, 3)
  assert_positive_and_finite(record, SEARCH_FIGURES)
  assert record["simulations_per_second"] == pytest.approx(4 * 3 / record["search_seconds"])
  # The formula is the tree but for its [B, A] root arrays (the invalid mask, Gumbel noise).
  num_actions = alphareason.make("game24-v0").num_actions
  assert 0 <= record["tree_bytes"] - record["tree_bytes_formula"] <= 8 * 4 * num_actions
  assert record["network_share_of_matmul_rate"] == pytest.approx(
      record["network_flops_per_second"] / record["matmul_flops_per_second"])


@pytest.mark.slow  # times repeated training iterations
def test_bench_train_reports_moves_updates_and_compile_time(capsys):
  # Config overrides reach the benchmarked config as in `train`, and the record names the network.
  record = bench(capsys, "train", "--config", TINY, "--batch", "4", "--simulations", "2",
                 "--repeats", "2", "--config.train.updates_per_iteration=3",
                 "--config.network.width=16")
  assert (record["benchmark"], record["selfplay_batch_size"], record["simulations"]) == ("train", 4, 2)
  assert record["updates_per_iteration"] == 3 and record["network"]["width"] == 16
  assert_positive_and_finite(record, TRAIN_FIGURES)
  assert record["moves_per_iteration"] <= 4 * 3  # 4 episodes of at most 3 moves


@pytest.mark.parametrize("args", [["search", "--batch", "0"], ["train", "--repeats", "-1"],
                                  ["search", "--simulations", "x"], ["play"]])
def test_bench_refuses_bad_arguments_in_one_line(capsys, args):
  assert cli.main(["bench", *args, "--config", TINY]) == 2
  error = capsys.readouterr().err
  assert error.startswith("alphareason: error:") and error.count("\n") == 1


def test_the_countdown_port_plays_exactly_as_the_jax_env():
  assert python_mcts.check_port(alphareason.make("game24-v0"), episodes=40) == 40 * 4
  # Numbers up to 2**20 overflow int32 within a move or two: the port must refuse the same moves.
  huge = alphareason.make("countdown-v0", max_value=2**20 - 1, target=24)
  assert python_mcts.check_port(huge, episodes=10, seed=1) > 10
  a, b = 2**20 - 1, 2**20 - 3
  assert python_mcts.combine(a * 2047, 1, a, 1)[2] is None  # the product does not fit int32
  assert python_mcts.combine(a, b, 1, 1)[0] == (a + b, b)


@pytest.mark.slow  # a Python-tree search beside mctx's
def test_the_python_tree_and_mctx_agree_on_a_known_answer():
  env = alphareason.make("countdown-v0", min_numbers=2, max_numbers=2, target=24)
  solve = OPERATORS.index("*") * 4 + 0 * 2 + 1  # 3*8, the only solving action
  network = make_network(ml_collections.ConfigDict(
      dict(family="set", width=16, depth=1, num_heads=2, dtype="float32")), env)
  params = jax.jit(network.init)(jax.random.PRNGKey(0))
  problem = env.parse_problem("3 8")
  for model in (python_mcts.PortModel(env, network, params),
                python_mcts.JaxEnvModel(env, network, params)):
    counts = python_mcts.PythonMCTS(model, 16).search(problem)
    assert counts.sum() == 16 and np.argmax(counts) == solve
  roots = jax.jit(jax.vmap(env.init))(jax.tree.map(lambda x: np.asarray(x)[None], problem))
  config = SearchConfig(num_simulations=16, policy="puct", temperature=0.0)
  out = jax.jit(lambda key: run_search(env, network, params, key, roots, config))(
      jax.random.PRNGKey(1))
  assert int(out.action[0]) == solve
  assert int(np.argmax(out.search_tree.children_visits[0, 0])) == solve


@pytest.mark.slow  # compiles and runs training iterations of several lengths
def test_the_training_iteration_compiles_once(monkeypatch):
  config = tiny_config("validation_size=0")
  parts = parts_lib.build(config)
  optimizer = make_optimizer(config.train)
  state = init_train_state(parts.env, parts.network, optimizer, config)
  jit = jax.jit
  chex.clear_trace_counter()
  with monkeypatch.context() as patch:
    # Wrap the Python function that make_iteration hands to jax.jit: a second trace fails.
    patch.setattr(jax, "jit", lambda fun, **kwargs: jit(chex.assert_max_traces(fun, n=1), **kwargs))
    iteration = make_iteration(parts.env, parts.network, optimizer, config)
  for _ in range(3):
    state, _ = iteration(state)
  assert int(state.iteration) == 3 and iteration._cache_size() == 1


def test_first_moves_rates_every_first_move_and_checks_what_it_leaves():
  rows, = first_moves.first_moves(alphareason.load_agent("game24"), ["1 5 5 5"])
  # 6 pairs of 4 numbers, + and * once, - and / both ways.
  assert len(rows) == 36 and [row["rank"] for row in rows] == list(range(1, 37))
  assert sum(row["prior"] for row in rows) == pytest.approx(1.0)
  assert all(0 <= row["value"] <= 1 for row in rows)
  # 5 * (5 - 1/5) is the only solution: only 1/5 (with any of the three 5s) leads on.
  assert {row["left"] for row in rows if row["solvable"]} == {"1/5 5 5"}
  assert sum(row["solvable"] for row in rows) == 3


def test_sudoku_guesses_finds_the_singles_a_plain_count_finds():
  from alphareason.suites.sudoku_solver import geometry
  env = alphareason.make("sudoku9-v0")
  units = geometry(3, 3).units
  problems = jax.vmap(env.sample_problem)(jax.random.split(jax.random.PRNGKey(0), 3))
  for clues in np.asarray(problems.clues):
    peers = [set().union(*(units[u] for u in range(27) if cell in units[u])) for cell in range(81)]
    candidates = [set() if clues[c] else set(range(1, 10)) - {int(clues[p]) for p in peers[c]}
                  for c in range(81)]
    naked = {(c, d) for c in range(81) for d in candidates[c] if len(candidates[c]) == 1}
    hidden = {(c, d) for unit in units for d in range(1, 10)
              for c in [c for c in unit if d in candidates[c]][:1]
              if sum(d in candidates[x] for x in unit) == 1}
    found = [{divmod(int(a), 9) for a in np.flatnonzero(np.asarray(moves))}
             for moves in sudoku_guesses.single_moves(env, jnp.asarray(clues))]
    assert found == [{(c, d - 1) for c, d in naked}, {(c, d - 1) for c, d in hidden}]
    assert naked | hidden  # the check can fail either way: these grids offer singles
  # A solved grid missing one cell a row fills by singles; the empty grid offers none.
  solution = np.asarray(problems.solution[0])
  nearly = solution.copy()
  nearly[np.arange(9) * 9 + np.arange(9)] = 0
  assert sudoku_guesses.solved_by_singles(env, np.stack([nearly, 0 * nearly])).tolist() == [
      True, False]
