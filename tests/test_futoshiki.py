"""Futoshiki (alphareason.puzzles.futoshiki): the env's rules, its text, its verifier
against reasoning-gym's, dfs's alternatives, and the config."""

import itertools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

import alphareason
from alphareason import ProblemError
from alphareason.networks import make_network
from alphareason.puzzles import futoshiki as F

rg = pytest.importorskip("reasoning_gym")

ENV = alphareason.make("futoshiki-v0")
INIT = jax.jit(ENV.init)
STEP = jax.jit(ENV.step)
RG = rg.create_dataset("futoshiki", size=12, seed=0)  # sizes 4..9, difficulty 0..3
ENTRIES = list(RG)
# A 4x4 board whose signs leave one solution; "2 1 4 3 / 1 4 3 2 / ..." is no solution.
SMALL = "_   _   _   _\n∧\n_   _ < _   _\n\n_   3   _   _\n        ∨\n4   _   _   _"


def rg_solution_text(entry) -> str:
  """The entry's solution in our layout, with its signs, written by our writer."""
  text = F.rg_problem(entry)
  size, _, right, down = F.read_board(text)
  return F.write_board(size, entry["metadata"]["solution"], right, down)


def plain_solutions(text: str) -> list[list[list[int]]]:
  """Every solution of a small board, by brute force over row permutations."""
  size, clues, right, down = F.read_board(text)
  rows = [[list(p) for p in itertools.permutations(range(1, size + 1))
           if all(not k or k == v for k, v in zip(clues[r], p))] for r in range(size)]
  return [list(g) for g in itertools.product(*rows)
          if F.first_broken_rule(list(g), right, down, complete=True) is None]


def plain_candidates(grid, size, right, down) -> np.ndarray:
  """[81, 9] legal digits, cell by cell in plain Python: the row and column lack it, and
  against each filled neighbour the sign holds, against each empty one some digit the
  neighbour's row and column allow would satisfy it (one round of bounds, weaker than
  the env's three: the env's candidates must be a subset)."""
  out = np.zeros((81, 9), bool)
  def allowed(r, c):
    return {d for d in range(1, size + 1) if d not in grid[r]
            and d not in [grid[i][c] for i in range(size)]}
  for r, c in itertools.product(range(size), range(size)):
    if grid[r][c]:
      continue
    for d in allowed(r, c):
      ok = True
      for sign, (rr, cc) in ((right[r][c], (r, c + 1)), (down[r][c], (r + 1, c)),
                             (-right[r][c - 1] if c else 0, (r, c - 1)),
                             (-down[r - 1][c] if r else 0, (r - 1, c))):
        if not sign:
          continue
        options = {grid[rr][cc]} if grid[rr][cc] else allowed(rr, cc)
        ok &= any((d > w) if sign > 0 else (d < w) for w in options)
      out[r * 9 + c, d - 1] = ok
  return out


# The env's contract at its registered settings: tests/test_env_contract.py, as every env's.


def test_rg_entries_round_trip_and_their_solutions_pass_both_verifiers():
  for entry in ENTRIES:
    text = F.rg_problem(entry)
    problem = ENV.parse_problem(text)
    assert ENV.problem_text(problem) == text
    assert int(problem.size) == entry["metadata"]["board_size"]
    # Our layout is rg's, less trailing spaces: the puzzle as rg prints it.
    rg_puzzle = RG._puzzle_to_string(entry["metadata"]["puzzle"], {
        ((r1, c1), (r2, c2)): s for r1, c1, r2, c2, s in entry["metadata"]["constraints"]})
    assert text == "\n".join(line.rstrip() for line in rg_puzzle.split("\n"))
    answer = rg_solution_text(entry)
    assert F.Futoshiki.reference_check(text, answer)
    assert RG.score_answer(F.rg_answer(answer), entry) == 1.0


def test_reference_check_agrees_with_rg_on_wrong_answers():
  for entry in ENTRIES:
    text, answer = F.rg_problem(entry), rg_solution_text(entry)
    size, grid, right, down = F.read_board(answer)
    swapped = [row[:] for row in grid]
    swapped[0][0], swapped[0][1] = swapped[0][1], swapped[0][0]  # breaks two columns
    blank = [row[:] for row in grid]
    blank[size - 1][size - 1] = 0
    for wrong in (swapped, blank):
      wrong_text = F.write_board(size, wrong, right, down)
      assert not F.Futoshiki.reference_check(text, wrong_text)
      assert RG.score_answer(F.rg_answer(wrong_text), entry) < 1.0
  assert not F.Futoshiki.reference_check(SMALL, "not a board")


