"""An exhaustive Countdown solver in plain Python with exact fractions.

Independent of the JAX environment: it finds the curated Game-of-24 list, certifies
generated problems, and cross-checks the environment in tests.
"""

from __future__ import annotations

import fractions
import itertools
from collections.abc import Sequence

Fraction = fractions.Fraction


def solve(numbers: Sequence[int], target: int) -> str | None:
  """An expression using every number once that equals `target`, or None."""
  goal = Fraction(target)
  failed: set[tuple[Fraction, ...]] = set()

  def search(items: list[tuple[Fraction, str, int]]) -> str | None:
    if len(items) == 1:
      return items[0][1] if items[0][0] == goal else None
    key = tuple(sorted(value for value, _, _ in items))
    if key in failed:
      return None
    for a, b in itertools.combinations(range(len(items)), 2):
      rest = [items[k] for k in range(len(items)) if k not in (a, b)]
      for x, y in ((items[a], items[b]), (items[b], items[a])):
        for value, text, prec in _results(x, y):
          found = search(rest + [(value, text, prec)])
          if found is not None:
            return found
    failed.add(key)
    return None

  return search([(Fraction(n), str(n), 3) for n in numbers])


def _results(x, y):
  (xv, xs, xp), (yv, ys, yp) = x, y

  def wrap(s, p, need):
    return f"({s})" if p < need else s

  yield xv + yv, f"{xs}+{ys}", 1
  yield xv - yv, f"{xs}-{wrap(ys, yp, 2)}", 1
  yield xv * yv, f"{wrap(xs, xp, 2)}*{wrap(ys, yp, 2)}", 2
  if yv != 0:
    yield xv / yv, f"{wrap(xs, xp, 2)}/{wrap(ys, yp, 3)}", 2


def game24_puzzles() -> list[tuple[int, int, int, int]]:
  """The 1,820 multisets of four numbers from 1..13, sorted ascending, in order."""
  return list(itertools.combinations_with_replacement(range(1, 14), 4))
