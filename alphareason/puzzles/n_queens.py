"""N queens: complete a board of some queens to n queens, no two attacking each other."""

import math

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

import alphareason
from alphareason import Env, ProblemError, State


@struct.dataclass
class Board:
  queens: jax.Array  # [n*n] bool, the queens given, row by row


@struct.dataclass
class QueensState(State):
  queens: jax.Array  # [n*n] bool, the given queens and those placed


class NQueens(Env):
  """An n x n board holding `min_given`..`max_given` queens of a random solution.

  A move places a queen on a safe cell (attacked by no queen) of the row to fill: the
  queenless row with the fewest safe cells, so each board is reached one way and search
  branches where the choice is smallest. n queens placed pay 1; a queenless row or
  column without a safe cell is a dead end.
  """

  self_verifiable = True  # the rules alone tell a solution
  default_network = "grid"  # cells attend along rows and columns; one choice a cell

  def __init__(self, *, size: int = 8, min_given: int = 1, max_given: int = 7, exclude=()):
    if not 4 <= size <= 12:
      raise ValueError(f"need a board size from 4 to 12, got {size}")
    if not 0 <= min_given <= max_given < size:
      raise ValueError(f"need 0 <= min_given <= max_given < {size}, got {min_given}, {max_given}")
    self.size, self.min_given, self.max_given = size, min_given, max_given
    self.excluded_keys = np.unique(np.asarray(exclude, np.uint32))
    self.num_actions = size * size  # a queen on cell r * n + c
    self.observation_shape = (size * size, 6)
    self.max_steps = size

  # --- array side -------------------------------------------------------------------

  def _safe(self, queens):
    """[n, n] bool: the empty cells no queen of `queens` ([n, n] bool) attacks."""
    n = self.size
    rows, cols = jnp.indices((n, n))
    diagonal = jax.ops.segment_max(queens.ravel(), (rows - cols + n - 1).ravel(), 2 * n - 1)
    anti = jax.ops.segment_max(queens.ravel(), (rows + cols).ravel(), 2 * n - 1)
    return ~(jnp.any(queens, 1)[:, None] | jnp.any(queens, 0)[None]
             | diagonal[rows - cols + n - 1] | anti[rows + cols])

  def _analyse(self, queens):
    """The safe cells, their counts a row and a column, the legal moves ([n*n] bool:
    the safe cells of the row to fill), and whether the board is a dead end."""
    queens = queens.reshape(self.size, self.size)
    safe = self._safe(queens)
    open_rows, open_cols = ~jnp.any(queens, 1), ~jnp.any(queens, 0)
    per_row, per_col = jnp.sum(safe, 1), jnp.sum(safe, 0)
    row = jnp.argmin(jnp.where(open_rows, per_row, self.size + 1))
    legal = safe & (jnp.arange(self.size) == row)[:, None] & open_rows[row]
    dead_end = jnp.any(open_rows & (per_row == 0)) | jnp.any(open_cols & (per_col == 0))
    return safe, per_row, per_col, legal.ravel(), dead_end

  def _random_solution(self, key):
    """A random solution ([n, n] bool) by random play in the same order, and whether
    that play reached one (the generator draws again when it did not)."""

    def place(i, carry):
      queens, failed = carry
      _, _, _, legal, dead_end = self._analyse(queens)
      noise = jax.random.uniform(jax.random.fold_in(key, i), legal.shape)
      cell = jnp.argmax(jnp.where(legal, noise, -1.0))
      failed |= dead_end
      placed = queens.ravel().at[cell].set(True).reshape(queens.shape)
      return jnp.where(failed, queens, placed), failed

    empty = jnp.zeros((self.size, self.size), bool)
    queens, failed = jax.lax.fori_loop(0, self.size, place, (empty, jnp.bool_(False)))
    return queens, ~failed & (jnp.sum(queens) == self.size)

  def sample_problem(self, key):
    def draw(key):
      solution_key, count_key, keep_key = jax.random.split(key, 3)
      queens, ok = self._random_solution(solution_key)
      given = jax.random.randint(count_key, (), self.min_given, self.max_given + 1)
      keep = jax.random.permutation(keep_key, self.size) < given  # rows keeping their queen
      return Board(queens=(queens & keep[:, None]).ravel()), ok

    return self._sample_accepted(key, draw)  # draws again until ok (and not held out)

  def _init(self, problem):
    empty = QueensState(
        observation=jnp.zeros(self.observation_shape), legal_action_mask=jnp.zeros(
            self.num_actions, bool), reward=jnp.float32(0), terminated=jnp.bool_(False),
        truncated=jnp.bool_(False), step_count=jnp.int32(0), problem=problem,
        queens=jnp.asarray(problem.queens, bool))
    return self._derive(empty)

  def _step(self, state, action):
    return self._derive(state.replace(queens=state.queens.at[action].set(True)))

  def _derive(self, state):
    """The state's observation, legal moves and outcome, from its queens."""
    safe, per_row, per_col, legal, dead_end = self._analyse(state.queens)
    solved = jnp.sum(state.queens) == self.size
    share = lambda count: 1.0 / jnp.maximum(count, 1)  # 1 marks a line's last safe cell
    observation = jnp.stack([
        state.queens, state.problem.queens, safe.ravel(), legal,
        (safe * share(per_row)[:, None]).ravel(), (safe * share(per_col)[None]).ravel(),
    ], axis=1).astype(jnp.float32)
    return state.replace(observation=observation, legal_action_mask=legal,
                         terminated=solved | dead_end, reward=solved.astype(jnp.float32))

  # --- host side --------------------------------------------------------------------

  def parse_problem(self, text):
    """A board as n*n characters row by row: Q for a queen, '.' or '_' for an empty
    cell; whitespace (reasoning-gym's spaces and line breaks) is ignored."""
    cells, n = "".join(text.split()), self.size
    if len(cells) != n * n or set(cells) - set("Q._"):
      raise ProblemError(f"{text!r}: a {n}x{n} board is {n * n} cells of Q, '.' or '_'")
    queens = np.array([ch == "Q" for ch in cells])
    if not no_two_attack(np.flatnonzero(queens), n):
      raise ProblemError(f"{text!r}: two of its queens attack each other")
    if queens.sum() == n:
      raise ProblemError(f"{text!r}: the board holds {n} queens already, nothing to place")
    return Board(queens=queens)

  def problem_text(self, problem):
    return "".join("Q" if q else "." for q in np.asarray(problem.queens))

  def answer_text(self, state):
    return "".join("Q" if q else "." for q in np.asarray(jax.device_get(state.queens)))

  def render(self, state):
    cells = self.answer_text(state)
    return "\n".join(" ".join(cells[r:r + self.size]) for r in range(0, len(cells), self.size))

  @staticmethod
  def reference_check(problem_text, answer_text):
    """n queens, no two sharing a row, column or diagonal, the problem's among them."""
    problem, answer = "".join(problem_text.split()), "".join(answer_text.split())
    n = math.isqrt(len(answer))
    if n * n != len(answer) or len(problem) != len(answer) or set(answer) - set("Q._"):
      return False
    placed = [i for i, ch in enumerate(answer) if ch == "Q"]
    given = [i for i, ch in enumerate(problem) if ch == "Q"]
    return len(placed) == n and set(given) <= set(placed) and no_two_attack(placed, n)


