"""The Countdown family: exact arithmetic, legality, answers, and the Game-of-24 count."""

import collections
import fractions

import hypothesis
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import alphareason
from alphareason.env import ProblemError
from alphareason.envs.countdown import OPERATORS, Countdown, combine
from alphareason.suites import countdown_solver as solver

GAME24 = alphareason.make("game24-v0")
N = GAME24.max_numbers


def action(op: str, i: int, j: int, n: int = N) -> int:
  return OPERATORS.index(op) * n * n + i * n + j


def play(env, text, moves):
  state = env.init(env.parse_problem(text))
  for move in moves:
    state = env.step(state, action(*move, n=env.max_numbers))
  return state


def value(state, slot=0):
  return fractions.Fraction(int(state.numerator[slot]), int(state.denominator[slot]))


@pytest.mark.parametrize("text, moves, expected", [
    # 8/(3-8/3) = 24 needs exact thirds.
    ("3 3 8 8", [("/", 2, 0), ("-", 1, 0), ("/", 3, 0)], "8/(3-8/3)"),
    # 5*(5-1/5) = 24 needs exact fifths.
    ("1 5 5 5", [("/", 0, 1), ("-", 2, 0), ("*", 0, 3)], "(5-1/5)*5"),
    ("4 9 10 13", [("-", 2, 0), ("-", 3, 1), ("*", 0, 1)], "(10-4)*(13-9)"),
])
def test_known_solutions_reach_24(text, moves, expected):
  state = play(GAME24, text, moves)
  assert bool(state.terminated) and float(state.reward) == 1.0
  assert value(state) == 24
  assert GAME24.answer_text(state) == expected
  assert Countdown.reference_check(text, expected)


def test_intermediate_values_are_exact_and_reduced():
  state = play(GAME24, "3 3 8 8", [("/", 2, 0)])
  assert (int(state.numerator[0]), int(state.denominator[0])) == (8, 3)
  state = play(GAME24, "2 4 6 8", [("/", 0, 1)])
  assert (int(state.numerator[0]), int(state.denominator[0])) == (1, 2)
  state = play(GAME24, "2 4 6 8", [("-", 0, 1)])
  assert value(state) == -2 and int(state.denominator[0]) == 1


def test_a_wrong_final_value_pays_nothing():
  state = play(GAME24, "1 2 3 4", [("+", 0, 1), ("+", 0, 2), ("+", 0, 3)])
  assert bool(state.terminated) and float(state.reward) == 0.0 and value(state) == 10


def test_division_by_zero_is_illegal():
  state = play(GAME24, "3 3 8 8", [("-", 0, 1)])  # slot 0 now holds 0
  assert not bool(state.legal_action_mask[action("/", 2, 0)])
  assert bool(state.legal_action_mask[action("/", 0, 2)])  # 0/8 is fine
  failed = GAME24.step(state, action("/", 2, 0))
  assert bool(failed.terminated) and float(failed.reward) == 0.0


def test_overflow_is_illegal_not_wrapped():
  big = 2**31 - 1
  num, den, legal = combine(jnp.int32(big), jnp.int32(1), jnp.int32(2), jnp.int32(1))
  assert not bool(legal[OPERATORS.index("*")]) and not bool(legal[OPERATORS.index("+")])
  assert bool(legal[OPERATORS.index("-")]) and int(num[OPERATORS.index("-")]) == big - 2
  assert bool(legal[OPERATORS.index("/")]) and int(den[OPERATORS.index("/")]) == 2
  env = alphareason.make("countdown-v0", max_numbers=9, max_value=100000)
  state = play(env, "100000 100000 100000 1 1 -> 500",
               [("*", 0, 1)])  # 10^10 does not fit int32
  assert not bool(state.terminated) or float(state.reward) == 0.0
  assert bool(state.terminated), "an overflowing move ends the episode as a failure"


