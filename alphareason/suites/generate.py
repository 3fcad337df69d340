"""The suites' problems in plain Python: no TensorFlow Datasets, no JAX arrays.

The builders in `builders.py` only package what these functions return, so everything
that decides a suite's content (seeds, split sizes, tiers, certificates) is here.
"""

from __future__ import annotations

import dataclasses
import fractions
import functools
import importlib.resources

import numpy as np

from alphareason.envs.arithmetic import OPERATORS, Arithmetic
from alphareason.envs.countdown import Countdown, CountdownProblem
from alphareason.envs.sudoku import Sudoku, grid_text
from alphareason.interop import jumanji
from alphareason.suites import countdown_solver, sudoku_solver

_INT_MAX = np.iinfo(np.int32).max
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}


@functools.cache
def _text_env() -> Countdown:
  return Countdown(min_numbers=2, max_numbers=9)


def problem_text(numbers, target: int) -> str:
  """The env's own text for a problem, so suite texts are what `problem_text` writes."""
  problem = CountdownProblem(numbers=np.asarray(numbers, np.int32),
                             count=np.int32(len(numbers)), target=np.int32(target))
  return _text_env().problem_text(problem)


def certify(text: str, certificate: str | None) -> str:
  """`certificate`, after the independent checker accepts it for `text`."""
  if certificate is None or not Countdown.reference_check(text, certificate):
    raise RuntimeError(f"no valid certificate for {text!r}: {certificate!r}")
  return certificate


# --- Game of 24 ----------------------------------------------------------------------

# The 1,362 solvable puzzles (4 numbers from 1..13), found by countdown_solver and
# checked against it by the tests. The split predates the TFDS builder; it must not
# change, or held-out problems of earlier runs would leak into training.
GAME24_SPLIT_SEED = 24
GAME24_VALIDATION = 100
GAME24_TEST = 500
# Difficulty tiers by the number of distinct solutions (`countdown_solver.count_solutions`): at most
# 4 is hard (412 puzzles), 5 to 10 medium (484), 11 or more easy (466).
GAME24_TIERS = ("easy", "medium", "hard")
GAME24_HARD_MAX_SOLUTIONS = 4
GAME24_MEDIUM_MAX_SOLUTIONS = 10


def game24_splits() -> dict[str, list[tuple[int, ...]]]:
  """Split name -> puzzles (sorted numbers), in the suite's fixed order."""
  text = importlib.resources.files("alphareason.suites").joinpath("data/game24.txt").read_text()
  puzzles = [tuple(int(x) for x in line.split()) for line in text.splitlines() if line.strip()]
  order = np.random.default_rng(GAME24_SPLIT_SEED).permutation(len(puzzles))
  shuffled = [puzzles[i] for i in order]
  end_test = GAME24_VALIDATION + GAME24_TEST
  return dict(train=shuffled[end_test:], validation=shuffled[:GAME24_VALIDATION],
              test=shuffled[GAME24_VALIDATION:end_test])


def game24_tier(num_solutions: int) -> str:
  if num_solutions <= GAME24_HARD_MAX_SOLUTIONS:
    return "hard"
  return "medium" if num_solutions <= GAME24_MEDIUM_MAX_SOLUTIONS else "easy"


def game24_examples(puzzles):
  """A suite example per puzzle: text, numbers, target, certificate, tier."""
  for numbers in puzzles:
    text = problem_text(numbers, 24)
    num_solutions = countdown_solver.count_solutions(numbers, 24)
    yield dict(problem=text, numbers=np.asarray(numbers, np.int32), target=24,
               solution=certify(text, countdown_solver.solve(numbers, 24)),
               num_solutions=num_solutions, tier=game24_tier(num_solutions))


# --- Countdown -----------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class CountdownSpec:
  """How one Countdown config's problems are drawn."""
  name: str
  min_numbers: int
  max_numbers: int
  seed: int
  min_value: int = 1
  max_value: int = 100
  min_target: int = 100
  max_target: int = 999
  validation: int = 100
  test: int = 500

  @property
  def description(self) -> str:
    count = (f"{self.min_numbers}" if self.min_numbers == self.max_numbers
             else f"{self.min_numbers} to {self.max_numbers}")
    return (f"Countdown: {count} numbers from {self.min_value}..{self.max_value}, "
            f"targets {self.min_target}..{self.max_target}")


