"""Benchmark suites: fixed, versioned problem sets with validation and test splits.

Training never sees a problem of a suite's held-out splits: the trainer passes their
canonical problem keys to the env's generator, which rejects them.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.resources

import numpy as np

from alphareason.errors import UsageError


@dataclasses.dataclass(frozen=True)
class Suite:
  name: str
  version: str
  env_id: str
  description: str
  splits: dict[str, tuple[str, ...]]  # split name -> problem texts, in a fixed order

  def split(self, name: str) -> tuple[str, ...]:
    if name not in self.splits:
      raise UsageError(f"suite {self.name!r} has no split {name!r}; it has {', '.join(self.splits)}")
    return self.splits[name]

  @property
  def held_out(self) -> tuple[str, ...]:
    return self.splits["validation"] + self.splits["test"]


# The 1,362 solvable Game-of-24 puzzles (4 numbers from 1..13), found by the exhaustive
# solver in alphareason.solver and checked against it by the tests.
_GAME24_SPLIT_SEED = 24
_GAME24_VALIDATION = 100
_GAME24_TEST = 500


@functools.cache
def game24() -> Suite:
  text = importlib.resources.files("alphareason.eval").joinpath("data/game24.txt").read_text()
  puzzles = [f"{line.strip()} -> 24" for line in text.splitlines() if line.strip()]
  order = np.random.default_rng(_GAME24_SPLIT_SEED).permutation(len(puzzles))
  shuffled = [puzzles[i] for i in order]
  validation = tuple(shuffled[:_GAME24_VALIDATION])
  test = tuple(shuffled[_GAME24_VALIDATION:_GAME24_VALIDATION + _GAME24_TEST])
  train = tuple(shuffled[_GAME24_VALIDATION + _GAME24_TEST:])
  return Suite(name="game24", version="1.0.0", env_id="game24-v0",
               description="the 1,362 solvable Game-of-24 puzzles from 1..13",
               splits=dict(train=train, validation=validation, test=test))


_SUITES = {"game24": game24}
SUITE_NAMES = tuple(_SUITES)


def load_suite(name: str) -> Suite:
  if name not in _SUITES:
    raise UsageError(f"unknown suite {name!r}; known: {', '.join(SUITE_NAMES)}")
  return _SUITES[name]()
