"""Versioned environment ids: register, make, list.

Entry points are "module:attribute" strings imported only when an env is made, so
importing alphareason reads nothing from disk and imports no env module.

A user's envs come in one of two ways, neither editing this package: a module that
calls `register` (named by a config's `env_module` or the command's `--env-module`), or
an installed distribution that declares such a module under the entry-point group
`alphareason.envs` (`[project.entry-points."alphareason.envs"] my_puzzles = "my_puzzles"`).
Entry-point modules are imported the first time an id is not found, or the ids are
listed, never at import time. So a plug-in is a fallback: an id registered otherwise (built
in, or by a module imported by name) shadows a plug-in's of the same id, whichever of the
two is imported first, and a user can replace a shipped plug-in's env with a module of
their own.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import os
import re
import sys
from typing import Any

from alphareason.env import Env
from alphareason.errors import UsageError, first_line

PLUGIN_GROUP = "alphareason.envs"  # entry points naming modules that register envs
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_]*(?:-[a-z0-9_]+)*-v\d+$")


@dataclasses.dataclass(frozen=True)
class EnvSpec:
  env_id: str
  entry_point: str  # "module:Class"
  kwargs: dict[str, Any]
  description: str


_REGISTRY: dict[str, EnvSpec] = {}
_plugins_loaded = False
_loading_plugin = False  # True while load_plugins imports the entry points' modules
_plugin_ids: set[str] = set()  # the ids registered by a plug-in, which others may shadow


class UnknownEnvError(KeyError):
  def __str__(self):
    return self.args[0]


def register(env_id: str, entry_point: str, *, description: str = "", **kwargs) -> None:
  """Registers `env_id` ("name-vN"); registering an id twice is an error, except that a
  plug-in's registration gives way to any other (see the module's docstring)."""
  if not _ID_RE.match(env_id):
    raise ValueError(f"env id {env_id!r} must look like 'name-v0'")
  if shadowed(env_id in _REGISTRY, env_id in _plugin_ids, f"env id {env_id!r}"):
    return
  _REGISTRY[env_id] = EnvSpec(env_id, entry_point, dict(kwargs), description)
  (_plugin_ids.add if _loading_plugin else _plugin_ids.discard)(env_id)


def shadowed(taken: bool, taken_by_plugin: bool, what: str, holder: str = "") -> bool:
  """Whether a registration of `what` gives way to an earlier one: a plug-in's to any
  other. A ValueError for two registrations of which neither is a plug-in's."""
  if not taken:
    return False
  if _loading_plugin:
    return True
  if not taken_by_plugin:
    raise ValueError(f"{what} is already registered{f' ({holder})' if holder else ''}")
  return False  # a module imported by name replaces the plug-in's


def spec(env_id: str) -> EnvSpec:
  if env_id not in _REGISTRY:
    load_plugins()
  try:
    return _REGISTRY[env_id]
  except KeyError:
    known = ", ".join(sorted(_REGISTRY))
    raise UnknownEnvError(f"unknown env id {env_id!r}; known: {known}") from None


def load_plugins() -> None:
  """Imports, once, every module the installed distributions declare under the
  entry-point group `alphareason.envs`; each registers its envs (and reasoning-gym
  tasks) as it is imported. A plugin that fails to load is one line naming it."""
  global _plugins_loaded, _loading_plugin
  if _plugins_loaded:
    return
  _plugins_loaded = True  # set first: a plugin may look ids up as it registers
  for entry_point in importlib.metadata.entry_points(group=PLUGIN_GROUP):
    _loading_plugin = True
    try:
      entry_point.load()
    except Exception as error:
      raise UsageError(f"the alphareason.envs plugin {entry_point.name!r} "
                       f"({entry_point.value}) fails to load: {first_line(error)}") from None
    finally:
      _loading_plugin = False


def loading_plugin() -> bool:
  """Whether the registrations now made are a plug-in's (register_rg_task asks)."""
  return _loading_plugin


def make(env_id: str, **overrides) -> Env:
  """Builds the env registered as `env_id`, with keyword overrides of its settings."""
  env_spec = spec(env_id)
  module_name, _, attribute = env_spec.entry_point.partition(":")
  env_class = getattr(importlib.import_module(module_name), attribute)
  env = env_class(**{**env_spec.kwargs, **overrides})
  env.env_id = env_id
  return env


def import_user_module(module_name: str):
  """Imports a user's module (one that registers envs, say) from the current directory
  too, as `python -c "import name"` would; a failure is one line."""
  cwd = os.getcwd()
  added = cwd not in sys.path
  if added:
    sys.path.insert(0, cwd)
  try:
    return importlib.import_module(module_name)
  except ModuleNotFoundError as error:
    missing = error.name or ""
    if module_name == missing or module_name.startswith(missing + "."):  # not one of its imports
      raise UsageError(f"no module named {module_name!r} (looked in the current directory "
                       "and on sys.path)") from None
    raise UsageError(f"cannot import {module_name!r}: {first_line(error)}") from None
  except Exception as error:  # the user's module fails as it loads: say how, in one line
    raise UsageError(f"cannot import {module_name!r}: {first_line(error)}") from None
  finally:
    if added and cwd in sys.path:
      sys.path.remove(cwd)


def module_names(text: str) -> list[str]:
  """"a, b.c" -> ["a", "b.c"]: the modules an `env_module` setting names."""
  return [name.strip() for name in text.split(",") if name.strip()]


def import_env_module(config) -> None:
  """Imports the modules a config's `env_module` names (comma-separated), which
  register the user's envs."""
  for module_name in module_names(config.get("env_module", "")):  # absent from old checkpoints
    import_user_module(module_name)


def registered_envs() -> list[EnvSpec]:
  load_plugins()
  return [_REGISTRY[k] for k in sorted(_REGISTRY)]


register("game24-v0", "alphareason.envs.countdown:Countdown",
         description="The Game of 24: 4 numbers in 1..13, reach 24 using each once",
         min_numbers=4, max_numbers=4, min_value=1, max_value=13, target=24)
register("countdown-v0", "alphareason.envs.countdown:Countdown",
         description="Countdown: 4 to 6 numbers in 1..100, a target in 100..999, all used",
         min_numbers=4, max_numbers=6, min_value=1, max_value=100,
         min_target=100, max_target=999)
register("sudoku4-v0", "alphareason.envs.sudoku:Sudoku",
         description="Sudoku 4x4 (2x2 boxes), 4 to 10 clues",
         size=4, min_clues=4, max_clues=10)
register("sudoku9-v0", "alphareason.envs.sudoku:Sudoku",
         description="Sudoku 9x9 (3x3 boxes), 22 to 35 clues",
         size=9, min_clues=22, max_clues=35)
register("add-v0", "alphareason.envs.arithmetic:Arithmetic",
         description="Addition of two 1 to 8 digit numbers, written digit by digit (msd first)",
         operation="add", min_digits=1, max_digits=8, digit_order="msd")
register("mul-v0", "alphareason.envs.arithmetic:Arithmetic",
         description="Multiplication of two 1 to 3 digit numbers, written digit by digit (msd first)",
         operation="mul", min_digits=1, max_digits=3, digit_order="msd")
