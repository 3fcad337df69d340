"""Sudoku: the env's rules, its host side, the exact solver, the network and the suites."""

import collections
import dataclasses
import hashlib
import itertools

import hypothesis
import hypothesis.strategies as st
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

import alphareason
from alphareason import suites
from alphareason.env import ProblemError
from alphareason.envs.sudoku import Sudoku, grid_text
from alphareason.suites import generate, sudoku_solver
from alphareason.networks import GridTransformer, make_network

SUDOKU4 = alphareason.make("sudoku4-v0")
SUDOKU9 = alphareason.make("sudoku9-v0")
# Jitted once: a property test's examples would otherwise each compile anew.
SAMPLE4 = jax.jit(SUDOKU4.sample_problem)
INIT4 = jax.jit(SUDOKU4.init)
STEP4 = jax.jit(SUDOKU4.step)
# A well-known hard 9x9 puzzle with a unique solution (Arto Inkala's, 21 clues).
HARD9 = "8..........36......7..9.2...5...7.......457.....1...3...1....68..85...1..9....4.."
HARD9_SOLUTION = "812753649943682175675491283154237896369845721287169534521974368438526917796318452"


def action(env, row: int, col: int, digit: int) -> int:
  return (row * env.size + col) * env.size + digit - 1


def grid_of(text: str) -> list[int]:
  return [0 if ch == "." else int(ch) for ch in "".join(text.split())]


def play_solution(env, text: str, solution: str):
  """Plays each empty cell's digit of `solution`, in cell order; every move must be legal."""
  state = env.init(env.parse_problem(text))
  step = jax.jit(env.step)
  for cell, (clue, digit) in enumerate(zip(text, solution)):
    if clue == ".":
      move = cell * env.size + int(digit) - 1
      assert bool(state.legal_action_mask[move]), f"cell {cell} digit {digit} should be legal"
      assert not bool(state.terminated)
      state = step(state, move)
  return state


def plain_candidates(grid: list[int], size: int) -> np.ndarray:
  """[N*N, N] legal digits by the rules, computed cell by cell in plain Python."""
  box_rows, box_cols = sudoku_solver.box_shape(size)
  out = np.zeros((size * size, size), bool)
  for cell, digit in enumerate(grid):
    if digit:
      continue
    r, c = divmod(cell, size)
    top, left = r - r % box_rows, c - c % box_cols
    peers = ({grid[r * size + j] for j in range(size)} | {grid[i * size + c] for i in range(size)}
             | {grid[i * size + j] for i in range(top, top + box_rows)
                for j in range(left, left + box_cols)})
    for d in range(1, size + 1):
      out[cell, d - 1] = d not in peers
  return out


# --- the env ---------------------------------------------------------------------------

def test_settings():
  assert (SUDOKU9.num_actions, SUDOKU9.max_steps, SUDOKU9.observation_shape) == (729, 81, (81, 20))
  assert (SUDOKU4.num_actions, SUDOKU4.max_steps, SUDOKU4.observation_shape) == (64, 16, (16, 10))
  assert Sudoku(box_rows=2, box_cols=3).num_actions == 216
  with pytest.raises(ValueError, match="2x3 boxes"):
    Sudoku(box_rows=3, box_cols=2)
  with pytest.raises(ValueError, match="from 2 to 9"):
    Sudoku(size=16)
  with pytest.raises(ValueError, match="min_clues"):
    Sudoku(size=4, min_clues=8, max_clues=4)


def test_moves_that_clash_in_a_row_column_or_box_are_illegal():
  env = SUDOKU9
  state = env.init(env.parse_problem(HARD9))
  mask = np.asarray(state.legal_action_mask)
  # Cell (1, 5): its row holds only 8, its column 9 and 4, its box 6 and 9.
  assert not mask[action(env, 0, 4, 8)]  # clashes in the row only
  assert not mask[action(env, 0, 4, 4)]  # in the column only
  assert not mask[action(env, 0, 4, 6)]  # in the box only
  assert mask[action(env, 0, 4, 1)]
  assert not mask[action(env, 0, 0, 1)]  # a clue's cell is never written
  # The mask is exactly the rules, cell by cell.
  np.testing.assert_array_equal(mask.reshape(81, 9), plain_candidates(grid_of(HARD9), 9))
  failed = env.step(state, action(env, 0, 4, 8))
  assert bool(failed.terminated) and float(failed.reward) == 0.0
  moved = env.step(state, action(env, 0, 4, 1))
  assert not bool(moved.terminated) and int(moved.grid[4]) == 1
  assert not bool(moved.legal_action_mask[action(env, 0, 5, 1)])  # now in its row and box
  assert not bool(moved.legal_action_mask[action(env, 8, 4, 1)])  # and its column


