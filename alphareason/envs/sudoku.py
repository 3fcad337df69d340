"""Sudoku: fill an N x N grid so that every row, column and box holds each digit once.

A problem is the grid of clues, N*N int32 row by row, 0 for an empty cell; N = box_rows *
box_cols with boxes box_rows rows tall and box_cols columns wide (4: 2x2, 6: 2x3, 8: 2x4,
9: 3x3, the usual shapes, which the one-line text format implies). A move writes digit d
into cell c: action c * N + (d - 1), so A = N*N*N. It is legal when the cell is empty and
no cell of its row, column or box holds d. Since every move is legal, a full grid is a
solved one: the episode ends paying 1. It ends paying 0 at a dead end, a state that
provably has no completion: an empty cell with no legal digit, or a digit with no place
left in a row, column or box that lacks it (and a grid of clues that already clash).

The generator fills a random complete grid in JAX (random play that takes forced cells
first, restarted on a dead end) and keeps a random `min_clues`..`max_clues` of its cells.
Such puzzles may have several solutions: every legal completion is correct, as the
reward says, and `reference_check` accepts any of them. The suites (alphareason.suites)
hold puzzles with unique solutions, certified by alphareason.suites.sudoku_solver.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from alphareason.env import Env, ProblemError, State, fewest_options

_EMPTY_CHARS = ".0"
# Columns of the observation's per-cell features, N the grid's size; the last three
# with `digit_places` only.
OBSERVATION_LAYOUT = ("empty", "digit 1..N (one-hot)", "clue", "candidate 1..N",
                      "places in the row of candidate 1..N", "... in the column",
                      "... in the box")
# With `place_shares`, the places are read as shares, and each candidate's share of its
# cell follows them.
SHARES_LAYOUT = ("share of the row's places of candidate 1..N", "... of the column's",
                 "... of the box's", "share of the cell's candidates of candidate 1..N")


def usual_box_shape(size: int) -> tuple[int, int]:
  """Boxes as square as N allows, wider than tall: 4 -> 2x2, 6 -> 2x3, 9 -> 3x3."""
  rows = max(r for r in range(1, math.isqrt(size) + 1) if size % r == 0)
  return rows, size // rows


@struct.dataclass
class SudokuProblem:
  clues: jax.Array  # [N*N] int32, digits 1..N, 0 for an empty cell
  # [N*N] int32, the grid the generator emptied, which training may judge moves against
  # (`on_track`); all 0 for a puzzle read from text, whose solution nobody was told.
  solution: jax.Array


@struct.dataclass
class SudokuState(State):
  grid: jax.Array  # [N*N] int32, the clues and the digits written so far


class Sudoku(Env):
  """Sudoku on an N x N grid, N = box_rows * box_cols <= 9.

  Give `size` (4, 6, 8 or 9) or the usual `box_rows` and `box_cols` for it. Generated
  puzzles have min_clues..max_clues clues, by default 27% to 43% of the cells (22 to 35
  on 9x9); `exclude` holds `problem_key`s (held-out test puzzles, the exact grid of
  clues) the generator never returns. With `levels` > 1 a curriculum may start from
  fuller grids (`clue_range`). With `digit_places` the observation also shows, for each
  candidate digit of a cell, how many places that digit has left in the cell's row,
  column and box: the constraint state a pencil-marking solver reads, which a digit's
  candidates alone show only one unit at a time. With `place_shares` as well, each
  count k reads 1/k, and each candidate also shows 1 / its cell's candidates: a single
  (naked or hidden) reads 1 where every other move reads 1/2 at most, a contrast a
  count of places (1/9 against 2/9) does not give.
  """

  self_verifiable = True
  default_network = "grid"
  judges_partial_answers = True  # a generated puzzle carries the grid it was made from

  def __init__(self, *, size: int | None = None, box_rows: int | None = None,
               box_cols: int | None = None, min_clues: int | None = None,
               max_clues: int | None = None, levels: int = 1, digit_places: bool = False,
               place_shares: bool = False, exclude=()):
    if size is None and (box_rows is None or box_cols is None):
      raise ValueError("give the grid's size, or box_rows and box_cols")
    if size is None:
      size = box_rows * box_cols
    if not 2 <= size <= 9:
      raise ValueError(f"need a grid size from 2 to 9 (one character a digit), got {size}")
    usual = usual_box_shape(size)
    if (box_rows, box_cols) != (None, None) and (box_rows, box_cols) != usual:
      raise ValueError(f"a {size}x{size} grid has {usual[0]}x{usual[1]} boxes (the shape its "
                       f"text implies), not {box_rows}x{box_cols}")
    cells = size * size
    min_clues = round(0.27 * cells) if min_clues is None else min_clues
    max_clues = round(0.43 * cells) if max_clues is None else max_clues
    if not 0 <= min_clues <= max_clues < cells:
      raise ValueError(f"need 0 <= min_clues <= max_clues < {cells}, got {min_clues}, {max_clues}")
    if not 1 <= levels <= cells - max_clues:
      raise ValueError(f"need 1 <= levels <= {cells - max_clues} (one empty cell more a level "
                       f"at least), got {levels}")
    self.size, (self.box_rows, self.box_cols) = size, usual
    self.min_clues, self.max_clues = min_clues, max_clues
    self.num_levels = levels
    if place_shares and not digit_places:
      raise ValueError("place_shares reads the digit places as shares: set digit_places too")
    self.digit_places = bool(digit_places)
    self.place_shares = bool(place_shares)
    self.excluded_keys = np.unique(np.asarray(exclude, np.uint32))
    self.num_actions = cells * size
    self.observation_shape = (
        cells, (6 if self.place_shares else 5 if self.digit_places else 2) * size + 2)
    self.max_steps = cells
    # Static index tables: unit u's cells (rows, then columns, then boxes), and each
    # cell's three units, so legality is two gathers and a few reductions.
    row = np.arange(cells) // size
    col = np.arange(cells) % size
    box = (row // self.box_rows) * self.box_rows + col // self.box_cols
    self.unit_cells = np.concatenate([
        np.arange(cells).reshape(size, size),
        np.arange(cells).reshape(size, size).T,
        np.stack([np.flatnonzero(box == b) for b in range(size)])]).astype(np.int32)
    self.cell_units = np.stack([row, size + col, 2 * size + box], axis=1).astype(np.int32)

  # --- array side ---------------------------------------------------------------------

  def analyse(self, grid: jax.Array) -> dict[str, jax.Array]:
    """What the rules say about a grid ([N*N] int): candidates [N*N, N] bool (digit d - 1
    is legal in the cell), and whether it is full, or a dead end (no completion)."""
    n = self.size
    empty = grid == 0
    holds = grid[:, None] == jnp.arange(1, n + 1)  # [N*N, N]: the cell holds digit d
    unit_count = jnp.sum(holds[self.unit_cells], axis=1)  # [3N, N]: d's count in unit u
    in_unit = unit_count > 0
    blocked = jnp.any(in_unit[self.cell_units], axis=1)  # [N*N, N]: a peer holds d
    candidates = empty[:, None] & ~blocked
    places = jnp.sum(candidates[self.unit_cells], axis=1)  # [3N, N]: cells where d can go
    clash = jnp.any(unit_count > 1)
    stuck_cell = jnp.any(empty & ~jnp.any(candidates, axis=1))
    stuck_digit = jnp.any(~in_unit & (places == 0))
    return dict(candidates=candidates, places=places, full=~jnp.any(empty),
                dead_end=clash | stuck_cell | stuck_digit)

  def singles(self, info: dict[str, jax.Array]) -> tuple[jax.Array, jax.Array]:
    """The moves the rules force, from `analyse`'s `info`: naked singles (a cell's one
    candidate) and hidden singles (a digit's one place left in a row, column or box),
    [N*N, N] bool each."""
    candidates = info["candidates"]
    naked = candidates & (jnp.sum(candidates, axis=1) == 1)[:, None]
    hidden = candidates & jnp.any((info["places"] == 1)[self.cell_units], axis=1)
    return naked, hidden

  def sample_problem(self, key: jax.Array) -> SudokuProblem:
    return self.sample_problem_at(key, jnp.int32(self.num_levels - 1))

  def clue_range(self, level) -> tuple[jax.Array, jax.Array]:
    """The fewest and most clues a puzzle of `level` has: the env's range at the last
    level; at level 0, shifted up until the fullest puzzle has one empty cell (a reverse
    curriculum, from nearly solved grids towards the env's)."""
    cells = self.size * self.size
    span = max(self.num_levels - 1, 1)
    shift = ((cells - 1 - self.max_clues) * (self.num_levels - 1 - level) + span // 2) // span
    return self.min_clues + shift, self.max_clues + shift

  def sample_problem_at(self, key: jax.Array, level: jax.Array) -> SudokuProblem:
    cells = self.size * self.size
    fewest, most = self.clue_range(jnp.asarray(level, jnp.int32))

    def draw(key):
      fill_key, count_key, keep_key = jax.random.split(key, 3)
      grid, filled = self._random_grid(fill_key)
      num_clues = jax.random.randint(count_key, (), fewest, most + 1)
      # A uniformly random set of num_clues cells keeps its digits.
      rank = jnp.zeros(cells, jnp.int32).at[jax.random.permutation(keep_key, cells)].set(
          jnp.arange(cells, dtype=jnp.int32))
      return SudokuProblem(jnp.where(rank < num_clues, grid, 0), grid), filled

    return self._sample_accepted(key, draw)

  def _random_grid(self, key: jax.Array) -> tuple[jax.Array, jax.Array]:
    """A random complete grid and True, or a dead-ended partial grid and False.

    Random play from the empty grid that first fills forced cells (one candidate, or the
    only place of a digit in a unit), else a cell with the fewest candidates: it reaches
    a full 9x9 grid most of the time, far more often than uniformly random play.
    """
    n, cells = self.size, self.size * self.size

    def place(i, carry):
      grid, failed = carry
      info = self.analyse(grid)
      candidates = info["candidates"]
      naked, hidden = self.singles(info)
      count = jnp.sum(candidates, axis=1)
      forced = jnp.any(naked | hidden, axis=1)
      cell_key, digit_key = jax.random.split(jax.random.fold_in(key, i))
      score = jnp.where(forced, 0, count) + jax.random.uniform(cell_key, (cells,))
      cell = jnp.argmin(jnp.where(grid == 0, score, jnp.inf))
      choices = jnp.where(jnp.any(hidden[cell]), hidden[cell], candidates[cell])
      digit = jnp.argmax(jnp.where(choices, jax.random.uniform(digit_key, (n,)), -1.0))
      failed |= info["dead_end"]
      grid = jnp.where(failed, grid, grid.at[cell].set(digit + 1))
      return grid, failed

    grid, failed = jax.lax.fori_loop(0, cells, place, (jnp.zeros(cells, jnp.int32), jnp.bool_(False)))
    return grid, ~failed & jnp.all(grid > 0)

  def problem_key(self, problem: SudokuProblem) -> jax.Array:
    # The clues are the task; a generated puzzle's solution is not part of it.
    return super().problem_key(jnp.asarray(problem.clues))

  def on_track(self, state: SudokuState) -> jax.Array:
    """Every digit written so far is the one the generator's grid holds there. A puzzle
    with several solutions may be completed another way; training judges by this one."""
    solution = state.problem.solution
    return jnp.all((state.grid == 0) | (state.grid == solution) | (solution == 0))

  def on_track_moves(self, state: SudokuState) -> jax.Array:
    # Action c * N + (d - 1) is on track when d is the solution's digit for cell c.
    solution = jnp.repeat(state.problem.solution, self.size)
    digit = jnp.arange(self.num_actions) % self.size + 1
    return state.legal_action_mask & ((digit == solution) | (solution == 0))

  def _init(self, problem: SudokuProblem) -> SudokuState:
    grid = jnp.asarray(problem.clues, jnp.int32)
    info = self.analyse(grid)
    return SudokuState(
        observation=self._observe(grid, grid > 0, info),
        legal_action_mask=info["candidates"].reshape(-1),
        reward=jnp.float32(0), terminated=info["dead_end"], truncated=jnp.bool_(False),
        step_count=jnp.int32(0), problem=problem, grid=grid)

  def _step(self, state: SudokuState, action: jax.Array) -> SudokuState:
    cell, digit = jnp.divmod(action, self.size)
    grid = state.grid.at[cell].set(digit + 1)
    info = self.analyse(grid)
    # Legal moves keep every unit free of repeats, so a full grid is solved.
    solved = info["full"] & ~info["dead_end"]
    return state.replace(
        grid=grid, observation=self._observe(grid, state.problem.clues > 0, info),
        legal_action_mask=info["candidates"].reshape(-1),
        terminated=solved | info["dead_end"], reward=solved.astype(jnp.float32))

  def alternatives(self, state: SudokuState, action: jax.Array) -> jax.Array:
    # The cell's candidates, or the digit's places in one of its row, column and box.
    n = self.size
    cell, digit = jnp.divmod(jnp.asarray(action, jnp.int32), n)
    candidates = state.legal_action_mask.reshape(-1, n)  # [N*N, N], the analysed candidates
    units = jnp.asarray(self.unit_cells)[jnp.asarray(self.cell_units)[cell]]  # [3, N] cells
    return fewest_options(candidates, cell, digit, units).reshape(-1)

  def observation_settings(self) -> dict:
    return dict(digit_places=self.digit_places, place_shares=self.place_shares)

  def _observe(self, grid, is_clue, info):
    """[N*N, 2N + 2] float32 per OBSERVATION_LAYOUT ([N*N, 5N + 2] with digit_places;
    [N*N, 6N + 2] with place_shares, its last 4N columns per SHARES_LAYOUT)."""
    candidates = info["candidates"]
    holds = grid[:, None] == jnp.arange(1, self.size + 1)
    features = [(grid == 0)[:, None], holds, is_clue[:, None], candidates]
    if self.place_shares:
      # [N*N, 3, N]: 1 / the places of digit d in each of the cell's units, and 1 / the
      # cell's candidates, where d is a candidate: a single reads 1 where two places read
      # 1/2, so it stands apart by as much as a certain move from an even guess.
      places = jnp.maximum(info["places"][self.cell_units], 1)
      features.append((candidates[:, None, :] / places).reshape(grid.shape[0], -1))
      count = jnp.maximum(jnp.sum(candidates, axis=1, keepdims=True), 1)
      features.append(candidates / count)
    elif self.digit_places:
      # [N*N, 3, N]: places of digit d in each of the cell's units, 1/N each, shown where
      # d is a candidate (so a 0 there is never a count): 1/N marks a hidden single.
      places = info["places"][self.cell_units] / self.size
      features.append((places * candidates[:, None, :]).reshape(grid.shape[0], -1))
    return jnp.concatenate([f.astype(jnp.float32) for f in features], axis=1)

  # --- host side ----------------------------------------------------------------------

  def parse_problem(self, text: str) -> SudokuProblem:
    """Reads the one-line format: N*N characters row by row, digits 1..N, '.' or '0' for
    an empty cell; whitespace (such as line breaks between rows) is ignored."""
    n, cells = self.size, self.size * self.size
    chars = "".join(text.split())
    shown = chars if len(chars) <= 2 * cells else chars[:2 * cells] + "..."
    if len(chars) != cells:
      raise ProblemError(f"{shown!r}: a {n}x{n} Sudoku has {cells} cells, got {len(chars)} "
                         f"characters (digits 1-{n}, '.' or '0' for empty)")
    bad = sorted({ch for ch in chars if ch not in _EMPTY_CHARS and not ("1" <= ch <= str(n))})
    if bad:
      raise ProblemError(f"{shown!r}: unexpected {', '.join(map(repr, bad))}; cells hold "
                         f"digits 1-{n}, '.' or '0' for empty")
    clues = np.array([0 if ch in _EMPTY_CHARS else int(ch) for ch in chars], np.int32)
    if not np.any(clues == 0):
      raise ProblemError(f"{shown!r}: no empty cell, nothing to solve")
    names = [f"row {i + 1}" for i in range(n)] + [f"column {i + 1}" for i in range(n)] + [
        f"box {i + 1}" for i in range(n)]
    for name, unit in zip(names, self.unit_cells):
      digits = clues[unit][clues[unit] > 0]
      repeated = np.flatnonzero(np.bincount(digits, minlength=n + 1) > 1)
      if repeated.size:
        raise ProblemError(f"{shown!r}: the clues clash, {name} has two {int(repeated[0])}s")
    return SudokuProblem(clues=clues, solution=np.zeros_like(clues))

  def problem_text(self, problem: SudokuProblem) -> str:
    return grid_text(np.asarray(problem.clues))

  def answer_text(self, state: SudokuState) -> str:
    """The grid the episode wrote, in the problem's one-line format ('.' where empty)."""
    return grid_text(np.asarray(jax.device_get(state.grid)))

  def render(self, state: SudokuState) -> str:
    """The grid as rows, with lines between boxes."""
    n = self.size
    grid = np.asarray(jax.device_get(state.grid)).reshape(n, n)
    lines = []
    for r in range(n):
      if r and r % self.box_rows == 0:
        lines.append("-+-".join("-" * (2 * self.box_cols - 1) for _ in range(n // self.box_cols)))
      cells = [str(int(d)) if d else "." for d in grid[r]]
      lines.append(" | ".join(" ".join(cells[c:c + self.box_cols])
                              for c in range(0, n, self.box_cols)))
    return "\n".join(lines)

  @staticmethod
  def reference_check(problem_text: str, answer_text: str) -> bool:
    """True when the answer is a complete grid, every row, column and box holding each
    digit once, that keeps every clue of the problem."""
    problem = "".join(problem_text.split())
    answer = "".join(answer_text.split())
    size = math.isqrt(len(problem))
    if size < 2 or size > 9 or size * size != len(problem) or len(answer) != len(problem):
      return False
    digits = {str(d) for d in range(1, size + 1)}
    if any(ch not in digits for ch in answer):
      return False
    if any(p not in ".0" and p != a for p, a in zip(problem, answer)):
      return False
    # The usual boxes for the size: as square as it allows, wider than tall.
    box_rows = max(r for r in range(1, math.isqrt(size) + 1) if size % r == 0)
    box_cols = size // box_rows
    rows = [answer[r * size:(r + 1) * size] for r in range(size)]
    columns = ["".join(row[c] for row in rows) for c in range(size)]
    boxes = ["".join(rows[r][c] for r in range(top, top + box_rows)
                     for c in range(left, left + box_cols))
             for top in range(0, size, box_rows) for left in range(0, size, box_cols)]
    return all(set(group) == digits for group in rows + columns + boxes)


def grid_text(grid) -> str:
  """A grid of digits (0 for empty) in the one-line format, '.' for an empty cell."""
  return "".join(str(int(d)) if d else "." for d in grid)
