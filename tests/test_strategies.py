"""Test-time strategies: known answers and exact NFE counts."""

import jax
import ml_collections
import numpy as np
import pytest

import alphareason
from alphareason.strategies import STRATEGIES
from alphareason.suites.countdown_solver import solve
from alphareason.networks import make_network

# Two numbers, one move: "3 8" has one solving action among 6 legal ones.
PAIR = alphareason.make("countdown-v0", min_numbers=2, max_numbers=2, target=24)
GAME24 = alphareason.make("game24-v0")


def setup(env, texts):
  network = make_network(ml_collections.ConfigDict(
      dict(family="set", width=16, depth=1, num_heads=2, dtype="float32")), env)
  params = network.init(jax.random.PRNGKey(0))
  problems = jax.tree.map(lambda *xs: np.stack(xs), *[env.parse_problem(t) for t in texts])
  return network, params, jax.vmap(env.init)(problems)


def play(name, env, texts, budget, oracle=True):
  network, params, states = setup(env, texts)
  # Jitted, as the evaluator runs it: one compile instead of thousands of eager ops.
  program = jax.jit(lambda p, k, s: STRATEGIES[name].play(env, network, p, k, s, budget,
                                                          oracle=oracle))
  return program(params, jax.random.PRNGKey(1), states)


@pytest.mark.slow  # compiles best-of-n at several sizes
def test_best_of_n_with_the_verifier_is_pass_at_n():
  outcome = play("bestofn", PAIR, ["3 8"] * 4, 64)
  assert np.all(outcome.solved) and np.all(outcome.nfe == 64)
  assert all(PAIR.answer_text(jax.tree.map(lambda x: x[i], outcome.final)) == "3*8" for i in range(4))
  assert not np.any(play("bestofn", PAIR, ["1 1"], 64).solved)  # nothing to find


def test_best_of_n_without_the_verifier_pays_for_judging():
  outcome = play("bestofn", PAIR, ["3 8", "2 5"], 8, oracle=False)
  np.testing.assert_array_equal(outcome.nfe, [16, 16])  # 8 moves + 8 value judgements


@pytest.mark.slow  # compiles a wide beam
def test_beam_with_the_verifier_finds_the_answer_when_it_expands_it():
  from alphareason.search import predict
  texts = ["3 8", "4 6", "2 12", "1 24", "5 5"]
  network, params, states = setup(PAIR, texts)
  solving = np.array([[PAIR.reference_check(t, a) for a in _pair_answers(t)] for t in texts])
  top4 = np.argsort(-np.asarray(predict(network, params, states)[0]), axis=1)[:, :4]
  expected = solving[np.arange(len(texts))[:, None], top4].any(1)
  outcome = play("beam", PAIR, texts, 4)
  np.testing.assert_array_equal(outcome.solved, expected)
  assert expected.any() and not expected.all()  # both cases are exercised
  np.testing.assert_array_equal(outcome.nfe, [1 + 4] * len(texts))  # root + one beam's 4 children
  # Wide enough to expand all 6 legal moves: every solvable pair is solved, 6 children paid.
  outcome = play("beam", PAIR, texts, 8)
  np.testing.assert_array_equal(outcome.solved, solving.any(1))
  np.testing.assert_array_equal(outcome.nfe, [1 + 6] * len(texts))


def _pair_answers(text):
  """The expression each action of the two-number env writes, by action index."""
  a, b = text.split()
  answers = [""] * PAIR.num_actions
  for op_index, op in enumerate("+-*/"):
    for i, j, (x, y) in ((0, 1, (a, b)), (1, 0, (b, a))):
      answers[op_index * 4 + i * 2 + j] = f"{x}{op}{y}"
  return answers


@pytest.mark.slow  # compiles beams of several widths
def test_beam_counts_only_real_beams():
  outcome = play("beam", GAME24, ["1 2 3 4", "4 9 10 13"], 2)
  np.testing.assert_array_equal(outcome.nfe, [1 + 2 + 4 + 4] * 2)
  outcome = play("beam", GAME24, ["1 2 3 4"], 8)  # each beam expands its 8 likeliest
  np.testing.assert_array_equal(outcome.nfe, [1 + 8 + 64 + 8 * 6])  # the last move has 6 legal


