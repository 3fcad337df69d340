"""An exact Sudoku solver and puzzle maker in plain Python.

Independent of the JAX environment: it certifies suite puzzles (a unique solution, and
that solution), makes them by removing clues from random complete grids, and cross-checks
the environment in tests.

Grids are flat sequences of N*N ints, row by row, 0 for an empty cell, N = box_rows *
box_cols; a box is box_rows rows tall and box_cols columns wide. Digit d is bit d-1 of a
candidate mask. Each search node propagates naked singles (a cell with one candidate) and
hidden singles (a digit with one place left in a row, column or box) to a fixed point, then
branches on the empty cell with the fewest candidates (MRV).

The suites are made from `random_grid` and `make_puzzle` with seeded generators: a change
to their random choices (or to the search order they follow) changes the suites' puzzles,
and needs a new suite version.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np


class Geometry:
  """The static structure of an N x N grid with box_rows x box_cols boxes."""

  def __init__(self, box_rows: int, box_cols: int):
    self.box_rows, self.box_cols = box_rows, box_cols
    self.size = n = box_rows * box_cols
    self.cells = n * n
    self.full_mask = (1 << n) - 1
    self.row_of = [cell // n for cell in range(self.cells)]
    self.col_of = [cell % n for cell in range(self.cells)]
    self.box_of = [(r // box_rows) * box_rows + c // box_cols
                   for r, c in zip(self.row_of, self.col_of)]
    rows = [[r * n + c for c in range(n)] for r in range(n)]
    cols = [[r * n + c for r in range(n)] for c in range(n)]
    boxes = [[cell for cell in range(self.cells) if self.box_of[cell] == b] for b in range(n)]
    self.units = rows + cols + boxes
    self.digit_of_bit = {1 << (d - 1): d for d in range(1, n + 1)}
    self.popcount = [bin(mask).count("1") for mask in range(1 << n)]


@functools.cache
def geometry(box_rows: int, box_cols: int) -> Geometry:
  return Geometry(box_rows, box_cols)


def box_shape(size: int) -> tuple[int, int]:
  """The usual boxes of an N x N Sudoku: as square as N allows, wider than tall (6 -> 2x3)."""
  rows = max(r for r in range(1, math.isqrt(size) + 1) if size % r == 0)
  return rows, size // rows


def _geometry_of(grid: Sequence[int], box: tuple[int, int] | None) -> Geometry:
  size = math.isqrt(len(grid))
  if size * size != len(grid) or size < 1:
    raise ValueError(f"a grid has N*N cells, got {len(grid)}")
  box_rows, box_cols = box or box_shape(size)
  if box_rows * box_cols != size:
    raise ValueError(f"boxes of {box_rows}x{box_cols} do not tile a {size}x{size} grid")
  return geometry(box_rows, box_cols)


class _Contradiction(Exception):
  pass


class _Search:
  """Depth-first search for up to `limit` solutions.

  `allowed` restricts each cell's digits beyond the rules (a mask per cell), which is how
  a uniqueness test asks for a solution that differs from a known one in a given cell.
  With `rng`, branches are tried in random order, which is how random grids are made.
  """

  def __init__(self, geo: Geometry, limit: int, allowed: list[int] | None = None,
               rng: np.random.Generator | None = None):
    self.geo, self.limit, self.rng = geo, limit, rng
    self.allowed = allowed if allowed is not None else [geo.full_mask] * geo.cells
    self.solutions: list[list[int]] = []
    self.nodes = 0

  def run(self, grid: Sequence[int]) -> list[list[int]]:
    try:
      grid, candidates = self._propagate(list(grid))
    except _Contradiction:
      return self.solutions
    self._branch(grid, candidates)
    return self.solutions

  def _candidates(self, grid: list[int]) -> list[int]:
    """Every cell's candidate mask (0 for filled cells); raises when two digits clash."""
    geo = self.geo
    n = geo.size
    row_used, col_used, box_used = [0] * n, [0] * n, [0] * n
    for cell, digit in enumerate(grid):
      if digit:
        bit = 1 << (digit - 1)
        r, c, b = geo.row_of[cell], geo.col_of[cell], geo.box_of[cell]
        if (row_used[r] | col_used[c] | box_used[b]) & bit:
          raise _Contradiction
        row_used[r] |= bit
        col_used[c] |= bit
        box_used[b] |= bit
    row_of, col_of, box_of, allowed = geo.row_of, geo.col_of, geo.box_of, self.allowed
    return [0 if digit else allowed[cell] & ~(row_used[row_of[cell]] | col_used[col_of[cell]]
                                              | box_used[box_of[cell]])
            for cell, digit in enumerate(grid)]

  def _propagate(self, grid: list[int]) -> tuple[list[int], list[int]]:
    """Places naked and hidden singles until none is left (in place); returns the grid
    and its candidate masks, or raises when the grid has no completion."""
    geo = self.geo
    while True:
      candidates = self._candidates(grid)
      placed = False
      for cell, mask in enumerate(candidates):
        if not grid[cell]:
          if not mask:
            raise _Contradiction
          if not mask & (mask - 1):
            grid[cell] = geo.digit_of_bit[mask]
            placed = True
      if placed:
        continue  # singles placed in one pass may clash; the next pass's masks tell
      for unit in geo.units:
        once = twice = present = 0
        for cell in unit:
          digit = grid[cell]
          if digit:
            present |= 1 << (digit - 1)
          else:
            mask = candidates[cell]
            twice |= once & mask
            once |= mask
        if (once | present) != geo.full_mask:
          raise _Contradiction  # some digit has no place left in this unit
        # `present` drops digits placed in this unit earlier in this pass, whose stale
        # candidates elsewhere in the unit would otherwise look like hidden singles.
        hidden = once & ~twice & ~present
        while hidden:
          bit = hidden & -hidden
          hidden ^= bit
          for cell in unit:
            if candidates[cell] & bit:
              grid[cell] = geo.digit_of_bit[bit]
              candidates[cell] = 0  # a cell that is the only place of two digits: the next pass sees it
              placed = True
              break
      if not placed:
        return grid, candidates

  def _branch(self, grid: list[int], candidates: list[int]) -> None:
    self.nodes += 1
    popcount = self.geo.popcount
    best_cell, best_count = -1, self.geo.size + 1
    for cell, mask in enumerate(candidates):
      if mask and popcount[mask] < best_count:
        best_cell, best_count = cell, popcount[mask]
        if best_count == 2:  # propagation leaves no singles, so 2 is the least there is
          break
    if best_cell < 0:
      self.solutions.append(grid)
      return
    mask = candidates[best_cell]
    digits = [d for bit, d in self.geo.digit_of_bit.items() if mask & bit]
    if self.rng is not None:
      self.rng.shuffle(digits)
    for digit in digits:
      if len(self.solutions) >= self.limit:
        return
      child = list(grid)
      child[best_cell] = digit
      try:
        child, child_candidates = self._propagate(child)
      except _Contradiction:
        continue
      self._branch(child, child_candidates)