def test_digit_places_count_each_candidates_places_in_its_row_column_and_box():
  env, plain = Sudoku(size=9, digit_places=True), Sudoku(size=9)
  assert env.observation_shape == (81, 47)
  assert env.observation_settings() == dict(digit_places=True, place_shares=False)
  units = sudoku_solver.geometry(3, 3).units  # rows, columns, boxes: plain Python
  # 9s in rows 2 and 3 and columns 7 and 8 leave the top-right box one place for a 9.
  hidden_single = ["."] * 81
  for r, c in ((1, 0), (2, 3), (4, 6), (7, 7)):
    hidden_single[r * 9 + c] = "9"
  for text in (HARD9, "".join(hidden_single)):
    observation = np.asarray(env.init(env.parse_problem(text)).observation)
    np.testing.assert_array_equal(observation[:, :20],
                                  np.asarray(plain.init(plain.parse_problem(text)).observation))
    candidates = plain_candidates(grid_of(text), 9)
    expected = np.zeros((81, 3, 9))
    for cell in range(81):
      row, col = divmod(cell, 9)
      for k, unit in enumerate((units[row], units[9 + col], units[18 + row // 3 * 3 + col // 3])):
        for d in np.flatnonzero(candidates[cell]):
          expected[cell, k, d] = sum(candidates[other, d] for other in unit) / 9
    np.testing.assert_allclose(observation[:, 20:].reshape(81, 3, 9), expected, atol=1e-6)
  # A 9 at (1, 9) is a hidden single in its row, column and box; a 1 fits all 9 places.
  np.testing.assert_allclose(observation[8, 20:].reshape(3, 9)[:, [8, 0]], [[1 / 9, 1]] * 3)


def test_place_shares_read_one_for_a_single_and_a_half_for_one_of_two():
  env, counts = Sudoku(size=9, digit_places=True, place_shares=True), Sudoku(size=9, digit_places=True)
  assert env.observation_shape == (81, 56)
  assert env.observation_settings() == dict(digit_places=True, place_shares=True)
  for text in (HARD9, HARD9_SOLUTION[:-5] + "....."):
    shares = np.asarray(env.init(env.parse_problem(text)).observation)
    places = np.asarray(counts.init(counts.parse_problem(text)).observation)
    np.testing.assert_array_equal(shares[:, :20], places[:, :20])
    # Each count of places k (k / 9 where the digit is a candidate) reads 1 / k.
    count = np.rint(places[:, 20:] * 9)
    np.testing.assert_allclose(shares[:, 20:47], np.where(count > 0, 1 / np.maximum(count, 1), 0),
                               rtol=1e-6)
    candidates = plain_candidates(grid_of(text), 9)
    per_cell = candidates.sum(1, keepdims=True)
    np.testing.assert_allclose(shares[:, 47:], candidates / np.maximum(per_cell, 1), rtol=1e-6)
  # The last five cells of a solved grid's last row: each the one place of its digit in
  # the row, each holding its one candidate.
  np.testing.assert_allclose(shares[76:, 47:].max(1), 1)
  with pytest.raises(ValueError, match="set digit_places"):
    Sudoku(size=9, place_shares=True)


def test_a_cell_with_no_legal_digit_is_a_dead_end():
  # Cell (1, 4) can only hold 4; writing 4 at (2, 3) in its box leaves it nothing.
  env = SUDOKU4
  state = env.init(env.parse_problem("12.. .... ...3 ...."))
  assert not bool(state.terminated)
  assert np.flatnonzero(np.asarray(state.legal_action_mask).reshape(16, 4)[3]).tolist() == [3]
  stuck = env.step(state, action(env, 1, 2, 4))
  assert bool(stuck.terminated) and not bool(stuck.truncated) and float(stuck.reward) == 0.0
  assert not np.any(np.asarray(stuck.legal_action_mask))


def test_a_digit_with_no_place_in_a_unit_is_a_dead_end():
  # 9s in rows 2 and 3 and columns 7 and 8 leave the top-right box one place for a 9,
  # (1, 9); writing a 5 there leaves none, though every empty cell still has candidates.
  env = SUDOKU9
  text = ["."] * 81
  for r, c in ((1, 0), (2, 3), (4, 6), (7, 7)):
    text[r * 9 + c] = "9"
  state = env.init(env.parse_problem("".join(text)))
  assert not bool(state.terminated)
  stuck = env.step(state, action(env, 0, 8, 5))
  assert np.all(plain_candidates(grid_of("".join(text[:8] + ["5"] + text[9:])), 9).any(1)
                | (np.asarray(stuck.grid) > 0))
  assert bool(stuck.terminated) and float(stuck.reward) == 0.0


def test_alternatives_are_the_fewest_of_a_cells_digits_and_a_digits_places():
  env = SUDOKU9
  state = env.init(env.parse_problem(HARD9))
  candidates = plain_candidates(grid_of(HARD9), 9)
  solution = grid_of(HARD9_SOLUTION)
  units = ([[r * 9 + c for c in range(9)] for r in range(9)]
           + [[r * 9 + c for r in range(9)] for c in range(9)]
           + [[(3 * (b // 3) + i // 3) * 9 + 3 * (b % 3) + i % 3 for i in range(9)] for b in range(9)])
  alternatives = jax.jit(env.alternatives)
  for move in np.flatnonzero(np.asarray(state.legal_action_mask))[::7]:
    cell, digit = divmod(int(move), 9)
    # Every option set the move answers, in plain Python: its cell's digits, or its
    # digit's places in each unit holding the cell.
    sets = [{cell * 9 + d for d in np.flatnonzero(candidates[cell])}]
    sets += [{c * 9 + digit for c in unit if candidates[c, digit]} for unit in units if cell in unit]
    got = set(np.flatnonzero(np.asarray(alternatives(state, move))).tolist())
    assert got in sets and len(got) == min(map(len, sets)) and int(move) in got
    # Complete: the solution answers the same question with one of them.
    assert any(solution[a // 9] == a % 9 + 1 for a in got)


@pytest.mark.slow  # compiles dfs over 729 actions
def test_dfs_backs_up_from_dead_ends_until_it_solves():
  from alphareason.strategies import STRATEGIES
  env = SUDOKU9
  network = make_network(ml_collections.ConfigDict(
      dict(family="grid", width=16, depth=1, num_heads=2, dtype="float32")), env)
  # A policy with no preference: the search alone, in action order, must find the one
  # solution of a hard puzzle, backing up from every dead end on the way.
  params = jax.tree.map(jnp.zeros_like, network.init(jax.random.PRNGKey(0)))
  states = jax.vmap(env.init)(jax.tree.map(lambda x: x[None], env.parse_problem(HARD9)))
  run = jax.jit(lambda s, budget: STRATEGIES["dfs"].play(env, network, params, None, s, budget,
                                                          oracle=True), static_argnums=1)
  outcome = run(states, 20_000)
  assert bool(outcome.solved[0])
  assert env.answer_text(jax.tree.map(lambda x: x[0], outcome.final)) == HARD9_SOLUTION
  empty = HARD9.count(".")  # the fewest: the root and each state before the solution
  assert empty * 10 < int(outcome.nfe[0]) < 20_000
  capped = run(states, int(outcome.nfe[0]) - 1)
  assert not bool(capped.solved[0]) and int(capped.nfe[0]) == int(outcome.nfe[0]) - 1


@pytest.mark.parametrize("env, text", [
    (SUDOKU9, HARD9),
    (SUDOKU4, "..3. .... .... 4.2."),
])
def test_playing_the_solvers_solution_solves_the_puzzle(env, text):
  text = "".join(text.split())
  solution = "".join(map(str, sudoku_solver.solve(grid_of(text))))
  if env is SUDOKU9:
    assert solution == HARD9_SOLUTION
  state = play_solution(env, text, solution)
  assert bool(state.terminated) and float(state.reward) == 1.0
  assert env.answer_text(state) == solution
  assert Sudoku.reference_check(text, env.answer_text(state))
  again = env.step(state, 0)  # finished: frozen and unpaid
  assert float(again.reward) == 0.0 and int(again.step_count) == int(state.step_count)


def test_the_observation_shows_digits_clues_and_candidates():
  env = SUDOKU4
  state = env.step(env.init(env.parse_problem("1... .... .... ....")), action(env, 0, 1, 2))
  obs = np.asarray(state.observation)  # [16, 10]: empty, digit 1..4, clue, candidate 1..4
  assert obs[0].tolist() == [0, 1, 0, 0, 0, 1, 0, 0, 0, 0]
  assert obs[1].tolist() == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
  assert obs[2].tolist() == [1, 0, 0, 0, 0, 0, 0, 0, 1, 1]
  np.testing.assert_array_equal(obs[:, 6:], np.asarray(state.legal_action_mask).reshape(16, 4))


def test_generated_problems_have_consistent_clues_in_range():
  for env in (alphareason.make("sudoku9-v0", min_clues=17, max_clues=30),
              alphareason.make("sudoku4-v0", min_clues=2, max_clues=12)):
    problems = jax.device_get(jax.jit(jax.vmap(env.sample_problem))(
        jax.random.split(jax.random.PRNGKey(7), 32)))
    counts = (problems.clues > 0).sum(1)
    assert counts.min() >= env.min_clues and counts.max() <= env.max_clues
    assert len({tuple(c) for c in problems.clues.tolist()}) == 32
    for clues, solution in zip(problems.clues.tolist(), problems.solution.tolist()):
      env.parse_problem(grid_text(clues))  # raises on clashing clues
      assert sudoku_solver.count_solutions(clues, limit=1) == 1  # from a complete grid
      # The solution it carries is the complete grid it emptied.
      assert Sudoku.reference_check(grid_text(clues), grid_text(solution))


def test_the_generator_never_returns_an_excluded_problem():
  key = jax.random.PRNGKey(11)
  first = SAMPLE4(key)
  excluding = alphareason.make("sudoku4-v0", exclude=[int(SUDOKU4.problem_key(first))])
  other = jax.jit(excluding.sample_problem)(key)
  assert not np.array_equal(first.clues, other.clues)


@hypothesis.settings(max_examples=20, deadline=None)
@hypothesis.given(seed=st.integers(0, 2**31 - 1))
def test_random_play_agrees_with_the_rules_and_the_solver(seed):
  env = SUDOKU4
  rng = np.random.default_rng(seed)
  state = INIT4(SAMPLE4(jax.random.PRNGKey(seed)))
  text = env.problem_text(state.problem)
  while not bool(state.terminated | state.truncated):
    grid = np.asarray(state.grid).tolist()
    np.testing.assert_array_equal(np.asarray(state.legal_action_mask).reshape(16, 4),
                                  plain_candidates(grid, 4))
    state = STEP4(state, int(rng.choice(np.flatnonzero(np.asarray(state.legal_action_mask)))))
  answer = env.answer_text(state)
  assert Sudoku.reference_check(text, answer) == (float(state.reward) == 1.0)
  if float(state.reward) == 0.0:  # a dead end is sound: the grid truly has no completion
    assert sudoku_solver.count_solutions(np.asarray(state.grid).tolist()) == 0


# --- host side -------------------------------------------------------------------------

def test_problem_text_round_trips_and_accepts_zeros_and_whitespace():
  grid = HARD9.replace(".", "0")
  rows = "\n".join(" ".join(grid[r * 9:(r + 1) * 9]) for r in range(9))
  for text in (HARD9, grid, rows):
    assert SUDOKU9.problem_text(SUDOKU9.parse_problem(text)) == HARD9
  assert SUDOKU9.parse_problem(HARD9).clues.dtype == np.int32


@pytest.mark.parametrize("env, text, message", [
    (SUDOKU9, HARD9[:-1], "has 81 cells, got 80"),
    (SUDOKU9, HARD9 + "1", "has 81 cells, got 82"),
    (SUDOKU9, "", "got 0"),
    (SUDOKU9, "x" + HARD9[1:], "unexpected 'x'"),
    (SUDOKU4, "5..." + "." * 12, "unexpected '5'"),
    (SUDOKU9, "88" + HARD9[2:], "row 1 has two 8s"),
    (SUDOKU9, HARD9[:10] + "8" + HARD9[11:], "box 1 has two 8s"),
    (SUDOKU4, "1..." "...." "...." "1...", "column 1 has two 1s"),
    (SUDOKU4, "1234" "3412" "2143" "4321", "no empty cell"),
])
def test_malformed_problems_are_rejected_with_a_clear_message(env, text, message):
  with pytest.raises(ProblemError, match=message) as error:
    env.parse_problem(text)
  assert "\n" not in str(error.value)


def _swap_digits(text: str, a: str, b: str) -> str:
  return text.translate(str.maketrans(a + b, b + a))


@pytest.mark.parametrize("answer, ok", [
    (HARD9_SOLUTION, True),
    ("\n".join(HARD9_SOLUTION[r * 9:(r + 1) * 9] for r in range(9)), True),  # rows, line by line
    (HARD9_SOLUTION[1] + HARD9_SOLUTION[0] + HARD9_SOLUTION[2:], False),  # swapped in a row: columns clash
    (_swap_digits(HARD9_SOLUTION, "1", "2"), False),  # a valid grid, but not the clues'
    (HARD9_SOLUTION[:40] + "." + HARD9_SOLUTION[41:], False),  # incomplete
    (HARD9_SOLUTION[:40] + "0" + HARD9_SOLUTION[41:], False),
    (HARD9_SOLUTION[:-1], False),
    ("", False),
    ("x" * 81, False),
])
def test_reference_check(answer, ok):
  assert Sudoku.reference_check(HARD9, answer) is ok


def test_reference_check_accepts_any_completion_of_a_puzzle_with_several():
  problem = "1..." + "." * 12
  assert Sudoku.reference_check(problem, "1234341221434321")
  assert Sudoku.reference_check(problem, "1234341223414123")
  assert not Sudoku.reference_check(problem, "2134341221434321")
  assert not Sudoku.reference_check("not a grid", "1234341221434321")


# --- the solver ------------------------------------------------------------------------

def test_the_solver_counts_solutions():
  assert sudoku_solver.count_solutions(grid_of(HARD9)) == 1
  assert sudoku_solver.count_solutions([0] * 81) == 2  # capped at the default limit
  assert sudoku_solver.count_solutions([0] * 81, limit=5) == 5
  assert sudoku_solver.count_solutions(grid_of(HARD9)[:-1] + [0], limit=5) == 1
  # 288 complete 4x4 grids, all of them found.
  assert sudoku_solver.count_solutions([0] * 16, limit=1000) == 288
  assert sudoku_solver.count_solutions(grid_of("1..." + "." * 12), limit=1000) == 288 // 4
  loose = grid_of(HARD9)
  loose[0] = 0  # without its first clue, Inkala's puzzle has many solutions
  assert sudoku_solver.count_solutions(loose) == 2
  # No completion: clashing clues, or a cell with no digit left.
  assert sudoku_solver.count_solutions(grid_of("11.." + "." * 12)) == 0
  assert sudoku_solver.count_solutions(grid_of("12.. ..4. ...3 ....")) == 0
  assert sudoku_solver.solve(grid_of("12.. ..4. ...3 ....")) is None


def _all_4x4_grids() -> list[tuple[int, ...]]:
  """Every complete 4x4 grid, by brute force over rows that are permutations of 1..4."""
  rows = list(itertools.permutations(range(1, 5)))
  grids = []
  for grid in itertools.product(rows, repeat=4):
    columns_ok = all(len({row[c] for row in grid}) == 4 for c in range(4))
    boxes_ok = all(len({grid[r][c] for r in (top, top + 1) for c in (left, left + 1)}) == 4
                   for top in (0, 2) for left in (0, 2))
    if columns_ok and boxes_ok:
      grids.append(sum(grid, ()))
  return grids


ALL_4X4 = _all_4x4_grids()


@hypothesis.settings(max_examples=60, deadline=None)
@hypothesis.given(grid=st.sampled_from(ALL_4X4), keep=st.lists(st.booleans(), min_size=16, max_size=16),
                  noise=st.lists(st.tuples(st.integers(0, 15), st.integers(0, 4)), max_size=2))
def test_the_solver_counts_like_brute_force_on_4x4(grid, keep, noise):
  clues = [d if k else 0 for d, k in zip(grid, keep)]
  for cell, digit in noise:  # sometimes clues that clash, or fit no grid
    clues[cell] = digit
  expected = sum(all(c in (0, g) for c, g in zip(clues, full)) for full in ALL_4X4)
  assert len(ALL_4X4) == 288
  assert sudoku_solver.count_solutions(clues, limit=300) == expected
  assert sudoku_solver.count_solutions(clues) == min(expected, 2)
  solution = sudoku_solver.solve(clues)
  assert (solution is None) == (expected == 0)
  assert solution is None or tuple(solution) in ALL_4X4


def test_random_grids_and_puzzles():
  rng = np.random.default_rng(0)
  grids = {tuple(sudoku_solver.random_grid(rng, (3, 3))) for _ in range(10)}
  assert len(grids) == 10
  for grid in grids:
    text = "".join(map(str, grid))
    assert Sudoku.reference_check("." * 81, text)
  for target in (30, 24):
    puzzle, solution = sudoku_solver.make_puzzle(rng, (3, 3), target)
    clues = sum(1 for d in puzzle if d)
    assert clues >= target and (target < 25 or clues == target)
    assert sudoku_solver.count_solutions(puzzle) == 1
    assert sudoku_solver.solve(puzzle) == solution
    assert all(p in (0, s) for p, s in zip(puzzle, solution))


# --- the network -----------------------------------------------------------------------

@pytest.mark.slow  # compiles the 9x9 grid network
def test_auto_picks_the_grid_network_which_scores_every_cell_and_digit():
  config = ml_collections.ConfigDict(dict(family="auto", width=32, depth=1, num_heads=4,
                                          dtype="float32"))
  for env in (SUDOKU4, SUDOKU9):
    network = make_network(config, env)
    assert isinstance(network.module, GridTransformer)
    params = network.init(jax.random.PRNGKey(0))
    text = HARD9 if env is SUDOKU9 else "1..." + "." * 12
    observation = jnp.stack([env.init(env.parse_problem(text)).observation] * 3)
    logits, value = network.apply(params, observation)
    assert logits.shape == (3, env.num_actions) and value.shape == (3,)
    assert bool(jnp.all(jnp.isfinite(logits))) and bool(jnp.all(jnp.isfinite(value)))
  with pytest.raises(ValueError, match="cells"):
    GridTransformer(num_actions=10).init(jax.random.PRNGKey(0), jnp.zeros((1, 16, 10)))


# --- the suites ------------------------------------------------------------------------

def test_suite_names_and_aliases():
  names = [n for n in suites.SUITE_NAMES if n.startswith("sudoku")]
  assert names == ["sudoku4/c4-5", "sudoku4/c6-7", "sudoku4/c8-10", "sudoku4/c4-10",
                   "sudoku9/c22-24", "sudoku9/c25-29", "sudoku9/c30-35", "sudoku9/c22-35",
                   "sudoku9/c17"]
  with pytest.raises(alphareason.UsageError, match="sudoku9 means sudoku9/c22-35"):
    suites.load_suite("sudoku9/c18")


# v1.0.0's held-out puzzles: a change to how puzzles are made (the solver's random
# choices included) must come with a new suite version.
HELD_OUT_DIGESTS = {
    "sudoku4/c4-10": "fbcd6c4941633a2fbe2805bbb49bbe253c10cfef65015994e109f4cb36e3ab2b",
    "sudoku9/c30-35": "9b1b6a370bf035b03a863fa36388e9121e1219a2644f6c1dd6e7e47213923857",
}


def digest(problems) -> str:
  return hashlib.sha256("\n".join(problems).encode()).hexdigest()


def check_suite(suite, env_id: str, spec: generate.SudokuSpec, version: str = "1.0.0"):
  env = alphareason.make(env_id)
  assert suite.env_id == env_id and suite.version == version
  assert {s: len(p) for s, p in suite.splits.items()} == dict(validation=spec.validation, test=spec.test)
  rows = suite.examples["validation"] + suite.examples["test"]
  assert len({e["problem"] for e in rows}) == len(rows)  # no puzzle twice
  for e in rows:
    assert env.problem_text(env.parse_problem(e["problem"])) == e["problem"]
    assert list(e["clues"]) == grid_of(e["problem"])
    assert e["num_clues"] == sum(1 for d in e["clues"] if d)
    assert spec.min_clues <= e["num_clues"] <= spec.max_clues
    assert Sudoku.reference_check(e["problem"], e["solution"])
  for e in suite.examples["test"][:50]:  # uniqueness, recounted
    assert sudoku_solver.count_solutions(e["clues"]) == 1


def test_sudoku4_suites_build_deterministically(tmp_path):
  first = suites.load_suite("sudoku4", data_dir=tmp_path / "a")
  assert first.name == "sudoku4/c4-10"
  check_suite(first, "sudoku4-v0", generate.SUDOKU4_SPECS["c4-10"])
  second = suites.load_suite("sudoku4/c4-10", data_dir=tmp_path / "b")
  assert first == second and first.examples == second.examples
  assert digest(first.held_out) == HELD_OUT_DIGESTS["sudoku4/c4-10"]
  hard = suites.load_suite("sudoku4/c4-5", data_dir=tmp_path / "a")
  check_suite(hard, "sudoku4-v0", generate.SUDOKU4_SPECS["c4-5"])
  assert collections.Counter(e["num_clues"] for e in hard.examples["test"]).keys() == {4, 5}


def test_sudoku9_suite_builds_with_unique_certified_puzzles(tmp_path):
  suite = suites.load_suite("sudoku9/c30-35", data_dir=tmp_path / "a")
  check_suite(suite, "sudoku9-v0", generate.SUDOKU9_SPECS["c30-35"], version="1.1.0")
  assert digest(suite.held_out) == HELD_OUT_DIGESTS["sudoku9/c30-35"]  # as in v1.0.0
  again = suites.load_suite("sudoku9/c30-35", data_dir=tmp_path / "a")  # read back
  rebuilt = suites.load_suite("sudoku9/c30-35", data_dir=tmp_path / "b")
  assert again == suite == rebuilt and again.examples == suite.examples == rebuilt.examples


def test_17_clue_suite_holds_unique_symmetric_variants_of_known_puzzles(tmp_path):
  suite = suites.load_suite("sudoku9/c17", data_dir=tmp_path)
  spec = generate.SUDOKU9_SPECS["c17"]
  check_suite(suite, "sudoku9-v0", spec, version="1.1.0")
  rows = suite.examples["validation"] + suite.examples["test"]
  assert {e["num_clues"] for e in rows} == {17}
  assert all(sudoku_solver.count_solutions(e["clues"]) == 1 for e in rows)
  known = {tuple(p) for p in generate._known_puzzles(spec.variants_of)}
  assert len(known) == 9 and not known & {tuple(e["clues"]) for e in rows}


@pytest.mark.parametrize("size", [4, 9])
def test_symmetric_variants_keep_the_rules_and_the_solution_count(size):
  rng = np.random.default_rng(size)
  box = sudoku_solver.box_shape(size)
  grid = sudoku_solver.random_grid(rng, box)
  env = alphareason.make(f"sudoku{size}-v0")
  text = grid_text
  puzzle, _ = sudoku_solver.make_puzzle(rng, box, 6 if size == 4 else 26)
  seen = set()
  for _ in range(20):
    variant = generate.symmetric_variant(rng, puzzle, box)
    assert sum(map(bool, variant)) == sum(map(bool, puzzle))
    assert sudoku_solver.count_solutions(variant) == 1
    seen.add(tuple(variant))
    # A full grid stays a full grid that keeps every rule.
    full = generate.symmetric_variant(rng, grid, box)
    assert Sudoku.reference_check(text([0] + full[1:]), text(full))
  assert len(seen) > 15 and tuple(puzzle) not in seen  # variants, not copies


def test_hard_9x9_puzzles_are_deterministic_unique_and_few_clued():
  spec = dataclasses.replace(generate.SUDOKU9_SPECS["c22-24"], validation=2, test=4)
  first, second = generate.sudoku_splits(spec), generate.sudoku_splits(spec)
  assert [e["problem"] for e in first["test"]] == [e["problem"] for e in second["test"]]
  for e in first["validation"] + first["test"]:
    assert 22 <= e["num_clues"] <= 24
    assert sudoku_solver.count_solutions(list(e["clues"])) == 1
    assert Sudoku.reference_check(e["problem"], e["solution"])