def test_commutative_moves_have_one_action():
  state = GAME24.init(GAME24.parse_problem("1 2 3 4"))
  mask = np.asarray(state.legal_action_mask)
  assert mask[action("+", 0, 1)] and not mask[action("+", 1, 0)]
  assert mask[action("*", 0, 1)] and not mask[action("*", 1, 0)]
  assert mask[action("-", 0, 1)] and mask[action("-", 1, 0)]
  assert not mask[action("+", 2, 2)]
  assert mask.sum() == 6 * (2 + 2 + 2)  # 6 pairs: + and * once, - and / both ways


@pytest.mark.parametrize("answer, ok", [
    ("(10-4)*(13-9)", True),
    ("(10-4)*(13-9)+0", False),  # a number not in the problem
    ("(10-4)*(13-4)", False),  # wrong numbers
    ("10*13-9*4", False),  # right numbers, wrong value
    ("(10-4)**2", False),  # not an allowed operator
    ("(10-4)*(13-9", False),  # not an expression
    ("(-4+10)*(13-9)", False),  # unary minus is not allowed
])
def test_reference_check(answer, ok):
  assert Countdown.reference_check("4 9 10 13 -> 24", answer) is ok


@pytest.mark.parametrize("text, message", [
    ("4 9 x", "whole numbers"),
    ("4 9 10", "expected 4 numbers, got 3"),
    ("4 9 10 13 5", "expected 4 numbers, got 5"),
    ("4 9 10 13 -> 25", "target is 24"),
    ("", "expected numbers"),
    ("0 9 10 13", "positive"),
])
def test_malformed_problems_are_rejected_with_a_clear_message(text, message):
  with pytest.raises(ProblemError, match=message):
    GAME24.parse_problem(text)


def test_countdown_problems_are_solvable_and_in_range():
  env = alphareason.make("countdown-v0")
  problems = jax.device_get(jax.jit(jax.vmap(env.sample_problem))(
      jax.random.split(jax.random.PRNGKey(3), 16)))
  for i in range(16):
    p = jax.tree.map(lambda x: x[i], problems)
    count, target = int(p.count), int(p.target)
    assert 4 <= count <= 6 and 100 <= target <= 999
    numbers = [int(x) for x in p.numbers[:count]]
    assert all(1 <= x <= 100 for x in numbers) and not np.any(p.numbers[count:])
    answer = solver.solve(numbers, target)
    assert answer is not None and Countdown.reference_check(env.problem_text(p), answer)


@hypothesis.settings(max_examples=30, deadline=None)
@hypothesis.given(numbers=st.lists(st.integers(1, 13), min_size=4, max_size=4),
                  seed=st.integers(0, 2**31 - 1))
def test_random_legal_play_keeps_invariants(numbers, seed):
  text = " ".join(map(str, numbers))
  state = GAME24.init(GAME24.parse_problem(text))
  rng = np.random.default_rng(seed)
  for move in range(GAME24.max_steps):
    legal = np.flatnonzero(np.asarray(state.legal_action_mask))
    assert legal.size > 0 and not bool(state.terminated)
    state = GAME24.step(state, int(rng.choice(legal)))
    alive = np.asarray(state.alive)
    assert alive.sum() == N - move - 1
    assert np.all(np.asarray(state.denominator) > 0)
    assert all(np.gcd(int(a), int(b)) == 1 for a, b, live in
               zip(np.asarray(state.numerator), np.asarray(state.denominator), alive) if live)
  assert bool(state.terminated) and not np.any(np.asarray(state.legal_action_mask))
  answer = GAME24.answer_text(state)
  # The env's verdict and the independent checker agree on every finished episode.
  assert Countdown.reference_check(text, answer) == (float(state.reward) == 1.0)
  # And the expression's value is the env's final exact value.
  leaves = []
  from alphareason.envs.countdown import _evaluate
  import ast
  assert _evaluate(ast.parse(answer, mode="eval").body, leaves) == value(state, int(np.argmax(np.asarray(state.alive))))