@pytest.mark.slow  # compiles beam and greedy play side by side
def test_beam_of_width_one_is_greedy():
  texts = ["1 2 3 4", "4 9 10 13", "3 3 8 8", "1 5 5 5", "2 3 4 12"]
  greedy = play("greedy", GAME24, texts, 1)
  beam = play("beam", GAME24, texts, 1)
  np.testing.assert_array_equal(greedy.solved, beam.solved)
  for i in range(len(texts)):
    pick = lambda o: jax.tree.map(lambda x: x[i], o.final)
    assert GAME24.answer_text(pick(greedy)) == GAME24.answer_text(pick(beam))


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_strategy_jits_and_reports_verified_answers(name):
  network, params, states = setup(GAME24, ["1 2 3 4", "4 9 10 13", "1 1 1 1"])
  run = jax.jit(lambda p, k, s: STRATEGIES[name].play(GAME24, network, p, k, s, 4, oracle=True))
  outcome = run(params, jax.random.PRNGKey(0), states)
  assert outcome.nfe.shape == (3,) and np.all(outcome.nfe >= 1)
  for i, text in enumerate(["1 2 3 4", "4 9 10 13", "1 1 1 1"]):
    answer = GAME24.answer_text(jax.tree.map(lambda x: x[i], outcome.final))
    assert GAME24.reference_check(text, answer) == bool(outcome.solved[i])


@pytest.mark.slow  # dfs over every move of many problems
def test_dfs_is_exhaustive():
  texts = ["3 8", "4 6", "2 12", "1 24", "5 5", "1 1"]
  solvable = [any(PAIR.reference_check(t, a) for a in _pair_answers(t) if a) for t in texts]
  outcome = play("dfs", PAIR, texts, 64)
  np.testing.assert_array_equal(outcome.solved, solvable)
  np.testing.assert_array_equal(outcome.nfe, [1] * len(texts))  # finished children cost none
  texts = ["1 2 3 4", "4 9 10 13", "1 1 1 1", "3 3 8 8"]
  outcome = play("dfs", GAME24, texts, 100_000)
  # The plain-Python solver's verdicts; the NFE cap is held exactly in test_sudoku.py.
  np.testing.assert_array_equal(
      outcome.solved, [solve([int(n) for n in t.split()], 24) is not None for t in texts])
  assert not outcome.solved[2] and outcome.nfe[2] > 100  # every state below it entered once


def test_dfs_without_the_verifier_stops_where_the_value_head_accepts():
  outcome = play("dfs", PAIR, ["3 8", "2 5"], 64, oracle=False)
  # The value head judges each finished child (an NFE each); the verifier, not the search,
  # has the last word on what it accepted.
  assert np.all(outcome.nfe >= 2)
  for i, text in enumerate(["3 8", "2 5"]):
    answer = PAIR.answer_text(jax.tree.map(lambda x: x[i], outcome.final))
    assert bool(outcome.solved[i]) == PAIR.reference_check(text, answer)


@pytest.mark.slow  # compiles restarted searches of several sizes
def test_restarts_search_again_only_what_is_unsolved(monkeypatch):
  from alphareason import parallel
  from alphareason.play import Player, stack_problems
  from alphareason.strategies import RESTARTS
  network, params, _ = setup(PAIR, ["3 8"])
  batches = []
  put_batch = parallel.put_batch
  monkeypatch.setattr(parallel, "put_batch",
                      lambda tree: batches.append(len(jax.tree.leaves(tree)[0])) or put_batch(tree))
  # At 8 simulations the search visits all 6 legal moves of a pair: the first search
  # verifies 3*8 and 4*6, and no restart follows for them. The three pairs without a
  # solution pay for every restart, searched again in a batch of their own: 3, padded to 4.
  texts = ["3 8", "1 1", "2 5", "4 6", "1 2"]
  problems = stack_problems(PAIR, texts)
  outcome = Player(PAIR, network, params).play("mcts-restarts", 8, problems, oracle=True)
  np.testing.assert_array_equal(outcome.solved, [True, False, False, True, False])
  np.testing.assert_array_equal(outcome.nfe, [9, RESTARTS * 9, RESTARTS * 9, 9, RESTARTS * 9])
  assert batches == [5] + [4] * (RESTARTS - 1)
  answers = [PAIR.answer_text(jax.tree.map(lambda x: x[i], outcome.final)) for i in (0, 3)]
  assert answers == ["3*8", "4*6"]
  # A player told 2 searches at most stops there.
  twice = Player(PAIR, network, params, restarts=2)
  outcome = twice.play("mcts-restarts", 8, problems, oracle=True)
  np.testing.assert_array_equal(outcome.nfe, [9, 18, 18, 9, 18])
  # Without the verifier every problem plays them all; the value head judges the answers.
  batches.clear()
  blind = Player(PAIR, network, params).play("mcts-restarts", 8, problems, oracle=False)
  np.testing.assert_array_equal(blind.nfe, [RESTARTS * 9 + RESTARTS] * len(texts))
  assert batches == [5] * (2 * RESTARTS)  # the plays, then the judging of their answers