# One config per count of numbers, and n4-6, the mix countdown-v0 trains on by default.
COUNTDOWN_SPECS = {
    **{f"n{n}": CountdownSpec(f"n{n}", n, n, seed=1000 + n) for n in range(3, 10)},
    "n4-6": CountdownSpec("n4-6", 4, 6, seed=1046),
}
COUNTDOWN_DEFAULT = "n4-6"
# countdown_solver certifies problems of up to this many numbers within the time
# budget (about 0.1 ms each for 4 numbers, up to seconds for 6); larger problems keep
# the random expression that made their target, checked independently instead.
SOLVER_MAX_NUMBERS = 4


def random_expression(rng: np.random.Generator, numbers) -> tuple[fractions.Fraction, str] | None:
  """The value and text of a random expression using every number once.

  Combines two random live numbers with a random operator until one is left, as a
  random play of the env does. None when a step divides by zero or leaves int32, so
  every accepted expression is also a legal play in the env.
  """
  items = [(fractions.Fraction(x), str(x), 3) for x in numbers]
  while len(items) > 1:
    i = int(rng.integers(len(items)))
    j = int(rng.integers(len(items) - 1))
    j += j >= i
    op = "+-*/"[int(rng.integers(4))]
    (xv, xs, xp), (yv, ys, yp) = items[i], items[j]
    if op == "/" and yv == 0:
      return None
    value = {"+": xv + yv, "-": xv - yv, "*": xv * yv, "/": xv / yv if yv else None}[op]
    if abs(value.numerator) > _INT_MAX or value.denominator > _INT_MAX:
      return None
    prec = _PRECEDENCE[op]
    left = f"({xs})" if xp < prec else xs
    right = f"({ys})" if yp < prec or (yp == prec and op in "-/") else ys
    items = [item for k, item in enumerate(items) if k not in (i, j)]
    items.append((value, f"{left}{op}{right}", prec))
  return items[0][0], items[0][1]


def countdown_splits(spec: CountdownSpec) -> dict[str, list[dict]]:
  """Split name -> examples, drawn from default_rng(spec.seed); no problem repeats."""
  rng = np.random.default_rng(spec.seed)
  examples, seen = [], set()
  while len(examples) < spec.validation + spec.test:
    count = int(rng.integers(spec.min_numbers, spec.max_numbers + 1))
    numbers = [int(x) for x in rng.integers(spec.min_value, spec.max_value + 1, count)]
    drawn = random_expression(rng, numbers)
    if drawn is None:
      continue
    value, expression = drawn
    if value.denominator != 1 or not spec.min_target <= value <= spec.max_target:
      continue
    target = int(value)
    key = (tuple(sorted(numbers)), target)
    if key in seen:
      continue
    seen.add(key)
    text = problem_text(numbers, target)
    certificate = countdown_solver.solve(numbers, target) if count <= SOLVER_MAX_NUMBERS else expression
    examples.append(dict(problem=text, numbers=np.asarray(numbers, np.int32), target=target,
                         solution=certify(text, certificate)))
  return dict(validation=examples[:spec.validation], test=examples[spec.validation:])


# --- Sudoku --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class SudokuSpec:
  """How one Sudoku config's puzzles are made."""
  name: str
  size: int  # 4 or 9: the grid is size x size, with the usual boxes
  min_clues: int
  max_clues: int
  seed: int
  validation: int = 100
  test: int = 500
  # A file of alphareason/suites/data with puzzles to draw symmetric variants of, instead of
  # removing clues from random grids ("" for removal).
  variants_of: str = ""

  @property
  def description(self) -> str:
    clues = (f"{self.min_clues}" if self.min_clues == self.max_clues
             else f"{self.min_clues} to {self.max_clues}")
    text = f"Sudoku {self.size}x{self.size}: {clues} clues, each puzzle with a unique solution"
    return text + (", variants of known puzzles" if self.variants_of else "")


def _sudoku_specs(size: int, tiers, validation: int, test: int) -> dict[str, SudokuSpec]:
  """A spec per (min_clues, max_clues), named c<min>-<max>, seeded by size and range
  (c22-24 on 9x9: seed 92224)."""
  return {f"c{lo}-{hi}": SudokuSpec(f"c{lo}-{hi}", size, lo, hi, seed=int(f"{size}{lo:02d}{hi:02d}"),
                                    validation=validation, test=test)
          for lo, hi in tiers}