def no_two_attack(cells, n):
  """Plain Python: no two of the cells (r * n + c) share a row, column or diagonal."""
  spots = [divmod(int(cell), n) for cell in cells]
  return all(r1 != r2 and c1 != c2 and abs(r1 - r2) != abs(c1 - c2)
             for i, (r1, c1) in enumerate(spots) for r2, c2 in spots[i + 1:])


alphareason.register("n_queens-v0", "alphareason.puzzles.n_queens:NQueens",
                     description="N queens: complete 1 to 7 queens on 8x8 to 8", size=8)


# reasoning-gym's n_queens, read from each entry's metadata and scored by its verifier.
def rg_problem(entry):  # metadata["puzzle"]: rows of "_" and "Q"
  return "".join("".join(row) for row in entry["metadata"]["puzzle"])


def rg_answer(answer_text):  # reasoning-gym's layout: "_ Q _ _" a row, a row a line
  cells = answer_text.replace(".", "_")
  n = math.isqrt(len(cells))
  return "\n".join(" ".join(cells[r:r + n]) for r in range(0, n * n, n))


def rg_settings(config):  # reasoning-gym removes min_remove..max_remove queens of a solution
  n = config["n"]
  return dict(size=n, min_given=n - config["max_remove"], max_given=n - config["min_remove"])


alphareason.register_rg_task("n_queens", "n_queens-v0", problem_text=rg_problem,
                             to_rg_answer=rg_answer, env_settings=rg_settings,
                             presets=dict(hard=dict(min_remove=4, max_remove=6),  # the paper's
                                          empty=dict(min_remove=8, max_remove=8)))
