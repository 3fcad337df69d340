"""Benchmark suites: fixed, versioned problem sets with validation and test splits.

Each env family's suite is a TensorFlow Datasets builder (`builders.py`), used without
TensorFlow: built once into a data dir as array_record files, then read back from disk.
Training never sees a problem of a suite's held-out splits: the trainer passes their
canonical problem keys to the env's generator, which rejects them.

Names: "game24", "countdown/<config>" for each Countdown difficulty,
"sudoku4/<config>" and "sudoku9/<config>" for each range of clue counts, and
"add/d<n>" and "mul/d<n>" for each operand size. A family's plain name means its default
config: for Countdown and Sudoku the mix its env draws (countdown/n4-6, sudoku4/c4-10,
sudoku9/c22-35), for arithmetic the largest size its env draws (add/d8, mul/d3).
"jumanji_sudoku/mixed" and "jumanji_sudoku/very-easy" are jumanji's shipped 9x9
databases, an external suite that needs the `interop` extra. "rg:NAME[/PRESET]" is a
reasoning-gym dataset (the same extra), made at a size and seed and scored by
reasoning-gym's own verifier beside ours (`Suite.external`).

`load_suite` resolves every one of these names: it is the one place a suite name means
something.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import os
import pathlib
import sys
from typing import Any

from alphareason.env import Env, ProblemError
from alphareason.errors import UsageError
from alphareason.interop import reasoning_gym
from alphareason.interop.jumanji import JUMANJI_DEFAULT, JUMANJI_SPECS
from alphareason.suites.generate import (
    ADD_DEFAULT, ADD_SPECS, COUNTDOWN_DEFAULT, COUNTDOWN_SPECS, MUL_DEFAULT, MUL_SPECS,
    SUDOKU4_DEFAULT, SUDOKU4_SPECS, SUDOKU9_DEFAULT, SUDOKU9_SPECS)

_FAMILIES = {"countdown": (COUNTDOWN_SPECS, COUNTDOWN_DEFAULT),
             "sudoku4": (SUDOKU4_SPECS, SUDOKU4_DEFAULT),
             "sudoku9": (SUDOKU9_SPECS, SUDOKU9_DEFAULT),
             "add": (ADD_SPECS, ADD_DEFAULT),
             "mul": (MUL_SPECS, MUL_DEFAULT),
             "jumanji_sudoku": (JUMANJI_SPECS, JUMANJI_DEFAULT)}
SUITE_NAMES = ("game24", *(f"{family}/{name}" for family, (specs, _) in _FAMILIES.items()
                           for name in specs))
_ALIASES = {family: f"{family}/{default}" for family, (_, default) in _FAMILIES.items()}
_SPLIT_ORDER = ("train", "validation", "test")

__all__ = ("SUITE_NAMES", "Suite", "default_data_dir", "load_suite")


@dataclasses.dataclass(frozen=True)
class Suite:
  name: str  # "game24", "countdown/n6", "sudoku9/c22-24"
  version: str  # "1.0.0", the builder's VERSION
  env_id: str
  description: str
  splits: dict[str, tuple[str, ...]]  # split name -> problem texts, in a fixed order
  # split name -> every example's features (problem, numbers, target, solution, and per
  # family more, such as game24's tier), in the order of `splits`
  examples: dict[str, tuple[dict, ...]] = dataclasses.field(
      default_factory=dict, repr=False, compare=False)
  # A verifier from elsewhere that scores answers beside ours: reasoning-gym's
  # (`alphareason.interop.reasoning_gym.RgProblems`) for rg: suites, else None.
  external: Any = dataclasses.field(default=None, repr=False, compare=False)

  def split(self, name: str) -> tuple[str, ...]:
    if name not in self.splits:
      raise UsageError(f"suite {self.name!r} has no split {name!r}; it has {', '.join(self.splits)}")
    return self.splits[name]

  @property
  def held_out(self) -> tuple[str, ...]:
    """What training must never see: validation and test (an external suite has only test)."""
    return self.splits.get("validation", ()) + self.splits.get("test", ())

  def check_env(self, env: Env) -> None:
    """A UsageError unless `env` (a checkpoint's, say) plays this suite: its env id, and
    settings that hold every problem (a 9-number Countdown suite needs max_numbers=9)."""
    if self.external is not None:
      self.external.check_env(env)  # names the settings rg's ranges need
      return
    env_id = getattr(env, "env_id", None)
    if env_id != self.env_id:
      raise UsageError(f"suite {self.name} is for {self.env_id}; this env is {env_id}")
    for split, problems in self.splits.items():
      for index, text in enumerate(problems):
        try:
          env.parse_problem(text)
        except ProblemError as error:
          raise UsageError(f"suite {self.name} {split} problem {index} does not fit this "
                           f"{env_id} ({error})") from None


def user_cache_dir() -> pathlib.Path:
  """alphareason's folder in the user's cache directory ($XDG_CACHE_HOME or ~/.cache)."""
  cache = os.environ.get("XDG_CACHE_HOME", "")
  # The XDG spec says to ignore a relative path here.
  base = pathlib.Path(cache) if os.path.isabs(cache) else pathlib.Path.home() / ".cache"
  return base / "alphareason"


def default_data_dir() -> pathlib.Path:
  """Where suites are built unless told otherwise: the user's cache directory."""
  return user_cache_dir() / "tensorflow_datasets"


def load_suite(name: str, *, data_dir=None, rg_size: int = 500, rg_seed: int = 0) -> Suite:
  """The suite `name`, built into `data_dir` on first use and read from there after.

  An "rg:" name is reasoning-gym's dataset, entries 0..rg_size-1 at rg_seed, as one test
  split; `external` holds reasoning-gym's verifier.
  """
  if name.startswith(reasoning_gym.RG_PREFIX):
    return _rg_suite(name, rg_size, rg_seed)
  canonical = _ALIASES.get(name, name)
  if canonical not in SUITE_NAMES:
    aliases = ", ".join(f"{alias} means {target}" for alias, target in _ALIASES.items())
    raise UsageError(f"unknown suite {name!r}; known: {', '.join(SUITE_NAMES)} ({aliases})")
  family, _, config = canonical.partition("/")
  from alphareason.suites import builders  # TFDS loads only once a suite is used

  data_dir = pathlib.Path(default_data_dir() if data_dir is None else data_dir).expanduser()
  builder_cls = builders.BUILDERS[family]
  folder = data_dir.joinpath(family, config, str(builder_cls.VERSION))

  def open_builder():
    try:
      return builder_cls(data_dir=os.fspath(data_dir), config=config or None,
                         file_format="array_record")
    except Exception as error:  # an unreadable dataset_info.json, say
      raise UsageError(f"suite {canonical} in {folder} is damaged ({_first_line(error)}); "
                       "delete that folder to rebuild it") from None

  with _quiet_tfds():
    builder = open_builder()
    if not builder.is_prepared():
      with _build_lock(folder.with_name(folder.name + ".lock"), canonical):
        # Another process may have built it while this one waited: read theirs.
        builder = open_builder()
        if not builder.is_prepared():
          _build(builder, canonical)
  return _read(builder, canonical)


def _rg_suite(name: str, size: int, seed: int) -> Suite:
  problems = reasoning_gym.load_rg_problems(name, size, seed)
  examples = tuple(dict(entry, problem=text)
                   for entry, text in zip(problems.entries, problems.problem_texts))
  return Suite(name=problems.suite_name, version=problems.rg_version, env_id=problems.env_id,
               description=problems.description, splits={"test": problems.problem_texts},
               examples={"test": examples}, external=problems)


@contextlib.contextmanager
def _quiet_tfds():
  """Silences TFDS's chatter: its progress bars, stdout lines and absl warnings."""
  from tensorflow_datasets.core.utils import tqdm_utils

  logger = logging.getLogger("absl")
  level, progress = logger.level, tqdm_utils._active  # global switches, so restored after
  logger.setLevel(logging.ERROR)
  tqdm_utils.display_progress_bar(False)
  try:
    # TFDS prints "Downloading and preparing ..." to stdout, which is for results.
    with contextlib.redirect_stdout(io.StringIO()):
      yield
  finally:
    logger.setLevel(level)
    tqdm_utils.display_progress_bar(progress)


@contextlib.contextmanager
def _build_lock(path: pathlib.Path, name: str):
  """Holds the lock of one suite's build, so that processes starting on the same suite at
  once (a training run and an evaluation, say) build it once."""
  import filelock

  try:
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(path)
    try:
      lock.acquire(timeout=0)
    except filelock.Timeout:
      print(f"alphareason: waiting for another process to build suite {name} ({path})",
            file=sys.stderr)
      lock.acquire()
  except OSError as error:
    raise UsageError(f"cannot build suite {name} in {path.parent}: {error}") from None
  try:
    yield
  finally:
    lock.release()


def _build(builder, name: str) -> None:
  import tensorflow_datasets as tfds

  print(f"alphareason: building suite {name} v{builder.version} in {builder.data_dir} "
        "(once)", file=sys.stderr)
  try:
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(try_download_gcs=False))
  except OSError as error:
    raise UsageError(f"cannot build suite {name} in {builder.data_dir}: {error}") from None