# Tiers by clue count, and a mix of them all: the default, the range sudoku4-v0 and
# sudoku9-v0 draw. Removing clues from a random grid while the solution stays unique ends
# in a minimal puzzle of 4 to 6 clues on 4x4 (4 in about 70% of cases) and of 22 to 28 on
# 9x9 (about 3% at 22, 20% at 23, 35% at 24, 28% at 25, the rest more), so 22-24 is the
# hardest 9x9 tier removal makes in seconds; fewer clues (down to 17) would take a search
# over minimal puzzles.
SUDOKU4_SPECS = _sudoku_specs(4, [(4, 5), (6, 7), (8, 10), (4, 10)], validation=100, test=500)
SUDOKU4_DEFAULT = "c4-10"
# A minimal 9x9 puzzle takes about 30 ms, so 9x9 splits are smaller: a config builds in
# seconds.
SUDOKU9_SPECS = _sudoku_specs(9, [(22, 24), (25, 29), (30, 35), (22, 35)], validation=100, test=200)
# 17 clues, the fewest a unique 9x9 solution allows: random symmetric variants of nine
# published 17-clue puzzles (removal never gets there), so the tier tests 17 clues but
# holds only nine puzzles up to symmetry.
SUDOKU9_SPECS["c17"] = SudokuSpec("c17", 9, 17, 17, seed=91717, validation=100, test=200,
                                  variants_of="sudoku17.txt")
SUDOKU9_DEFAULT = "c22-35"


def symmetric_variant(rng: np.random.Generator, grid, box: tuple[int, int]) -> list[int]:
  """A random puzzle equivalent to `grid` (square boxes) under Sudoku's symmetries: the
  digits relabelled, the bands, the rows within each band, the stacks and the columns
  within each stack permuted, and a transposition or not. Each keeps every rule, so the
  clue count and the number of solutions stay the same."""
  rows_per_box, cols_per_box = box
  if rows_per_box != cols_per_box:
    raise ValueError(f"symmetric variants need square boxes, got {box}")
  n = rows_per_box * cols_per_box
  relabel = np.concatenate([[0], rng.permutation(n) + 1])
  g = relabel[np.asarray(grid).reshape(n, n)]

  def lines():  # a permutation of bands (stacks), then of lines within each
    k = rows_per_box
    return np.concatenate([band * k + rng.permutation(k) for band in rng.permutation(k)])

  g = g[lines()][:, lines()]
  return (g.T if rng.integers(2) else g).reshape(-1).tolist()


def _known_puzzles(name: str) -> list[list[int]]:
  text = importlib.resources.files("alphareason.suites").joinpath(f"data/{name}").read_text()
  return [[int(ch) for ch in line.strip()] for line in text.splitlines()
          if line.strip() and not line.startswith("#")]


def sudoku_splits(spec: SudokuSpec) -> dict[str, list[dict]]:
  """Split name -> examples, made from default_rng(spec.seed); no puzzle repeats.

  Each puzzle: a random complete grid, its cells emptied in random order while the
  solution stays unique, down to a clue count drawn uniformly from the spec's range; a
  puzzle whose removal ends (minimal) above the range is dropped. With `variants_of`,
  a random symmetric variant of one of that file's puzzles instead. The certificate is
  the unique solution, checked by Sudoku.reference_check and recounted by the solver.
  """
  rng = np.random.default_rng(spec.seed)
  box = sudoku_solver.box_shape(spec.size)
  known = _known_puzzles(spec.variants_of) if spec.variants_of else []
  examples, seen = [], set()
  while len(examples) < spec.validation + spec.test:
    if known:
      puzzle = symmetric_variant(rng, known[int(rng.integers(len(known)))], box)
      solution = sudoku_solver.solve(puzzle)
    else:
      target = int(rng.integers(spec.min_clues, spec.max_clues + 1))
      puzzle, solution = sudoku_solver.make_puzzle(rng, box, target)
    num_clues = sum(1 for digit in puzzle if digit)
    if not spec.min_clues <= num_clues <= spec.max_clues or tuple(puzzle) in seen:
      continue
    seen.add(tuple(puzzle))
    clues = np.asarray(puzzle, np.int32)
    text, certificate = grid_text(clues), grid_text(solution)
    if not Sudoku.reference_check(text, certificate) or sudoku_solver.count_solutions(puzzle) != 1:
      raise RuntimeError(f"no unique certified solution for {text!r}: {certificate!r}")
    examples.append(dict(problem=text, clues=clues, num_clues=num_clues, solution=certificate))
  return dict(validation=examples[:spec.validation], test=examples[spec.validation:])


