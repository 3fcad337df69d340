"""reasoning-gym interop: its datasets as our problem texts, our answers scored by its verifiers.

reasoning-gym (PyPI `reasoning-gym`) generates reasoning tasks procedurally and scores an
answer text with each dataset's `score_answer(answer, entry)`. Here an entry becomes a
problem text one of our envs parses, built from the entry's metadata (never by parsing
its prompt), and an answer our env writes becomes the exact text that dataset's verifier
expects, so the scores reported are reasoning-gym's own.

  dataset       env          our problem text           answer rg expects (converted from ours)
  countdown     countdown-v0 "36 29 95 32 4 15 -> 139"  the expression, no "= target": ours as is
  puzzle24      game24-v0    "4 3 9 8 -> 24"            likewise
  mini_sudoku   sudoku4-v0   16 chars, '.' for empty    rows of space-separated digits, one a line
  sudoku        sudoku9-v0   81 chars, '.' for empty    likewise
  products      mul-v0       "1663 * 5242"              the number, as ours: "8717446"
  basic_arithmetic add-v0    "663 + 4242"               likewise

The token envs play part of what the two arithmetic datasets can make: products of two
whole numbers (rg's defaults), and for basic_arithmetic the sums of two whole numbers
that the preset `sums` asks for. basic_arithmetic's defaults mix 2 to 6 terms with - * /
(floor division), parentheses and negation, which no env here plays; asking for them is
a one-line error that names the preset.

Each verifier gives exactly 1.0 for a correct answer and less otherwise (0.01 or 0.05 for
the arithmetic games, up to 0.9 for a Sudoku grid with some cells right). Two differences
from our `reference_check` are reasoning-gym's, reported as they are: puzzle24's verifier
checks four numbers in the config's value range and `int(value) == 24`, not that they are
the problem's numbers nor that the value is exactly 24; and reasoning-gym's own countdown
solutions sometimes use unary minus ("-1 + 72*12"), which our answers never do.

`load_rg_problems` is the entry point; reasoning_gym is imported only when it is called.
A user's env plays an rg dataset through `register_rg_task` (`alphareason.register_rg_task`),
called from the user's env module: the table above is six such calls.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
from collections.abc import Callable, Sequence
from typing import Any

from alphareason import registry
from alphareason.env import Env, ProblemError
from alphareason.envs import sudoku
from alphareason.errors import UsageError
from alphareason.interop import INSTALL_HINT

RG_PREFIX = "rg:"  # how a reasoning-gym dataset is named where a suite name is expected

# --- conversions, one set per dataset ------------------------------------------------

def grid_text(rows: Sequence[Sequence[int]]) -> str:
  """A grid of digits (0 for empty), as rows, in our one-line Sudoku text."""
  return sudoku.grid_text([d for row in rows for d in row])


def _numbers_problem(entry: dict, target: int) -> str:
  numbers = " ".join(str(int(x)) for x in entry["metadata"]["numbers"])
  return f"{numbers} -> {target}"


def _countdown_problem(entry: dict) -> str:
  return _numbers_problem(entry, int(entry["metadata"]["target"]))


def _puzzle24_problem(entry: dict) -> str:
  # puzzle24's metadata has no target: its verifier always wants 24.
  return _numbers_problem(entry, 24)


def _text_answer(answer_text: str) -> str:
  """Our Countdown and arithmetic answers are already what rg's verifiers read: an infix
  expression over the numbers with * and /, without '= target', or the number. rg marks
  down any other text, even surrounding spaces, so they go. An unfinished Countdown
  episode's "a ; b" goes through unchanged, and rg scores it as unparseable."""
  return answer_text.strip()


def _two_term_problem(entry: dict) -> str:
  """rg's expression, "1663 * 5242": already our arithmetic problem text."""
  return entry["metadata"]["expression"]


def _sudoku_problem(size: int) -> Callable[[dict], str]:
  def convert(entry: dict) -> str:
    puzzle = entry["metadata"]["puzzle"]
    if len(puzzle) != size or any(len(row) != size for row in puzzle):
      raise ValueError(f"puzzle is not {size}x{size}")
    return grid_text(puzzle)
  return convert


def _sudoku_answer(size: int) -> Callable[[str], str]:
  def convert(answer_text: str) -> str:
    """Our one-line grid as rg's: a row a line, digits separated by single spaces, '_' for
    an empty cell, no trailing whitespace or newline (rg scales the score down for any
    text longer than its own solution's)."""
    cells = "".join(answer_text.split())
    if len(cells) != size * size:
      return answer_text  # not a grid of this size: rg scores the text as it is
    rows = (cells[r * size:(r + 1) * size] for r in range(size))
    return "\n".join(" ".join("_" if ch in ".0" else ch for ch in row) for row in rows)
  return convert


