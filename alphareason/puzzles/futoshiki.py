"""Futoshiki: fill an n x n board (n = 2..9) with 1..n, once each in every row and column,
so that every inequality sign between two adjacent cells holds.

Written against alphareason's public API alone, as a user's env would be (see
docs/custom_env.md, section 5), and scored on reasoning-gym's `futoshiki` by its own
verifier. rg mixes board sizes 4..9 in one dataset, so one env plays them all.

Design, and why:

- One padded board. Every problem lives on a 9 x 9 array with its size n in the problem;
  cells outside the n x n corner are never legal, hold nothing, and read 0 in every
  feature but none. The observation, the action space (cell * 9 + digit - 1, as
  sudoku9's) and so the network are the same for every size: one checkpoint plays rg's
  whole mix, and what it learns on 9x9 rows carries to the 4x4 corner. The generic `grid`
  network then sees 81 cells with row and column embeddings; its box relation is
  meaningless here and it can learn to ignore it.
- Inequalities as two relation arrays. `right[cell]` and `down[cell]` say how the cell
  compares with its right and lower neighbour (+1 greater, -1 smaller, 0 no sign). The
  reversed signs (left, up) are the same arrays shifted, so each cell's four signs are
  read with no search over a constraint list.
- Legal moves are the candidates after bounds propagation: a digit is legal in an empty
  cell when its row and column lack it and it lies strictly between the bounds its signs
  give: a cell greater than a neighbour must exceed that neighbour's smallest candidate,
  one smaller must stay under its largest. Rounds of this (BOUND_ROUNDS) tighten chains
  of signs. It is sound (no digit of any solution is ever removed: a solution's digits
  satisfy every bound in every round), so every legal move keeps every sign between two
  filled cells true, and a full board is a solved one.
- Dead ends by the rules alone, no hidden solution: an empty cell with no candidate, a
  digit with no place left in a row or column that lacks it, or clues that already clash
  (a repeat, or a sign two clues break). Search at test time needs nothing else to tell a
  failure, so the env is self-verifiable.
- `alternatives` narrows dfs's branching as Sudoku's does: the policy's favourite move
  writes d into cell c, which answers "which digit does c hold" (c's candidates) and
  "where does d go in c's row" and "... in c's column" (d's places there); every solution
  answers each, so the smallest set is a complete set of options.
- The generator fills a random Latin square of a random size in min_size..max_size in
  JAX (random play that takes forced cells first, restarted on a dead end), adds each
  sign between adjacent cells with rg's probability 0.03 + 0.07 * difficulty (difficulty
  uniform in min_difficulty..max_difficulty), and keeps a random share of the cells as
  clues (min_fill..max_fill, by default 10% to 50% of the board: rg's puzzles keep 12%
  to 47%, since rg removes clues towards 10% only while the solution stays unique). Our
  puzzles may have several solutions; any legal completion is correct, as the reward and
  `reference_check` say. rg's have one, so there the two agree.

Text format: rg's own layout, which `answer_text` also writes, so an answer is rg's
expected answer less trailing spaces (rg's verifier strips them before comparing).
A row of cells a line, '_' (or '.', '0') for an empty cell, '<' or '>' between two cells
of a row; between two rows a line of vertical signs, each under its column (character
4 * column), '∧' (or '^') when the upper cell is the smaller, '∨' (or 'v') when it is the
greater:

  _   _   2 < 4
          ∧
  4   _   _   _
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

import alphareason
from alphareason import Env, ProblemError, State

MAX_SIZE = 9  # one character a digit; the padded board every problem lives on
CELLS = MAX_SIZE * MAX_SIZE
BOUND_ROUNDS = 3  # rounds of bounds propagation along the signs (a chain of 4 cells)
_EMPTY = "_.0"
_UP_SMALLER, _UP_GREATER = "∧^", "∨vV"  # vertical signs: upper < lower, upper > lower
OBSERVATION_LAYOUT = (
    "on the board", "empty", "digit 1..9 (one-hot)", "clue", "candidate 1..9",
    "share of the cell's candidates of candidate 1..9",
    "share of the row's places of candidate 1..9", "... of the column's",
    "greater than / smaller than the right neighbour", "... the left", "... the lower",
    "... the upper")


@struct.dataclass
class FutoshikiProblem:
  size: jax.Array  # [] int32, n: the board is the n x n corner of the 9 x 9 arrays
  clues: jax.Array  # [81] int32, digits 1..n, 0 for an empty cell, row by row
  right: jax.Array  # [81] int32, the cell against its right neighbour: +1 >, -1 <, 0 none
  down: jax.Array  # [81] int32, the cell against the cell below it, likewise
  # [81] int32, the Latin square the generator emptied, which training may judge moves
  # against (`on_track`); all 0 for a puzzle read from text, whose solution nobody told.
  solution: jax.Array


@struct.dataclass
class FutoshikiState(State):
  grid: jax.Array  # [81] int32, the clues and the digits written so far


def _neighbour_relations(right, down):
  """[81, 4] the cell's sign against its right, left, lower and upper neighbour (+1: the
  cell is greater), and [81, 4] int32 those neighbours' cells (clipped where absent,
  which a 0 sign makes harmless)."""
  n = MAX_SIZE
  cell = jnp.arange(CELLS)
  col, row = cell % n, cell // n
  # The left neighbour's sign against its right neighbour (this cell), reversed.
  left = jnp.where(col > 0, -jnp.roll(right, 1), 0)
  up = jnp.where(row > 0, -jnp.roll(down, n), 0)
  relations = jnp.stack([right, left, down, up], axis=1)
  neighbours = jnp.clip(jnp.stack([cell + 1, cell - 1, cell + n, cell - n], axis=1), 0, CELLS - 1)
  return relations, neighbours


class Futoshiki(Env):
  """Futoshiki on boards of min_size..max_size (at most 9), signs by rg's difficulty.

  A move writes digit d into cell c: action c * 9 + (d - 1). It is legal when c is an
  empty cell of the board and d a candidate (see the module docstring). A full board pays
  1; a dead end by the rules pays 0.
  """

  self_verifiable = True  # the rules alone tell a solution
  default_network = "grid"  # cells attend along rows and columns; one choice a digit
  judges_partial_answers = True  # a generated puzzle carries the square it was made from

  def __init__(self, *, min_size: int = 4, max_size: int = 9, min_difficulty: int = 0,
               max_difficulty: int = 3, min_fill: float = 0.1, max_fill: float = 0.5,
               levels: int = 1, exclude=()):
    if not 2 <= min_size <= max_size <= MAX_SIZE:
      raise ValueError(f"need 2 <= min_size <= max_size <= {MAX_SIZE}, got {min_size}, {max_size}")
    if not 0 <= min_difficulty <= max_difficulty <= 3:
      raise ValueError(f"need 0 <= min_difficulty <= max_difficulty <= 3 (rg's scale), got "
                       f"{min_difficulty}, {max_difficulty}")
    if not 0.0 <= min_fill <= max_fill < 1.0:
      raise ValueError(f"need 0 <= min_fill <= max_fill < 1, got {min_fill}, {max_fill}")
    self.min_size, self.max_size = min_size, max_size
    self.min_difficulty, self.max_difficulty = min_difficulty, max_difficulty
    self.min_fill, self.max_fill = float(min_fill), float(max_fill)
    if not 1 <= levels <= 32:
      raise ValueError(f"need 1 <= levels <= 32, got {levels}")
    self.num_levels = levels
    self.excluded_keys = np.unique(np.asarray(exclude, np.uint32))
    self.num_actions = CELLS * MAX_SIZE
    self.observation_shape = (CELLS, 3 + 5 * MAX_SIZE + 8)
    self.max_steps = CELLS

  def draw_settings(self) -> tuple[str, ...]:
    # Only what training draws; a checkpoint plays every size whatever it was trained on.
    return ("min_size", "max_size", "min_difficulty", "max_difficulty", "min_fill", "max_fill",
            "levels")

  # --- array side ---------------------------------------------------------------------

  def analyse(self, grid: jax.Array, problem: FutoshikiProblem) -> dict[str, jax.Array]:
    """What the rules say about a grid ([81] int): candidates [81, 9] bool (digit d - 1 is
    legal in the cell), the places [2, 9, 9] each digit has left in each row and column,
    and whether the board is full, or a dead end (no completion)."""
    n = MAX_SIZE
    size = jnp.asarray(problem.size, jnp.int32)
    cell = jnp.arange(CELLS)
    row, col = cell // n, cell % n
    on_board = (row < size) & (col < size)
    digits = jnp.arange(1, n + 1)
    valid_digit = digits <= size  # [9]
    empty = on_board & (grid == 0)
    holds = grid[:, None] == digits  # [81, 9]
    by_row = holds.reshape(n, n, n)  # [row, col, digit]
    row_count, col_count = jnp.sum(by_row, axis=1), jnp.sum(by_row, axis=0)  # [9, 9]
    blocked = (row_count > 0)[row] | (col_count > 0)[col]
    base = empty[:, None] & valid_digit & ~blocked

    relations, neighbours = _neighbour_relations(problem.right, problem.down)
    filled = holds & on_board[:, None]

    def tighten(candidates, _):
      # A cell's possible digits: its candidates if empty, its digit if filled.
      possible = candidates | filled
      low = jnp.min(jnp.where(possible, digits, n + 1), axis=1)  # [81], n + 1 when none
      high = jnp.max(jnp.where(possible, digits, 0), axis=1)  # [81], 0 when none
      # Greater than a neighbour: above its smallest; smaller: below its largest.
      floor = jnp.max(jnp.where(relations > 0, low[neighbours], 0), axis=1)
      ceiling = jnp.min(jnp.where(relations < 0, high[neighbours], n + 1), axis=1)
      inside = (digits > floor[:, None]) & (digits < ceiling[:, None])
      return candidates & inside, inside

    candidates, inside = jax.lax.scan(tighten, base, None, length=BOUND_ROUNDS)
    places = jnp.stack([jnp.sum(candidates.reshape(n, n, n), axis=1),
                        jnp.sum(candidates.reshape(n, n, n), axis=0)])  # [2, 9, 9]
    present = jnp.stack([row_count, col_count]) > 0
    line_on_board = (jnp.arange(n) < size)[:, None] & valid_digit  # [9 lines, 9 digits]
    clash = jnp.any(row_count > 1) | jnp.any(col_count > 1)
    # A filled cell whose digit its signs forbid: clues that break a sign (moves never do).
    broken_sign = jnp.any(filled & ~inside[-1])
    stuck_cell = jnp.any(empty & ~jnp.any(candidates, axis=1))
    stuck_digit = jnp.any(line_on_board & ~present & (places == 0))
    return dict(candidates=candidates, places=places, full=~jnp.any(empty),
                dead_end=clash | broken_sign | stuck_cell | stuck_digit)

  def singles(self, info: dict[str, jax.Array]) -> tuple[jax.Array, jax.Array]:
    """Forced moves: naked singles (a cell's one candidate) and hidden singles (a digit's
    one place left in a row or column), [81, 9] bool each."""
    n = MAX_SIZE
    candidates = info["candidates"]
    naked = candidates & (jnp.sum(candidates, axis=1) == 1)[:, None]
    cell = jnp.arange(CELLS)
    once = info["places"] == 1  # [2, 9 lines, 9 digits]
    hidden = candidates & (once[0][cell // n] | once[1][cell % n])
    return naked, hidden

  def fill_range(self, level) -> tuple[jax.Array, jax.Array]:
    """The least and most share of the board given at `level`: the env's range at the
    last level; at level 0 shifted up until the fullest board has one empty cell (a
    reverse curriculum, from nearly solved boards towards the env's), evenly between."""
    span = max(self.num_levels - 1, 1)
    ahead = (self.num_levels - 1 - jnp.asarray(level, jnp.float32)) / span
    # 1 - 1/81 is one empty cell on 9x9; `most` stops one short of any full board below.
    shift = (1.0 - 1.0 / CELLS - self.max_fill) * ahead
    return self.min_fill + shift, self.max_fill + shift

  def problem_key(self, problem: FutoshikiProblem) -> jax.Array:
    # The board is the task; a generated puzzle's solution is not part of it.
    return super().problem_key((jnp.asarray(problem.size), jnp.asarray(problem.clues),
                                jnp.asarray(problem.right), jnp.asarray(problem.down)))

  def on_track(self, state: FutoshikiState) -> jax.Array:
    """Every digit written so far is the generator's square's. A puzzle with several
    solutions may be completed another way; training judges by this one."""
    solution = state.problem.solution
    return jnp.all((state.grid == 0) | (state.grid == solution) | (solution == 0))

  def on_track_moves(self, state: FutoshikiState) -> jax.Array:
    # Action c * 9 + (d - 1) is on track when d is the square's digit for cell c.
    solution = jnp.repeat(state.problem.solution, MAX_SIZE)
    digit = jnp.arange(self.num_actions) % MAX_SIZE + 1
    return state.legal_action_mask & ((digit == solution) | (solution == 0))

  def sample_problem(self, key: jax.Array) -> FutoshikiProblem:
    return self.sample_problem_at(key, jnp.int32(self.num_levels - 1))

  def sample_problem_at(self, key: jax.Array, level: jax.Array) -> FutoshikiProblem:
    n = MAX_SIZE
    least_fill, most_fill = self.fill_range(level)

    def draw(key):
      size_key, fill_key, level_key, sign_key, count_key, keep_key = jax.random.split(key, 6)
      size = jax.random.randint(size_key, (), self.min_size, self.max_size + 1)
      grid, ok = self._random_square(fill_key, size)
      cell = jnp.arange(CELLS)
      row, col = cell // n, cell % n
      # rg's signs: each adjacent pair gets one with probability 0.03 + 0.07 * difficulty.
      difficulty = jax.random.randint(level_key, (), self.min_difficulty, self.max_difficulty + 1)
      chance = 0.03 + 0.07 * difficulty
      right_key, down_key = jax.random.split(sign_key)
      right_next, down_next = jnp.roll(grid, -1), jnp.roll(grid, -n)
      with_right = (col < size - 1) & (row < size) & (jax.random.uniform(right_key, (CELLS,)) < chance)
      with_down = (row < size - 1) & (col < size) & (jax.random.uniform(down_key, (CELLS,)) < chance)
      right = jnp.where(with_right, jnp.sign(grid - right_next), 0).astype(jnp.int32)
      down = jnp.where(with_down, jnp.sign(grid - down_next), 0).astype(jnp.int32)
      # A uniformly random num_clues of the board's size * size cells keep their digits;
      # off-board cells rank last, so they are never kept.
      board = size * size
      most = jnp.minimum(jnp.floor(most_fill * board).astype(jnp.int32), board - 1)
      fewest = jnp.minimum(jnp.floor(least_fill * board).astype(jnp.int32), most)
      num_clues = jax.random.randint(count_key, (), fewest, most + 1)
      on_board = (row < size) & (col < size)
      order = jnp.argsort(jnp.where(on_board, jax.random.uniform(keep_key, (CELLS,)), 2.0))
      rank = jnp.zeros(CELLS, jnp.int32).at[order].set(jnp.arange(CELLS, dtype=jnp.int32))
      clues = jnp.where(rank < num_clues, grid, 0)
      return FutoshikiProblem(size=size.astype(jnp.int32), clues=clues, right=right, down=down,
                              solution=grid), ok

    return self._sample_accepted(key, draw)

  def _random_square(self, key: jax.Array, size: jax.Array) -> tuple[jax.Array, jax.Array]:
    """A random size x size Latin square in the corner of [81] and True, or a dead-ended
    partial one and False: random play from the empty board that fills forced cells
    first, else a cell with the fewest candidates, which rarely dead-ends."""
    zeros = jnp.zeros(CELLS, jnp.int32)
    blank = FutoshikiProblem(size=size, clues=zeros, right=zeros, down=zeros, solution=zeros)

    def place(i, carry):
      grid, failed = carry
      info = self.analyse(grid, blank)
      candidates = info["candidates"]
      naked, hidden = self.singles(info)
      live = jnp.any(candidates, axis=1)
      forced = jnp.any(naked | hidden, axis=1)
      cell_key, digit_key = jax.random.split(jax.random.fold_in(key, i))
      score = jnp.where(forced, 0, jnp.sum(candidates, axis=1)) + jax.random.uniform(cell_key, (CELLS,))
      cell = jnp.argmin(jnp.where(live, score, jnp.inf))
      choices = jnp.where(jnp.any(hidden[cell]), hidden[cell], candidates[cell])
      digit = jnp.argmax(jnp.where(choices, jax.random.uniform(digit_key, (MAX_SIZE,)), -1.0))
      failed |= info["dead_end"]
      # Past the last empty cell (boards under 9x9) nothing is live: the grid stays.
      grid = jnp.where(failed | ~jnp.any(live), grid, grid.at[cell].set(digit + 1))
      return grid, failed

    grid, failed = jax.lax.fori_loop(0, CELLS, place, (jnp.zeros(CELLS, jnp.int32), jnp.bool_(False)))
    return grid, ~failed & self.analyse(grid, blank)["full"]

  def _init(self, problem: FutoshikiProblem) -> FutoshikiState:
    grid = jnp.asarray(problem.clues, jnp.int32)
    info = self.analyse(grid, problem)
    return FutoshikiState(
        observation=self._observe(grid, problem, info),
        legal_action_mask=info["candidates"].reshape(-1),
        reward=jnp.float32(0), terminated=info["dead_end"], truncated=jnp.bool_(False),
        step_count=jnp.int32(0), problem=problem, grid=grid)

  def _step(self, state: FutoshikiState, action: jax.Array) -> FutoshikiState:
    cell, digit = jnp.divmod(action, MAX_SIZE)
    grid = state.grid.at[cell].set(digit + 1)
    info = self.analyse(grid, state.problem)
    # Legal moves keep every line free of repeats and every sign true: full is solved.
    solved = info["full"] & ~info["dead_end"]
    return state.replace(
        grid=grid, observation=self._observe(grid, state.problem, info),
        legal_action_mask=info["candidates"].reshape(-1),
        terminated=solved | info["dead_end"], reward=solved.astype(jnp.float32))

  def alternatives(self, state: FutoshikiState, action: jax.Array) -> jax.Array:
    # The cell's candidates, or the digit's places in its row or its column.
    n = MAX_SIZE
    cell, digit = jnp.divmod(jnp.asarray(action, jnp.int32), n)
    row, col = cell // n, cell % n
    lines = jnp.stack([row * n + jnp.arange(n), jnp.arange(n) * n + col])  # [2, 9] cells
    return alphareason.fewest_options(
        state.legal_action_mask.reshape(CELLS, n), cell, digit, lines).reshape(-1)

  def _observe(self, grid, problem, info):
    """[81, 56] float32 per OBSERVATION_LAYOUT."""
    n = MAX_SIZE
    size = jnp.asarray(problem.size, jnp.int32)
    cell = jnp.arange(CELLS)
    on_board = (cell // n < size) & (cell % n < size)
    candidates = info["candidates"]
    holds = grid[:, None] == jnp.arange(1, n + 1)
    count = jnp.maximum(jnp.sum(candidates, axis=1, keepdims=True), 1)
    # 1 / a digit's places in the cell's row and column where it is a candidate: a hidden
    # single reads 1, as a naked single does in the cell's share.
    row_places = jnp.maximum(info["places"][0][cell // n], 1)
    col_places = jnp.maximum(info["places"][1][cell % n], 1)
    relations, _ = _neighbour_relations(problem.right, problem.down)
    signs = jnp.stack([relations > 0, relations < 0], axis=2).reshape(CELLS, 8)
    features = [on_board[:, None], (on_board & (grid == 0))[:, None], holds,
                (problem.clues > 0)[:, None], candidates, candidates / count,
                candidates / row_places, candidates / col_places, signs]
    return jnp.concatenate([jnp.asarray(f, jnp.float32) for f in features], axis=1)

  # --- host side ----------------------------------------------------------------------

  def parse_problem(self, text: str) -> FutoshikiProblem:
    """Reads rg's layout (see the module docstring): a board of 2..9 rows."""
    size, grid, right, down = read_board(text)
    flat = lambda rows: np.array([[rows[r][c] if r < size and c < size else 0
                                   for c in range(MAX_SIZE)] for r in range(MAX_SIZE)],
                                 np.int32).reshape(-1)
    clues = flat(grid)
    if np.all(clues[_board_cells(size)] > 0):
      raise ProblemError(f"{_shown(text)}: no empty cell, nothing to solve")
    problem_error = first_broken_rule(grid, right, down, complete=False)
    if problem_error:
      raise ProblemError(f"{_shown(text)}: the clues clash, {problem_error}")
    return FutoshikiProblem(size=np.int32(size), clues=clues, right=flat(right), down=flat(down),
                            solution=np.zeros_like(clues))

  def problem_text(self, problem: FutoshikiProblem) -> str:
    return write_board(*_unpad(problem, problem.clues))

  def answer_text(self, state: FutoshikiState) -> str:
    """The board the episode wrote, in the problem's layout ('_' where still empty)."""
    state = jax.device_get(state)
    return write_board(*_unpad(state.problem, state.grid))

  def render(self, state: FutoshikiState) -> str:
    return self.answer_text(state)

  @staticmethod
  def reference_check(problem_text: str, answer_text: str) -> bool:
    """Plain Python: the answer is the problem's board with every cell filled, its clues
    kept, each digit once a row and a column, and every one of the problem's signs true."""
    try:
      size, clues, right, down = read_board(problem_text)
      answer_size, answer, _, _ = read_board(answer_text)
    except ProblemError:
      return False
    if answer_size != size:
      return False
    cells = [(r, c) for r in range(size) for c in range(size)]
    if any(answer[r][c] == 0 or (clues[r][c] and clues[r][c] != answer[r][c]) for r, c in cells):
      return False
    return first_broken_rule(answer, right, down, complete=True) is None


# --- plain-Python board text, shared by the host side and reference_check --------------

def _shown(text: str) -> str:
  return repr(text if len(text) <= 200 else text[:200] + "...")


def _board_cells(size: int) -> np.ndarray:
  cells = np.arange(CELLS)
  return cells[(cells // MAX_SIZE < size) & (cells % MAX_SIZE < size)]


def _unpad(problem, grid):
  """The n x n corner of a padded grid and of the problem's signs, as lists of rows."""
  size = int(np.asarray(problem.size))
  corner = lambda x: np.asarray(x).reshape(MAX_SIZE, MAX_SIZE)[:size, :size].astype(int).tolist()
  return size, corner(grid), corner(problem.right), corner(problem.down)


def read_board(text: str):
  """(n, grid, right, down) from rg's layout: n x n lists of rows; grid 0 for an empty
  cell; right[r][c] / down[r][c] +1 where the cell is greater than its right / lower
  neighbour, -1 where smaller, 0 where no sign. Raises ProblemError on anything else."""
  if not isinstance(text, str):
    raise ProblemError(f"a Futoshiki board is text, got {type(text).__name__}")
  lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
  while lines and not lines[0]:
    lines.pop(0)
  while lines and not lines[-1]:
    lines.pop()
  if len(lines) % 2 == 0:
    raise ProblemError(f"{_shown(text)}: a board of n rows is 2n - 1 lines (a line of "
                       f"vertical signs between two rows), got {len(lines)}")
  size = (len(lines) + 1) // 2
  if not 2 <= size <= MAX_SIZE:
    raise ProblemError(f"{_shown(text)}: need a board of 2 to {MAX_SIZE} rows, got {size}")
  grid, right = [], []
  for r, line in enumerate(lines[0::2]):
    cells, signs, pending = [], [], 0
    for token in line.split():
      for ch in token:  # "2<4" reads as "2 < 4"
        if ch in "<>":
          if not cells or pending:
            raise ProblemError(f"{_shown(text)}: row {r + 1} has a sign {ch!r} not between two cells")
          pending = 1 if ch == ">" else -1
        elif ch in _EMPTY or ch in "123456789":
          if cells:
            signs.append(pending)
          pending = 0
          digit = 0 if ch in _EMPTY else int(ch)
          if digit > size:
            raise ProblemError(f"{_shown(text)}: row {r + 1} holds {digit}, but a {size}x{size} "
                               f"board holds 1 to {size}")
          cells.append(digit)
        else:
          raise ProblemError(f"{_shown(text)}: unexpected {ch!r} in row {r + 1}; cells hold "
                             f"1-{size} or '_', signs are < > between cells")
    if pending:
      raise ProblemError(f"{_shown(text)}: row {r + 1} ends with a sign")
    if len(cells) != size:
      raise ProblemError(f"{_shown(text)}: row {r + 1} has {len(cells)} cells, a {size}x{size} "
                         f"board {size}")
    grid.append(cells)
    right.append(signs + [0])
  down = []
  for r, line in enumerate(lines[1::2]):
    signs = [0] * size
    for position, ch in enumerate(line):
      if ch == " ":
        continue
      column, offset = divmod(position, 4)
      if ch not in _UP_SMALLER + _UP_GREATER or offset or column >= size:
        raise ProblemError(f"{_shown(text)}: unexpected {ch!r} between rows {r + 1} and {r + 2}; "
                           "vertical signs are ∧ (^) or ∨ (v), each under its cell")
      signs[column] = -1 if ch in _UP_SMALLER else 1
    down.append(signs)
  down.append([0] * size)
  return size, grid, right, down


def write_board(size, grid, right, down) -> str:
  """rg's layout of an n x n board (lists of rows, as `read_board` returns), without
  trailing spaces: a row's cells 4 characters apart, signs between them."""
  lines = []
  for r in range(size):
    parts = []
    for c in range(size):
      parts.append(str(grid[r][c]) if grid[r][c] else "_")
      if c < size - 1:
        parts.append({1: ">", -1: "<"}.get(right[r][c], " "))
    lines.append(" ".join(parts).rstrip())
    if r < size - 1:
      lines.append("   ".join({1: "∨", -1: "∧"}.get(down[r][c], " ") for c in range(size)).rstrip())
  return "\n".join(lines)


def first_broken_rule(grid, right, down, *, complete: bool) -> str | None:
  """Plain Python: the first rule the board's filled cells break (a repeat in a line, or
  a sign between two filled cells), or None; with `complete`, each line must also hold
  1..n exactly."""
  size = len(grid)
  for name, lines in (("row", grid), ("column", [list(col) for col in zip(*grid)])):
    for i, line in enumerate(lines):
      digits = [d for d in line if d]
      if len(set(digits)) != len(digits):
        return f"{name} {i + 1} repeats a digit"
      if complete and sorted(line) != list(range(1, size + 1)):
        return f"{name} {i + 1} does not hold 1 to {size}"
  for r in range(size):
    for c in range(size):
      for sign, (rr, cc) in ((right[r][c], (r, c + 1)), (down[r][c], (r + 1, c))):
        if sign and rr < size and cc < size and grid[r][c] and grid[rr][cc]:
          if (grid[r][c] > grid[rr][cc]) != (sign > 0) or grid[r][c] == grid[rr][cc]:
            return f"cells ({r + 1}, {c + 1}) and ({rr + 1}, {cc + 1}) break their sign"
  return None


alphareason.register(
    "futoshiki-v0", "alphareason.puzzles.futoshiki:Futoshiki",
    description="Futoshiki on 4x4 to 9x9 boards with rg's signs (difficulty 0 to 3)",
    min_size=4, max_size=9, min_difficulty=0, max_difficulty=3)


# reasoning-gym's futoshiki, read from each entry's metadata and scored by its verifier.
def rg_problem(entry: dict) -> str:
  """The entry's puzzle and constraints (r1, c1, r2, c2, sign: cell 1 against cell 2) in
  our layout, built from its metadata, never from its prompt."""
  meta = entry["metadata"]
  puzzle = [[int(d) for d in row] for row in meta["puzzle"]]
  size = len(puzzle)
  right = [[0] * size for _ in range(size)]
  down = [[0] * size for _ in range(size)]
  for r1, c1, r2, c2, sign in meta["constraints"]:
    relation = 1 if sign == ">" else -1 if sign == "<" else None
    if relation is None:
      raise ValueError(f"unknown sign {sign!r}")
    if (r2, c2) < (r1, c1):  # written the other way round: the same sign, reversed
      (r1, c1, r2, c2), relation = (r2, c2, r1, c1), -relation
    if (r1, c1 + 1) == (r2, c2):
      right[r1][c1] = relation
    elif (r1 + 1, c1) == (r2, c2):
      down[r1][c1] = relation
    else:
      raise ValueError(f"cells ({r1}, {c1}) and ({r2}, {c2}) are not adjacent")
  return write_board(size, puzzle, right, down)


def rg_answer(answer_text: str) -> str:
  # Ours is rg's layout already. rg compares lines with trailing spaces stripped, and
  # marks down any answer longer than its own solution text: ours carry none.
  return answer_text.strip("\n")


def rg_settings(config: dict) -> dict:
  if config["max_board_size"] > MAX_SIZE or config["max_difficulty"] > 3:
    raise alphareason.UsageError(
        f"reasoning-gym futoshiki with boards up to {config['max_board_size']} and difficulty "
        f"up to {config['max_difficulty']} is not supported: futoshiki-v0 plays boards up to "
        f"{MAX_SIZE}x{MAX_SIZE}, difficulty 0 to 3")
  return dict(min_size=config["min_board_size"], max_size=config["max_board_size"],
              min_difficulty=config["min_difficulty"], max_difficulty=config["max_difficulty"])


alphareason.register_rg_task(
    "futoshiki", "futoshiki-v0", problem_text=rg_problem, to_rg_answer=rg_answer,
    env_settings=rg_settings,
    # The Reasoning Gym paper's hard setting (its eval/yaml/hard): 6x6 and 7x7 boards,
    # difficulty 1 to 2.
    presets=dict(hard=dict(min_board_size=6, max_board_size=7, min_difficulty=1,
                           max_difficulty=2)))