def _jax_solvable(puzzles: np.ndarray) -> np.ndarray:
  """Exhaustive search through the JAX env: which puzzles can reach 24."""
  batch = jax.tree.map(lambda *xs: np.stack(xs),
                       *[GAME24.parse_problem(" ".join(map(str, p))) for p in puzzles])
  states = jax.jit(jax.vmap(GAME24.init))(batch)
  owner = np.arange(len(puzzles))

  @jax.jit
  def expand(states, actions):
    return jax.vmap(GAME24.step)(states, actions)

  for _ in range(GAME24.max_steps - 1):  # down to two numbers
    mask = np.asarray(states.legal_action_mask)
    rows, actions = np.nonzero(mask)
    chunks = []
    for start in range(0, len(rows), 1 << 16):
      index, acts = rows[start:start + (1 << 16)], actions[start:start + (1 << 16)]
      pad = (1 << 16) - len(index)
      index_p, acts_p = np.pad(index, (0, pad)), np.pad(acts, (0, pad))
      part = jax.tree.map(lambda x: x[index_p], states)
      chunks.append(jax.tree.map(lambda x: np.asarray(x)[:len(index)], expand(part, acts_p)))
    states = jax.tree.map(lambda *xs: np.concatenate(xs), *chunks)
    owner = owner[rows]
  # The last move: some legal operator on the two live numbers gives exactly 24.
  alive = np.asarray(states.alive)
  first, second = np.argmax(alive, 1), N - 1 - np.argmax(alive[:, ::-1], 1)
  take = lambda x, k: np.take_along_axis(np.asarray(x), k[:, None], 1)[:, 0]
  a = take(states.numerator, first), take(states.denominator, first)
  b = take(states.numerator, second), take(states.denominator, second)
  hit = np.zeros(len(first), bool)
  for x, y in ((a, b), (b, a)):  # both orders, for - and /
    num, den, legal = jax.jit(combine)(*x, *y)
    hit |= np.any(np.asarray(legal) & (np.asarray(num) == 24) & (np.asarray(den) == 1), axis=0)
  solvable = np.zeros(len(puzzles), bool)
  solvable[owner[hit]] = True
  return solvable


@pytest.mark.slow  # solves every Game of 24 draw
def test_exactly_1362_of_1820_game24_puzzles_are_solvable():
  puzzles = np.array(solver.game24_puzzles())
  assert len(puzzles) == 1820
  solvable = _jax_solvable(puzzles)
  assert solvable.sum() == 1362
  # The independent solver agrees puzzle by puzzle, and so does the shipped list.
  from alphareason import suites
  suite = suites.load_suite("game24")
  shipped = {tuple(map(int, p.split("->")[0].split())) for p in suite.splits["train"] + suite.held_out}
  assert shipped == {tuple(p) for p, s in zip(puzzles.tolist(), solvable) if s}
  for p, s in zip(puzzles[::7].tolist(), solvable[::7]):
    assert (solver.solve(p, 24) is not None) == s


def test_the_env_enumerates_the_same_solvable_puzzles_as_play_does():
  puzzles = np.array(solver.game24_puzzles())
  by_play = {tuple(p) for p, s in zip(puzzles.tolist(), _jax_solvable(puzzles)) if s}
  assert {tuple(p) for p in GAME24.solvable_multisets().tolist()} == by_play


@pytest.mark.parametrize("draw", ["multiset", "solvable"])
def test_draws_of_multisets_cover_each_equally_in_any_order(draw):
  from alphareason.envs import countdown
  countdown._solvable_multisets.cache_clear()  # the table is first made inside the trace
  env = alphareason.make("game24-v0", draw=draw)
  problems = jax.jit(jax.vmap(env.sample_problem))(jax.random.split(jax.random.PRNGKey(0), 30000))
  numbers = np.asarray(problems.numbers)
  counts = collections.Counter(tuple(sorted(row)) for row in numbers.tolist())
  universe = 1362 if draw == "solvable" else 1820
  assert len(counts) == universe and all(1 <= min(m) and max(m) <= 13 for m in counts)
  expected = 30000 / universe  # each multiset equally often: counts near Poisson(expected)
  assert np.std(list(counts.values())) < 1.3 * np.sqrt(expected)
  if draw == "solvable":
    assert all(solver.solve(m, 24) is not None for m in list(counts)[::50])
  # The order is random: the first number is not the smallest.
  assert 0.3 < np.mean(numbers[:, 0] == numbers.min(1)) < 0.6