# --- rg config -> our env's settings -------------------------------------------------

def _unsupported(dataset: str, config: dict, why: str) -> UsageError:
  return UsageError(f"reasoning-gym {dataset} with {_changed_fields(dataset, config)} is not "
                    f"supported: {why}")


def _products_settings(config: dict) -> dict[str, Any]:
  if config["max_terms"] != 2 or config["allow_negation"]:
    raise _unsupported("products", config, "mul-v0 multiplies two whole numbers "
                       "(max_terms=2, allow_negation=False)")
  return dict(min_digits=config["min_digits"], max_digits=config["max_digits"])


def _basic_arithmetic_settings(config: dict) -> dict[str, Any]:
  if (config["max_terms"] != 2 or tuple(config["operators"]) != ("+",)
      or config["allow_negation"] or config["allow_parentheses"]):
    raise _unsupported("basic_arithmetic", config, "add-v0 adds two whole numbers; "
                       "rg:basic_arithmetic/sums is that part of the dataset")
  return dict(min_digits=config["min_digits"], max_digits=config["max_digits"])


def _countdown_settings(config: dict) -> dict[str, Any]:
  # Countdown's constructor checks the limits (at most 9 numbers, int32-safe ranges).
  return {key: config[key] for key in (
      "min_numbers", "max_numbers", "min_value", "max_value", "min_target", "max_target")}


def _puzzle24_settings(config: dict) -> dict[str, Any]:
  if set(config["operators"]) != {"+", "-", "*", "/"}:
    # rg's prompt tells the solver which operators it may use; our env always offers all four.
    raise UsageError(f"reasoning-gym puzzle24 with operators {tuple(config['operators'])} is "
                     "not supported: game24-v0 always allows + - * /")
  return dict(min_value=config["min_value"], max_value=config["max_value"])


def _sudoku_settings(size: int) -> Callable[[dict], dict[str, Any]]:
  def settings(config: dict) -> dict[str, Any]:
    cells = size * size
    if config["min_empty"] < 1:
      raise UsageError(f"reasoning-gym {size}x{size} sudoku with min_empty={config['min_empty']} "
                       "is not supported: our Sudoku env needs at least one empty cell")
    # rg removes fewer cells than asked when more would break uniqueness, so a puzzle may
    # have more clues than this; the env's clue range shapes only the puzzles it draws.
    return dict(min_clues=cells - config["max_empty"], max_clues=cells - config["min_empty"])
  return settings


@dataclasses.dataclass(frozen=True)
class RgTask:
  """How one reasoning-gym dataset is played by one of our envs."""

  dataset: str  # rg's dataset name, "countdown"
  env_id: str  # our env that plays it
  problem_text: Callable[[dict], str]  # rg entry -> our problem text (from its metadata)
  to_rg_answer: Callable[[str], str]  # our answer text -> the text rg's verifier expects
  env_settings: Callable[[dict], dict[str, Any]]  # rg config -> our env's settings
  presets: dict[str, dict[str, Any]]  # preset name -> rg config fields, beside "default"


_TASKS: dict[str, RgTask] = {}
_plugin_tasks: set[str] = set()  # datasets a plug-in registered: any other registration wins


def register_rg_task(dataset: str, env_id: str, *, problem_text: Callable[[dict], str],
                     to_rg_answer: Callable[[str], str] = str.strip,
                     env_settings: Callable[[dict], dict[str, Any]] = lambda config: {},
                     presets: dict[str, dict[str, Any]] | None = None) -> None:
  """Makes reasoning-gym's `dataset` playable by `env_id` as `--suite rg:DATASET[/PRESET]`.

  `problem_text(entry)` writes an rg entry as a problem text the env parses (from the
  entry's metadata, not its prompt; raise KeyError, TypeError or ValueError where it
  cannot). `to_rg_answer(answer_text)` turns the env's answer text into what the
  dataset's `score_answer` expects (default: stripped of surrounding whitespace).
  `env_settings(config)` maps rg's config (its defaults with a preset's fields on top)
  to the env's settings that hold its problems, and raises a UsageError for a config
  the env cannot play. `presets` name rg configs reported beside the defaults. A user's
  env module calls this beside `alphareason.register`; a dataset is registered once, a
  plug-in's registration giving way to any other as `alphareason.register`'s does.
  """
  if "default" in (presets or {}):
    raise ValueError("'default' is rg's own config: name presets otherwise")
  if registry.shadowed(dataset in _TASKS, dataset in _plugin_tasks,
                       f"reasoning-gym dataset {dataset!r}",
                       f"played by {_TASKS[dataset].env_id}" if dataset in _TASKS else ""):
    return
  _TASKS[dataset] = RgTask(dataset, env_id, problem_text, to_rg_answer, env_settings,
                           dict(presets or {}))
  (_plugin_tasks.add if registry.loading_plugin() else _plugin_tasks.discard)(dataset)