def test_playing_an_rg_solution_is_legal_throughout_and_pays_once():
  entry = ENTRIES[0]
  text = F.rg_problem(entry)
  state = INIT(ENV.parse_problem(text))
  solution = entry["metadata"]["solution"]
  size = len(solution)
  for r, c in itertools.product(range(size), range(size)):
    if entry["metadata"]["puzzle"][r][c]:
      continue
    move = (r * 9 + c) * 9 + solution[r][c] - 1
    assert bool(state.legal_action_mask[move]) and not bool(state.terminated)
    state = STEP(state, move)
  assert bool(state.terminated) and float(state.reward) == 1.0
  assert ENV.answer_text(state) == rg_solution_text(entry)
  assert float(STEP(state, 0).reward) == 0.0  # finished: frozen, paid once


def test_candidates_honour_signs_and_never_drop_a_solution_digit():
  for entry in ENTRIES[:6]:
    text = F.rg_problem(entry)
    size, grid, right, down = F.read_board(text)
    mask = np.asarray(INIT(ENV.parse_problem(text)).legal_action_mask).reshape(81, 9)
    plain = plain_candidates(grid, size, right, down)
    assert not np.any(mask & ~plain)  # propagation only removes
    for r, c in itertools.product(range(size), range(size)):
      if not grid[r][c]:
        assert mask[r * 9 + c, entry["metadata"]["solution"][r][c] - 1]
    off_board = np.ones((9, 9), bool)
    off_board[:size, :size] = False
    assert not np.any(mask[off_board.reshape(-1)])


def test_small_board_legal_moves_after_one_round_match_plain_python():
  # With one sign in a chain, three rounds and one agree exactly.
  state = INIT(ENV.parse_problem(SMALL))
  size, grid, right, down = F.read_board(SMALL)
  np.testing.assert_array_equal(np.asarray(state.legal_action_mask).reshape(81, 9),
                                plain_candidates(grid, size, right, down))
  assert len(plain_solutions(SMALL)) >= 1


def test_dead_ends_by_the_rules():
  # "1 > _": the right cell needs a digit under 1. Dead at once, unpaid.
  state = INIT(ENV.parse_problem("1 > _\n\n_   _"))
  assert bool(state.terminated) and float(state.reward) == 0.0
  # "_ < _": 1 then 2 in the top row (actions cell * 9 + digit - 1); the bottom row's
  # cells see only their columns, both still empty, so either digit is legal there.
  state = INIT(ENV.parse_problem("_ < _\n\n_   _"))
  legal = set(np.flatnonzero(np.asarray(state.legal_action_mask)).tolist())
  assert legal == {0, 10, 81, 82, 90, 91}
  state = STEP(state, 0)  # (1, 1) = 1: (1, 2) and (2, 1) must be 2; (2, 2) sees two empty cells
  assert set(np.flatnonzero(np.asarray(state.legal_action_mask)).tolist()) == {10, 82, 90, 91}
  state = STEP(state, 82)
  assert set(np.flatnonzero(np.asarray(state.legal_action_mask)).tolist()) == {10, 90}
  # A board no completion fills ends at once: (2, 2) = 2 leaves (1, 2) no digit.
  stuck = INIT(ENV.parse_problem("1 < _\n\n_   2"))
  assert bool(stuck.terminated) and float(stuck.reward) == 0.0
  state = STEP(STEP(state, 10), 90)
  assert bool(state.terminated) and float(state.reward) == 1.0