# --- Token arithmetic ----------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ArithmeticSpec:
  """How one arithmetic config's problems are drawn: both operands have `digits` digits."""
  name: str
  operation: str  # "add" or "mul", as alphareason.envs.arithmetic.OPERATORS
  digits: int
  seed: int
  validation: int = 100
  test: int = 500

  @property
  def description(self) -> str:
    what = "sums" if self.operation == "add" else "products"
    return f"{what} of two {self.digits}-digit numbers"


def _arithmetic_specs(operation: str, digit_counts) -> dict[str, ArithmeticSpec]:
  """A spec per operand size, named d<n>, seeded by operation and size (add/d8: 108)."""
  first = 1 if operation == "add" else 2
  return {f"d{n}": ArithmeticSpec(f"d{n}", operation, n, seed=int(f"{first}{n:02d}"))
          for n in digit_counts}


# From 2 digits up: 1-digit operands make only 100 problems, too few to hold 600 out of
# training. The defaults are the sizes the project's targets name: 8-digit addition and
# 3x3-digit multiplication, the largest add-v0 and mul-v0 draw.
ADD_SPECS = _arithmetic_specs("add", range(2, 9))
ADD_DEFAULT = "d8"
MUL_SPECS = _arithmetic_specs("mul", range(2, 4))
MUL_DEFAULT = "d3"


def arithmetic_splits(spec: ArithmeticSpec) -> dict[str, list[dict]]:
  """Split name -> examples, drawn from default_rng(spec.seed); no problem repeats.

  Each operand is uniform over the numbers of exactly `spec.digits` digits; the
  certificate is the result by Python's integers, checked by Arithmetic.reference_check.
  """
  rng = np.random.default_rng(spec.seed)
  low, high = 10 ** (spec.digits - 1), 10 ** spec.digits
  symbol = OPERATORS[spec.operation]
  examples, seen = [], set()
  while len(examples) < spec.validation + spec.test:
    left, right = (int(x) for x in rng.integers(low, high, 2))
    if (left, right) in seen:
      continue
    seen.add((left, right))
    text = f"{left} {symbol} {right}"  # as Arithmetic.problem_text writes it
    certificate = str(left + right if spec.operation == "add" else left * right)
    if not Arithmetic.reference_check(text, certificate):
      raise RuntimeError(f"no valid certificate for {text!r}: {certificate!r}")
    examples.append(dict(problem=text, digits=spec.digits, solution=certificate))
  return dict(validation=examples[:spec.validation], test=examples[spec.validation:])


# --- jumanji's Sudoku databases (external, read by alphareason.interop.jumanji) ------

def jumanji_splits(spec: jumanji.JumanjiSpec) -> dict[str, list[dict]]:
  """Split name -> examples: the whole database, in its shipped order, as 'test'.

  The certificate is the solution sudoku_solver finds, checked by
  Sudoku.reference_check; `num_solutions` counts up to 2 (every shipped puzzle has 1).
  """
  examples = []
  for grid in jumanji.jumanji_database(spec):
    puzzle = [int(x) for x in grid.reshape(-1)]
    clues = np.asarray(puzzle, np.int32)
    text = grid_text(clues)
    solution = sudoku_solver.solve(puzzle)
    certificate = None if solution is None else grid_text(solution)
    if certificate is None or not Sudoku.reference_check(text, certificate):
      raise RuntimeError(f"no certified solution for jumanji puzzle {text!r}")
    examples.append(dict(problem=text, clues=clues, num_clues=int(np.count_nonzero(clues)),
                         num_solutions=sudoku_solver.count_solutions(puzzle, limit=2),
                         solution=certificate))
  return dict(test=examples)