def supported() -> tuple[str, ...]:
  """The reasoning-gym datasets that some registered env plays, in registration order."""
  registry.load_plugins()
  return tuple(_TASKS)


register_rg_task("countdown", "countdown-v0", problem_text=_countdown_problem,
                 to_rg_answer=_text_answer, env_settings=_countdown_settings,
                 presets=dict(harder=dict(min_numbers=3, max_numbers=9)))
register_rg_task("puzzle24", "game24-v0", problem_text=_puzzle24_problem,
                 to_rg_answer=_text_answer, env_settings=_puzzle24_settings,
                 presets=dict(harder=dict(min_value=1, max_value=6)))
# As specified for the project's report, though 6 to 10 empty cells leave more clues than
# rg's default of 8 to 12: this preset is easier than the default, not harder.
register_rg_task("mini_sudoku", "sudoku4-v0", problem_text=_sudoku_problem(4),
                 to_rg_answer=_sudoku_answer(4), env_settings=_sudoku_settings(4),
                 presets=dict(harder=dict(min_empty=6, max_empty=10)))
register_rg_task("sudoku", "sudoku9-v0", problem_text=_sudoku_problem(9),
                 to_rg_answer=_sudoku_answer(9), env_settings=_sudoku_settings(9))
# Factors of 1 to 3 digits, the sizes a mul-v0 agent for mul/d3 plays.
register_rg_task("products", "mul-v0", problem_text=_two_term_problem,
                 to_rg_answer=_text_answer, env_settings=_products_settings,
                 presets=dict(d3=dict(max_digits=3)))
# The part of basic_arithmetic that add-v0 plays: a sum of two whole numbers.
register_rg_task("basic_arithmetic", "add-v0", problem_text=_two_term_problem,
                 to_rg_answer=_text_answer, env_settings=_basic_arithmetic_settings,
                 presets=dict(sums=dict(min_terms=2, max_terms=2, operators=("+",),
                                        allow_negation=False, allow_parentheses=False)))


def rg_task(name: str) -> RgTask:
  """The registered task of 'rg:countdown/harder', 'countdown/harder' or 'countdown'."""
  return _TASKS[parse_rg_name(name)[0]]


def to_rg_answer(name: str, answer_text: str) -> str:
  """Our answer text for dataset `name` as the exact text its `score_answer` expects."""
  return rg_task(name).to_rg_answer(answer_text)


# --- names, presets and configs ------------------------------------------------------

def parse_rg_name(name: str) -> tuple[str, str]:
  """'rg:countdown/harder', 'countdown/harder' or 'countdown' -> ('countdown', 'harder'),
  the preset 'default' when none is named; a UsageError for what is not supported."""
  dataset, _, preset = name.removeprefix(RG_PREFIX).partition("/")
  if dataset not in _TASKS and dataset not in supported():  # supported() loads plugins
    raise UsageError(f"unknown reasoning-gym dataset {dataset!r}; supported: "
                     f"{', '.join(supported())} (an env module registers more: "
                     "register_rg_task)")
  preset = preset or "default"
  if preset not in presets(dataset):
    raise UsageError(f"reasoning-gym {dataset} has no preset {preset!r}; it has "
                     f"{', '.join(presets(dataset))}")
  return dataset, preset


def presets(name: str) -> tuple[str, ...]:
  """The presets of a supported dataset: 'default', then those the project reports."""
  return ("default", *_TASKS[name].presets)


def rg_config(name: str, preset: str = "default") -> dict[str, Any]:
  """reasoning-gym's config for dataset `name` (size and seed left out): its own
  defaults, read from the installed version, with the preset's fields on top. The
  preset may be given in `name` instead ('countdown/harder')."""
  dataset, named_preset = parse_rg_name(name)
  preset = named_preset if preset == "default" else preset
  if preset not in presets(dataset):
    raise UsageError(f"reasoning-gym {dataset} has no preset {preset!r}; it has "
                     f"{', '.join(presets(dataset))}")
  defaults = _rg_defaults(dataset)
  overrides = _TASKS[dataset].presets.get(preset, {})
  _check_fields(dataset, defaults, overrides)
  return {**defaults, **overrides}