def test_alternatives_are_the_fewest_of_a_cells_digits_and_a_digits_places():
  entry = max(ENTRIES, key=lambda e: e["metadata"]["board_size"])
  text = F.rg_problem(entry)
  state = INIT(ENV.parse_problem(text))
  size = entry["metadata"]["board_size"]
  solution = entry["metadata"]["solution"]
  mask = np.asarray(state.legal_action_mask).reshape(81, 9)
  alternatives = jax.jit(ENV.alternatives)
  for move in np.flatnonzero(mask.reshape(-1))[::5]:
    cell, digit = divmod(int(move), 9)
    r, c = divmod(cell, 9)
    sets = [{cell * 9 + d for d in np.flatnonzero(mask[cell])},
            {(r * 9 + j) * 9 + digit for j in range(size) if mask[r * 9 + j, digit]},
            {(i * 9 + c) * 9 + digit for i in range(size) if mask[i * 9 + c, digit]}]
    got = set(np.flatnonzero(np.asarray(alternatives(state, move))).tolist())
    assert got in sets and len(got) == min(map(len, sets)) and int(move) in got
    assert any(solution[a // 81][a // 9 % 9] == a % 9 + 1 for a in got)


def test_bad_input_is_one_clear_problem_error():
  for text, words in [("", "rows"), ("1 2\n\n1", "cells"), ("1 2\n\n_ 3", "holds 3"), ("1 x\n\n_ _", "unexpected"),
                      ("1 5\n\n_ _", "holds 5"), ("1 1\n\n_ _", "repeats"),
                      ("1 > 2\n\n_ _", "break"), ("1 2\n\n2 1", "no empty"),
                      ("1 <\n\n_ _", "sign"), ("_ _\n  ^\n_ _", "unexpected")]:
    with pytest.raises(ProblemError, match=words):
      ENV.parse_problem(text)


def test_generated_problems_look_like_rgs():
  keys = jax.random.split(jax.random.PRNGKey(1), 64)
  problems = jax.device_get(jax.jit(jax.vmap(ENV.sample_problem))(keys))
  sizes = np.asarray(problems.size)
  assert set(sizes.tolist()) >= {4, 9} and sizes.min() >= 4 and sizes.max() <= 9
  for i in range(len(sizes)):
    problem = jax.tree.map(lambda x: x[i], problems)
    text = ENV.problem_text(problem)
    n = int(problem.size)
    given = int(np.sum(problem.clues > 0))
    assert int(0.1 * n * n) <= given <= int(0.5 * n * n)
    # The square it was made from solves it, by the plain verifier.
    assert F.Futoshiki.reference_check(text, F.write_board(*F._unpad(problem, problem.solution)))
    assert ENV.parse_problem(text).clues.tolist() == np.asarray(problem.clues).tolist()
  signs = np.sum(np.abs(problems.right) + np.abs(problems.down))
  assert signs > 0


@pytest.mark.slow  # about 13 s on one core, nearly all of it compiling dfs over 729 actions
def test_dfs_from_a_uniform_policy_solves_an_rg_puzzle():
  from alphareason.strategies import STRATEGIES
  network = make_network(ml_collections.ConfigDict(
      dict(family="grid", width=16, depth=1, num_heads=2, dtype="float32")), ENV)
  params = jax.tree.map(jnp.zeros_like, network.init(jax.random.PRNGKey(0)))
  entry = next(e for e in ENTRIES if e["metadata"]["board_size"] >= 7)
  problem = ENV.parse_problem(F.rg_problem(entry))
  states = jax.vmap(ENV.init)(jax.tree.map(lambda x: np.asarray(x)[None], problem))
  outcome = jax.jit(lambda s: STRATEGIES["dfs"].play(ENV, network, params, None, s, 5_000,
                                                      oracle=True))(states)
  assert bool(outcome.solved[0])
  final = jax.tree.map(lambda x: x[0], outcome.final)
  assert RG.score_answer(F.rg_answer(ENV.answer_text(final)), entry) == 1.0


def test_rg_settings_and_presets():
  assert F.rg_settings(dict(min_board_size=6, max_board_size=9, min_difficulty=1,
                            max_difficulty=3)) == dict(min_size=6, max_size=9,
                                                       min_difficulty=1, max_difficulty=3)
  with pytest.raises(alphareason.UsageError):
    F.rg_settings(dict(min_board_size=4, max_board_size=10, min_difficulty=0, max_difficulty=3))


def test_the_config_builds_the_env_and_the_grid_network():
  from configs import futoshiki
  c = futoshiki.get_config()
  env = alphareason.make(c.env_id, **c.env.to_dict())
  assert env.num_levels == c.env.levels and env.observation_shape == (81, 56)
  low, high = env.fill_range(0)
  assert float(high) > 0.98 and float(low) < float(high)