def _read(builder, name: str) -> Suite:
  info = builder.info
  examples = {}
  for split in sorted(info.splits, key=_split_rank):
    try:
      source = builder.as_data_source(split=split)
      records = source.__getitems__(range(len(source)))
      if len(records) != info.splits[split].num_examples:
        raise ValueError(f"{len(records)} examples, not {info.splits[split].num_examples}")
      examples[split] = tuple(_decode(record, info.features) for record in records)
    except Exception as error:  # array_record and TFDS raise several kinds on a bad file
      files = sorted(pathlib.Path(builder.data_dir).glob(f"*-{split}.array_record*"))
      where = ", ".join(map(str, files)) or f"the {split} split in {builder.data_dir}"
      raise UsageError(f"suite {name}: cannot read {where} ({_first_line(error)}); delete "
                       f"{builder.data_dir} to rebuild it") from None
  description = (builder.builder_config.description if builder.builder_config
                 else info.description.strip().splitlines()[0])
  splits = {split: tuple(e["problem"] for e in rows) for split, rows in examples.items()}
  return Suite(name=name, version=str(builder.version), env_id=builder.ENV_ID,
               description=description, splits=splits, examples=examples)


def _decode(record: dict, features) -> dict:
  """A record's numpy values as plain Python: str, int, tuples of ints, label names."""
  import tensorflow_datasets as tfds

  out = {}
  for key, value in record.items():
    if isinstance(value, bytes):
      out[key] = value.decode()
    elif isinstance(features[key], tfds.features.ClassLabel):
      out[key] = features[key].int2str(int(value))
    elif getattr(value, "ndim", 0):
      out[key] = tuple(int(x) for x in value)
    else:
      out[key] = int(value)
  return out


def _split_rank(split: str) -> int:
  return _SPLIT_ORDER.index(split) if split in _SPLIT_ORDER else len(_SPLIT_ORDER)


def _first_line(error: Exception) -> str:
  text = str(error).strip()
  return text.splitlines()[0] if text else type(error).__name__
