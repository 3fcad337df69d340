"""The suites as TensorFlow Datasets builders, one per env family, used without TensorFlow.

Examples are plain numpy features (text, int32 scalars and vectors, a class label)
written as array_record files, which `as_data_source()` reads by random access with no
TensorFlow import. Generation is offline and deterministic (`generate.py`); nothing is
downloaded. Changing what a builder writes means a new VERSION and a RELEASE_NOTES line:
a data dir keeps every version it has built, each in its own folder.

The builders skip TFDS's global registry (`skip_registration`): alphareason looks them up
in `BUILDERS`, so their short names cannot clash with TFDS catalog datasets, and
importing this module twice (as test runners can) is harmless.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import tensorflow_datasets as tfds

from alphareason.interop import jumanji
from alphareason.suites import generate


def _problem_features(**extra) -> tfds.features.FeaturesDict:
  return tfds.features.FeaturesDict(dict(
      problem=tfds.features.Text(),  # "25 50 75 100 3 6 -> 952", as Countdown.problem_text
      numbers=tfds.features.Tensor(shape=(None,), dtype=np.int32),
      target=np.int32,
      solution=tfds.features.Text(),  # a certificate that Countdown.reference_check accepts
      **extra))


class Game24(tfds.core.GeneratorBasedBuilder, skip_registration=True):
  """The 1,362 solvable Game-of-24 puzzles, four numbers from 1..13.

  Splits, unchanged from before TFDS: numpy default_rng(24) permutes the curated list
  (alphareason/suites/data/game24.txt); validation is the first 100, test the next 500,
  train the remaining 762. Each example has a certificate found by
  alphareason.suites.countdown_solver, `num_solutions`, the count of distinct solution expressions up to commutativity of
  + and *, and a difficulty `tier` from it: hard for 1 to 4 solutions (412 puzzles),
  medium for 5 to 10 (484), easy for 11 or more (466).
  """

  name = "game24"
  ENV_ID = "game24-v0"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "The 1,362 puzzles in the pre-TFDS split, with certificates and tiers."}

  def _info(self) -> tfds.core.DatasetInfo:
    # DatasetInfo directly: dataset_info_from_configs would look for metadata files
    # beside this module. No shuffling: examples keep the order they are generated in,
    # which is the suite's fixed problem order.
    return tfds.core.DatasetInfo(
        builder=self, description=self.__doc__, disable_shuffling=True,
        features=_problem_features(
            num_solutions=np.int32,
            tier=tfds.features.ClassLabel(names=generate.GAME24_TIERS)))

  def _split_generators(self, dl_manager):
    del dl_manager  # offline: the puzzle list ships with the package
    return {split: self._generate_examples(puzzles)
            for split, puzzles in generate.game24_splits().items()}

  def _generate_examples(self, puzzles):
    yield from enumerate(generate.game24_examples(puzzles))


@dataclasses.dataclass(eq=False)
class SpecConfig(tfds.core.BuilderConfig):
  spec: Any = None  # a generate.*Spec: everything that decides the config's content


def _configs(specs) -> list[SpecConfig]:
  return [SpecConfig(name=name, description=spec.description, spec=spec)
          for name, spec in specs.items()]


class _FromSpec(tfds.core.GeneratorBasedBuilder, skip_registration=True):
  """A builder whose configs each carry a spec, made into examples by split, offline,
  by `make_splits(spec)` (a function of generate.py); `features(spec)` describes them."""

  make_splits: Callable[[Any], dict[str, list[dict]]]

  def features(self, spec) -> tfds.features.FeaturesDict:
    raise NotImplementedError

  def _info(self) -> tfds.core.DatasetInfo:
    # DatasetInfo directly, and no shuffling, as for Game24.
    return tfds.core.DatasetInfo(builder=self, description=self.__doc__, disable_shuffling=True,
                                 features=self.features(self.builder_config.spec))

  def _split_generators(self, dl_manager):
    del dl_manager  # offline: nothing is downloaded
    make_splits = type(self).make_splits  # a plain function, not a method
    return {split: self._generate_examples(examples)
            for split, examples in make_splits(self.builder_config.spec).items()}

  def _generate_examples(self, examples):
    yield from enumerate(examples)


class Countdown(_FromSpec, skip_registration=True):
  """Countdown problems by difficulty: numbers from 1..100, an integer target in 100..999.

  Configs n3 ... n9 hold problems with that many numbers; n4-6 (the default) mixes 4 to
  6, as countdown-v0 draws them. Each config has a validation split of 100 problems and
  a test split of 500, drawn by numpy default_rng with the config's own seed (1003 ...
  1009; 1046 for n4-6): random numbers, and as target the value of a random expression
  over all of them, kept when it is an integer in range and every step fits int32. The
  certificate is alphareason.suites.countdown_solver's answer for up to 4 numbers and that
  random expression for more (the solver takes seconds a problem from 6 numbers on); every
  certificate is checked by Countdown.reference_check. No problem repeats in a config.
  """

  name = "countdown"
  ENV_ID = "countdown-v0"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Configs n3 to n9 and n4-6, 100 validation and 500 test problems each."}
  BUILDER_CONFIGS = _configs(generate.COUNTDOWN_SPECS)
  DEFAULT_BUILDER_CONFIG_NAME = generate.COUNTDOWN_DEFAULT
  make_splits = generate.countdown_splits

  def features(self, spec) -> tfds.features.FeaturesDict:
    return _problem_features()


def _grid_features(cells: int, **extra) -> tfds.features.FeaturesDict:
  return tfds.features.FeaturesDict(dict(
      problem=tfds.features.Text(),  # "..1.94.3.4...", as Sudoku.problem_text
      clues=tfds.features.Tensor(shape=(cells,), dtype=np.int32),  # 0 for empty
      num_clues=np.int32,
      solution=tfds.features.Text(),  # the unique solution, which Sudoku.reference_check accepts
      **extra))


class _Sudoku(_FromSpec, skip_registration=True):
  """What the Sudoku builders share; each size is its own builder, for its own env id."""

  VERSION = tfds.core.Version("1.0.0")
  make_splits = generate.sudoku_splits

  def features(self, spec) -> tfds.features.FeaturesDict:
    return _grid_features(spec.size ** 2)


class Sudoku4(_Sudoku, skip_registration=True):
  """4x4 Sudoku puzzles (2x2 boxes) with unique solutions, by number of clues.

  Configs c4-5, c6-7 and c8-10 hold puzzles with that many clues; c4-10 (the default)
  mixes them, as sudoku4-v0 draws them. Each config has a validation split of 100 puzzles
  and a test split of 500, made by numpy default_rng with the config's own seed (40405,
  40607, 40810, 40410): clues removed from a random complete grid while the solution
  stays unique (alphareason.suites.sudoku_solver). The certificate is that unique solution,
  checked by Sudoku.reference_check. No puzzle repeats in a config; the 4x4 space is
  small, so configs share some puzzles, and training on sudoku4-v0 can meet a tier's
  puzzles unless that tier is the holdout suite.
  """

  name = "sudoku4"
  ENV_ID = "sudoku4-v0"
  RELEASE_NOTES = {"1.0.0": "Configs c4-5, c6-7, c8-10 and c4-10, 100 validation and 500 test puzzles each."}
  BUILDER_CONFIGS = _configs(generate.SUDOKU4_SPECS)
  DEFAULT_BUILDER_CONFIG_NAME = generate.SUDOKU4_DEFAULT


class Sudoku9(_Sudoku, skip_registration=True):
  """9x9 Sudoku puzzles (3x3 boxes) with unique solutions, by number of clues.

  Configs c22-24 (hard: the fewest clues that removal reaches quickly, mostly 23 and 24),
  c25-29 and c30-35 hold puzzles with that many clues; c22-35 (the default) mixes them,
  as sudoku9-v0 draws them. Each config has a validation split of 100 puzzles and a test
  split of 200, made by numpy default_rng with the config's own seed (92224, 92529, 93035,
  92235): clues removed in random order from a random complete grid while the solution
  stays unique (alphareason.suites.sudoku_solver), down to a clue count drawn from the range.
  c17 holds 17-clue puzzles, the fewest possible, which removal does not reach: random
  symmetric variants (digits relabelled, rows, columns, bands and stacks permuted,
  transposed) of nine published 17-clue puzzles (alphareason/suites/data/sudoku17.txt),
  seed 91717. The certificate is that unique solution, checked by Sudoku.reference_check.
  No puzzle repeats in a config.
  """

  name = "sudoku9"
  ENV_ID = "sudoku9-v0"
  VERSION = tfds.core.Version("1.1.0")
  RELEASE_NOTES = {"1.0.0": "Configs c22-24, c25-29, c30-35 and c22-35, 100 validation and 200 test puzzles each.",
                   "1.1.0": "Adds c17; the other configs are unchanged."}
  BUILDER_CONFIGS = _configs(generate.SUDOKU9_SPECS)
  DEFAULT_BUILDER_CONFIG_NAME = generate.SUDOKU9_DEFAULT


class _Arithmetic(_FromSpec, skip_registration=True):
  """What the arithmetic builders share; each operation is its own builder, for its env id."""

  VERSION = tfds.core.Version("1.0.0")
  make_splits = generate.arithmetic_splits

  def features(self, spec) -> tfds.features.FeaturesDict:
    return tfds.features.FeaturesDict(dict(
        problem=tfds.features.Text(),  # "12345678 + 87654321", as Arithmetic.problem_text
        digits=np.int32,  # digits of each operand
        solution=tfds.features.Text(),  # the result, which Arithmetic.reference_check accepts
    ))


class Addition(_Arithmetic, skip_registration=True):
  """Sums of two whole numbers with the same number of digits, for add-v0.

  Configs d2 ... d8 hold sums of two numbers of exactly that many digits; d8 is the
  default. Each config has a validation split of 100 problems and a test split of 500,
  drawn uniformly by numpy default_rng with the config's own seed (102 ... 108). The
  certificate is the sum, checked by Arithmetic.reference_check. No problem repeats.
  """

  name = "add"
  ENV_ID = "add-v0"
  RELEASE_NOTES = {"1.0.0": "Configs d2 to d8, 100 validation and 500 test problems each."}
  BUILDER_CONFIGS = _configs(generate.ADD_SPECS)
  DEFAULT_BUILDER_CONFIG_NAME = generate.ADD_DEFAULT


class Multiplication(_Arithmetic, skip_registration=True):
  """Products of two whole numbers with the same number of digits, for mul-v0.

  Configs d2 and d3 hold products of two numbers of exactly that many digits; d3 is the
  default. Each config has a validation split of 100 problems and a test split of 500,
  drawn uniformly by numpy default_rng with the config's own seed (202, 203). The
  certificate is the product, checked by Arithmetic.reference_check. No problem repeats.
  """

  name = "mul"
  ENV_ID = "mul-v0"
  RELEASE_NOTES = {"1.0.0": "Configs d2 and d3, 100 validation and 500 test problems each."}
  BUILDER_CONFIGS = _configs(generate.MUL_SPECS)
  DEFAULT_BUILDER_CONFIG_NAME = generate.MUL_DEFAULT


class JumanjiSudoku(_FromSpec, skip_registration=True):
  """jumanji's shipped 9x9 Sudoku databases, an external suite (the `interop` extra).

  Configs mixed (the default: 10,000 puzzles of 25 to 77 clues) and very-easy (1,000 of
  46 to 80) hold the puzzles of jumanji's Sudoku env, read from the installed package's
  data files, which must be byte for byte those of jumanji 1.1 (their SHA-256 is
  checked). One split, test, in the shipped order. The certificate is a solution found
  by alphareason.suites.sudoku_solver and checked by Sudoku.reference_check; num_solutions
  counts up to 2.
  """

  name = "jumanji_sudoku"
  ENV_ID = "sudoku9-v0"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "jumanji 1.1's mixed and very-easy databases, as one test split."}
  BUILDER_CONFIGS = _configs(jumanji.JUMANJI_SPECS)
  DEFAULT_BUILDER_CONFIG_NAME = jumanji.JUMANJI_DEFAULT
  make_splits = generate.jumanji_splits  # read from the installed jumanji, offline

  def features(self, spec) -> tfds.features.FeaturesDict:
    return _grid_features(81, num_solutions=np.int32)


BUILDERS = {builder.name: builder for builder in (Game24, Countdown, Sudoku4, Sudoku9,
                                                  Addition, Multiplication, JumanjiSudoku)}