def test_ordered_draws_weigh_multisets_by_their_orders_and_are_the_default():
  problems = jax.jit(jax.vmap(GAME24.sample_problem))(jax.random.split(jax.random.PRNGKey(0), 30000))
  repeats = np.mean([len(set(row)) < 4 for row in np.asarray(problems.numbers).tolist()])
  assert abs(repeats - (1 - 13 * 12 * 11 * 10 / 13**4)) < 0.02  # 40% of ordered draws
  with pytest.raises(ValueError, match="needs a fixed target"):
    alphareason.make("countdown-v0", draw="solvable")


@pytest.mark.slow  # draws and checks many problems
def test_countdown_draws_every_count_alike_and_targets_in_range():
  env = alphareason.make("countdown-v0", min_numbers=3, max_numbers=9)
  problems = jax.jit(jax.vmap(env.sample_problem))(jax.random.split(jax.random.PRNGKey(0), 700))
  counts = np.bincount(np.asarray(problems.count), minlength=10)[3:]
  assert counts.min() > 60  # uniform over 3..9 (100 each), whatever the rejections
  assert np.all((problems.target >= 100) & (problems.target <= 999))
  for i in range(0, 700, 70):  # every problem has the solution its draw played
    count = int(problems.count[i])
    numbers = np.asarray(problems.numbers[i])[:count].tolist()
    assert np.all(np.asarray(problems.numbers[i])[count:] == 0)
    if count <= 5:
      assert solver.solve(numbers, int(problems.target[i])) is not None


@pytest.mark.slow  # enumerates every position of many draws
def test_countdown_on_track_knows_which_positions_can_still_reach_the_target():
  env = alphareason.make("game24-v0")
  step_all = jax.vmap(env.step, in_axes=(None, 0))
  exact = jax.vmap(env.on_track)

  @jax.jit
  def every_line(problem):  # every first and second move, and whether each can finish
    root = env.init(problem)
    threes = step_all(root, jnp.arange(env.num_actions))
    twos = jax.vmap(step_all, in_axes=(0, None))(threes, jnp.arange(env.num_actions))
    return root, threes, twos, exact(threes), jax.vmap(exact)(twos)

  root, threes, twos, found_three, found_two = jax.device_get(
      every_line(env.parse_problem("1 5 5 5")))
  first = root.legal_action_mask
  second = first[:, None] & threes.legal_action_mask
  expected_three, expected_two = np.zeros_like(found_three), np.zeros_like(found_two)
  for a in np.nonzero(first)[0]:
    numbers = Countdown.numbers_left(jax.tree.map(lambda x: x[a], threes))
    expected_three[a] = solver.solve(numbers, 24) is not None
    for b in np.nonzero(second[a])[0]:
      numbers = Countdown.numbers_left(jax.tree.map(lambda x: x[a, b], twos))
      expected_two[a, b] = solver.solve(numbers, 24) is not None
  np.testing.assert_array_equal(found_three[first], expected_three[first])
  np.testing.assert_array_equal(found_two[second], expected_two[second])
  # Only 1/5 leads on (with any of the three 5s), then only 5 - 1/5 beside a 5.
  assert expected_three.sum() == 3 and expected_two.sum() == 6
  # A move is on track when it leaves numbers that can still make 24; earlier than 3
  # numbers left nothing is judged; and supervised play ends a move off the track.
  judged = env.on_track_moves(jax.tree.map(jnp.asarray, root))
  np.testing.assert_array_equal(np.asarray(judged)[first], expected_three[first])
  six = alphareason.make("countdown-v0")
  assert bool(six.on_track(six.init(six.parse_problem("1 2 3 4 5 6 -> 999"))))
  three = alphareason.make("countdown-v0", min_numbers=3)
  assert not bool(three.on_track(three.init(three.parse_problem("1 2 3 -> 999"))))
  assert bool(three.on_track(three.init(three.parse_problem("25 4 1 -> 100"))))
  supervised = env.supervised()
  start = supervised.init(env.parse_problem("1 5 5 5"))
  off, on = (int(np.flatnonzero(first & (expected_three == v))[0]) for v in (False, True))
  assert bool(supervised.step(start, off).terminated) and not bool(supervised.step(start, on).terminated)