def coin(env, network, params, key, states, budget, *, oracle, value_scale, root_noise):
  """Solves each problem with probability 1/2 a play; its final reward says whether."""
  import jax.numpy as jnp
  from alphareason.strategies import Outcome
  solved = jax.random.bernoulli(key, 0.5, states.reward.shape)
  final = states.replace(reward=solved.astype(states.reward.dtype))
  return Outcome(final, solved, jnp.ones(solved.shape, jnp.int32))


def test_a_problem_solved_by_a_later_restart_keeps_that_plays_answer(monkeypatch):
  from alphareason.play import Player, stack_problems
  from alphareason.strategies import Strategy
  monkeypatch.setitem(STRATEGIES, "coin", Strategy("coin", coin, "", restarted=True))
  network, params, _ = setup(PAIR, ["3 8"])
  problems = stack_problems(PAIR, [f"{a} {b}" for a in range(1, 5) for b in range(1, 9)])
  outcome = Player(PAIR, network, params, restarts=3).play("coin", 1, problems, oracle=True)
  # A problem's NFE adds up to the first play that solves it; the unsolved pay for three.
  assert set(np.unique(outcome.nfe)) == {1, 2, 3}
  assert np.all(outcome.solved | (outcome.nfe == 3))
  np.testing.assert_array_equal(outcome.final.reward > 0, outcome.solved)
  # Without the verifier, all three play and the value head picks: one answer each, of a play.
  blind = Player(PAIR, network, params, restarts=3).play("coin", 1, problems, oracle=False)
  np.testing.assert_array_equal(blind.nfe, 3 + 3)
  np.testing.assert_array_equal(blind.final.reward > 0, blind.solved)


@pytest.mark.slow  # compiles each strategy twice
def test_strategies_that_play_once_ignore_the_restarts():
  from alphareason.play import Player, stack_problems
  network, params, _ = setup(PAIR, ["3 8"])
  problems = stack_problems(PAIR, ["3 8", "1 1"])
  for oracle in (True, False):
    outcome = Player(PAIR, network, params, restarts=5).play("mcts", 8, problems, oracle=oracle)
    np.testing.assert_array_equal(outcome.nfe, [9, 9])


@pytest.mark.parametrize("name", ["mcts", "mcts-restarts"])
def test_gumbel_strategies_search_at_the_value_scale_and_root_noise_given(monkeypatch, name):
  import alphareason.strategies as strategies
  searched, run_search = [], strategies.run_search

  def spy(env, network, params, key, states, config):
    searched.append((config.value_scale, config.gumbel_scale))
    return run_search(env, network, params, key, states, config)

  monkeypatch.setattr(strategies, "run_search", spy)
  network, params, states = setup(PAIR, ["3 8"])
  for settings in ({"value_scale": 0.03, "root_noise": 5.0}, {}):  # traced: the spy sees configs
    jax.eval_shape(lambda p, k, s: STRATEGIES[name].play(PAIR, network, p, k, s, 4, oracle=False,
                                                         **settings),
                   params, jax.random.PRNGKey(1), states)
  # Deterministic MCTS has no root noise, whatever the player's setting.
  noise = (5.0, strategies.ROOT_NOISE) if name == "mcts-restarts" else (0.0, 0.0)
  assert searched == [(0.03, noise[0]), (strategies.DEFAULT_VALUE_SCALE, noise[1])]


@pytest.mark.parametrize("name", ["greedy", "bestofn", "beam", "dfs"])
def test_strategies_without_search_ignore_the_value_scale_and_root_noise(name):
  network, params, states = setup(PAIR, ["3 8", "2 5", "4 6"])
  outcomes = [jax.jit(lambda p, k, s: STRATEGIES[name].play(
      PAIR, network, p, k, s, 4, oracle=False, value_scale=scale, root_noise=scale))(
          params, jax.random.PRNGKey(1), states) for scale in (0.01, 10.0)]
  jax.tree.map(np.testing.assert_array_equal, *outcomes)