def solve(grid: Sequence[int], box: tuple[int, int] | None = None) -> list[int] | None:
  """A completion of `grid` that obeys every rule and keeps every clue, or None."""
  solutions = _Search(_geometry_of(grid, box), limit=1).run(grid)
  return solutions[0] if solutions else None


def count_solutions(grid: Sequence[int], box: tuple[int, int] | None = None, *,
                    limit: int = 2) -> int:
  """The number of completions of `grid`, counted up to `limit` (2 tells unique from not)."""
  return len(_Search(_geometry_of(grid, box), limit=limit).run(grid))


def random_grid(rng: np.random.Generator, box: tuple[int, int]) -> list[int]:
  """A random complete grid: randomized search from the empty grid."""
  geo = geometry(*box)
  solutions = _Search(geo, limit=1, rng=rng).run([0] * geo.cells)
  return solutions[0]


def _unique_without(puzzle: list[int], cell: int, geo: Geometry) -> bool:
  """Whether `puzzle`, whose solution is unique, stays unique with `cell` emptied.

  It does exactly when no completion of the smaller puzzle puts another digit there: one
  search for a single solution, cheaper than counting two.
  """
  allowed = [geo.full_mask] * geo.cells
  allowed[cell] = geo.full_mask & ~(1 << (puzzle[cell] - 1))
  smaller = list(puzzle)
  smaller[cell] = 0
  return not _Search(geo, limit=1, allowed=allowed).run(smaller)


def make_puzzle(rng: np.random.Generator, box: tuple[int, int], num_clues: int,
                ) -> tuple[list[int], list[int]]:
  """A puzzle with a unique solution and as few clues as the removal reaches, down to
  `num_clues`, with that solution: (puzzle, solution).

  Removes the clues of a random complete grid in random order, keeping each whose removal
  would allow a second solution. The result has exactly `num_clues` clues when the removal
  gets that far, and more when it ends in a minimal puzzle first (every clue needed).
  """
  geo = geometry(*box)
  solution = random_grid(rng, box)
  puzzle = list(solution)
  clues = geo.cells
  for cell in rng.permutation(geo.cells).tolist():
    if clues <= num_clues:
      break
    if _unique_without(puzzle, cell, geo):
      puzzle[cell] = 0
      clues -= 1
  return puzzle, solution