def _rg_defaults(dataset: str) -> dict[str, Any]:
  config_cls = _import_reasoning_gym().factory.DATASETS[dataset][1]
  config = dataclasses.asdict(config_cls())
  return {key: value for key, value in config.items() if key not in ("seed", "size")}


def _check_fields(dataset: str, config: dict, overrides: dict) -> None:
  unknown = sorted(set(overrides) - set(config))
  if unknown:
    raise UsageError(f"reasoning-gym {dataset} has no config field {', '.join(unknown)}; "
                     f"its fields: {', '.join(config)}")


def _changed_fields(dataset: str, config: dict) -> str:
  """The fields of `config` that differ from rg's defaults, as "key=value, ..."."""
  defaults = _rg_defaults(dataset)
  changed = {key: value for key, value in config.items() if defaults.get(key) != value}
  return ", ".join(f"{key}={value!r}" for key, value in changed.items()) or "its defaults"


# --- the loader ----------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class RgProblems:
  """reasoning-gym entries as our problems, with the env to play them and rg's scoring."""

  name: str  # the rg dataset, "countdown"
  preset: str  # "default" or a registered preset, before any explicit config fields
  config: dict[str, Any]  # the full rg config the entries were made with, less size and seed
  size: int
  seed: int
  rg_version: str  # the installed reasoning-gym's version: it fixes what size and seed mean
  env_id: str
  # Our env's settings that reproduce rg's ranges, where they differ from env_id's
  # registered ones: registry.make(env_id, **env_overrides) draws problems like rg's.
  env_overrides: dict[str, Any]
  problem_texts: tuple[str, ...]  # entry i as our problem text
  entries: tuple[dict, ...] = dataclasses.field(repr=False)  # rg's entries, as it made them
  dataset: Any = dataclasses.field(repr=False, compare=False)  # rg's dataset: its score_answer

  def __len__(self) -> int:
    return len(self.problem_texts)

  @property
  def suite_name(self) -> str:
    """'rg:countdown' or 'rg:countdown/harder'."""
    return RG_PREFIX + self.name + ("" if self.preset == "default" else f"/{self.preset}")

  @property
  def description(self) -> str:
    fields = ", ".join(f"{key}={value!r}" for key, value in self.config.items())
    return (f"reasoning-gym {self.rg_version} {self.name}, size {self.size}, seed {self.seed}: "
            f"{fields}")

  def make_env(self) -> Env:
    """Our env with rg's ranges (see `env_overrides`)."""
    return registry.make(self.env_id, **self.env_overrides)

  def check_env(self, env: Env) -> None:
    """A UsageError unless `env` (a checkpoint's, say) is `env_id` and parses every problem.

    Its settings may differ from `env_overrides` as long as the problems fit: countdown-v0
    as registered holds rg's default countdown, but not 3 to 9 numbers (at most 6).
    """
    env_id = getattr(env, "env_id", None)
    if env_id != self.env_id:
      raise UsageError(f"{self.suite_name} is played by {self.env_id}; this env is {env_id}")
    for index, text in enumerate(self.problem_texts):
      try:
        env.parse_problem(text)
      except ProblemError as error:
        flags = " ".join(f"--config.env.{key}={value!r}" for key, value in self.env_overrides.items())
        raise UsageError(f"{self.suite_name} problem {index} does not fit this {env_id} "
                         f"({error}); it needs {env_id} "
                         f"{f'with {flags}' if flags else 'as registered'}") from None

  def summary_fields(self) -> dict:
    """What an evaluation's summary records of these problems: rg's config, size and seed."""
    return dict(reasoning_gym=dict(config=self.config, size=self.size, seed=self.seed))

  def to_rg_answer(self, answer_text: str) -> str:
    """Our answer text as the exact text this dataset's `score_answer` expects."""
    return _TASKS[self.name].to_rg_answer(answer_text)

  def score(self, index: int, answer_text: str) -> float:
    """reasoning-gym's score of our answer to problem `index`: 1.0 when it is correct."""
    return float(self.dataset.score_answer(self.to_rg_answer(answer_text), self.entries[index]))

  def score_run(self, run: dict) -> dict:
    """An evaluation run record (`alphareason.eval.evaluate.play_strategies`) with rg's verdict added: `rg_score` on each row, and
    rg_solved (rows scoring 1.0), rg_accuracy, rg_mean_score and rg_disagreements (rows
    where rg's full marks and our reference_check differ) on the run.

    Rows are matched to problems by position, as the evaluator keeps them (a prefix of
    `problem_texts` when the run was limited to the first N).
    """
    rows = run["results"]
    if len(rows) > len(self):
      raise ValueError(f"{len(rows)} rows for {len(self)} {self.suite_name} problems")
    scored = []
    for index, row in enumerate(rows):
      if row["problem"] != self.problem_texts[index]:
        raise ValueError(f"row {index} is {row['problem']!r}, not {self.suite_name} problem "
                         f"{index} {self.problem_texts[index]!r}")
      scored.append(dict(row, rg_score=self.score(index, row["answer"])))
    full = [row["rg_score"] >= 1.0 for row in scored]
    return dict(run, results=scored, rg_solved=sum(full),
                rg_accuracy=sum(full) / max(len(scored), 1),
                rg_mean_score=sum(row["rg_score"] for row in scored) / max(len(scored), 1),
                rg_disagreements=sum(f != row["reference_check"] for f, row in zip(full, scored)))


