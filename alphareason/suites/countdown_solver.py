"""The Countdown solver in plain Python with exact fractions: find one solution, or count them.

Independent of the JAX environment: it finds the curated Game-of-24 list, certifies
generated problems, gives the Game-of-24 suite its difficulty tiers, and cross-checks the
environment in tests. Both searches combine two values by the one rule in `_outcomes`.
"""

from __future__ import annotations

import fractions
import itertools
from collections.abc import Iterator, Sequence

Fraction = fractions.Fraction
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}


def _outcomes(a: Fraction, b: Fraction) -> Iterator[tuple[str, bool, Fraction]]:
  """Each distinct result of combining a and b: (operator, whether b is the left operand,
  value). + and * once, - and / both ways, no division by zero."""
  yield "+", False, a + b
  yield "-", False, a - b
  yield "*", False, a * b
  if b:
    yield "/", False, a / b
  yield "-", True, b - a
  if a:
    yield "/", True, b / a


def _text(op: str, left: tuple[str, int], right: tuple[str, int]) -> tuple[str, int]:
  """An expression's text with minimal parentheses, and its precedence (3: a number)."""
  (left_text, left_prec), (right_text, right_prec) = left, right
  prec = _PRECEDENCE[op]
  if left_prec < prec:
    left_text = f"({left_text})"
  if right_prec < prec or (right_prec == prec and op in "-/"):
    right_text = f"({right_text})"
  return f"{left_text}{op}{right_text}", prec


def solve(numbers: Sequence[int], target: int) -> str | None:
  """An expression using every number once that equals `target`, or None."""
  goal = Fraction(target)
  failed: set[tuple[Fraction, ...]] = set()

  def search(items: list[tuple[Fraction, tuple[str, int]]]) -> str | None:
    if len(items) == 1:
      return items[0][1][0] if items[0][0] == goal else None
    key = tuple(sorted(value for value, _ in items))
    if key in failed:
      return None
    for i, j in itertools.combinations(range(len(items)), 2):
      rest = [items[k] for k in range(len(items)) if k not in (i, j)]
      (a, a_text), (b, b_text) = items[i], items[j]
      for op, swapped, value in _outcomes(a, b):
        text = _text(op, *((b_text, a_text) if swapped else (a_text, b_text)))
        found = search(rest + [(value, text)])
        if found is not None:
          return found
    failed.add(key)
    return None

  return search([(Fraction(n), (str(n), 3)) for n in numbers])


def count_solutions(numbers: Sequence[int], target: int) -> int:
  """How many distinct expressions over all `numbers` equal `target`.

  Expressions are counted up to commutativity of + and * only: (a+b)*c and c*(b+a) are
  one, (a+b)+c and a+(b+c) are two. Every expression tree is built once, by dynamic
  programming over subsets of the numbers, each keyed by a canonical text.
  """
  exprs = {1 << i: {str(x): Fraction(x)} for i, x in enumerate(numbers)}

  def build(mask):
    if mask not in exprs:
      out = {}
      low = mask & -mask  # split into a side with the lowest index and the rest: once each
      sub = (mask - 1) & mask
      while sub:
        if sub & low:
          for a_text, a in build(sub).items():
            for b_text, b in build(mask ^ sub).items():
              for op, swapped, value in _outcomes(a, b):
                left, right = (b_text, a_text) if swapped else (a_text, b_text)
                if op in "+*":  # commutative: one canonical order
                  left, right = sorted((left, right))
                out.setdefault(f"({left}{op}{right})", value)
        sub = (sub - 1) & mask
      exprs[mask] = out
    return exprs[mask]

  return sum(value == target for value in build((1 << len(numbers)) - 1).values())


def game24_puzzles() -> list[tuple[int, int, int, int]]:
  """The 1,820 multisets of four numbers from 1..13, sorted ascending, in order."""
  return list(itertools.combinations_with_replacement(range(1, 14), 4))