def load_rg_problems(name: str, size: int, seed: int, **config) -> RgProblems:
  """reasoning-gym's dataset `name` (entries 0..size-1 at `seed`) as our problems.

  `name` is a dataset, optionally with a preset and the suite prefix: 'countdown',
  'countdown/harder', 'rg:countdown/harder'. `config` sets rg config fields on top of
  the preset's (e.g. max_numbers=5). A config our env cannot hold, or that rg rejects, is
  a UsageError.
  """
  dataset_name, preset = parse_rg_name(name)
  if size < 1:
    raise UsageError(f"reasoning-gym {dataset_name}: size must be at least 1, got {size}")
  rg = _import_reasoning_gym()
  base = rg_config(dataset_name, preset)
  _check_fields(dataset_name, base, config)
  full_config = {**base, **config}
  adapter = _TASKS[dataset_name]
  try:
    dataset = rg.create_dataset(dataset_name, size=size, seed=seed, **full_config)
  except (AssertionError, TypeError, ValueError) as error:  # rg's config.validate asserts
    raise UsageError(f"reasoning-gym rejects {dataset_name} with "
                     f"{_changed_fields(dataset_name, full_config)}: {error}") from None

  settings = adapter.env_settings(full_config)
  registered = registry.spec(adapter.env_id).kwargs
  overrides = {key: value for key, value in settings.items() if registered.get(key) != value}
  try:
    registry.make(adapter.env_id, **overrides)  # the env's own checks of its limits
  except ValueError as error:
    raise UsageError(f"reasoning-gym {dataset_name} with "
                     f"{_changed_fields(dataset_name, full_config)} does not fit "
                     f"{adapter.env_id}: {error}") from None

  version = _rg_version(rg)
  entries, texts = [], []
  for index in range(size):
    try:
      entry = dataset[index]
    except (RuntimeError, ValueError) as error:  # e.g. countdown: no expression hits the targets
      raise UsageError(f"reasoning-gym {dataset_name} cannot make entry {index}: {error}") from None
    try:
      text = adapter.problem_text(entry)
    except (KeyError, TypeError, ValueError) as error:
      # Written against reasoning-gym 0.1.25's metadata; a later version may change it.
      raise UsageError(f"reasoning-gym {version} {dataset_name} entry {index} has metadata "
                       f"this interop cannot read ({type(error).__name__}: {error})") from None
    entries.append(entry)
    texts.append(text)
  return RgProblems(
      name=dataset_name, preset=preset, config=full_config, size=size, seed=seed,
      rg_version=version, env_id=adapter.env_id, env_overrides=overrides,
      problem_texts=tuple(texts), entries=tuple(entries), dataset=dataset)


def _import_reasoning_gym():
  """reasoning_gym, imported on first use: it is an optional extra."""
  try:
    import reasoning_gym
    import reasoning_gym.factory
  except ImportError as error:
    raise UsageError(f"reasoning-gym interop needs the reasoning-gym package ({error}): "
                     f"{INSTALL_HINT}") from None
  return reasoning_gym


def _rg_version(rg) -> str:
  # The distribution's version: reasoning_gym.__version__ lags it (0.1.25 says 0.1.19).
  try:
    return importlib.metadata.version("reasoning-gym")
  except importlib.metadata.PackageNotFoundError:
    return str(getattr(rg, "__version__", "unknown"))
