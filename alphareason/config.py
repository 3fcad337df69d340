"""Experiment configs: `get_config()` files, `--config.key=value` overrides, validation.

A config file is a Python module with `get_config() -> ConfigDict`, loaded with importlib
(never exec'd text). Overrides are type-checked by ConfigDict and every value is
validated before anything is compiled, so a bad value fails in a second with one line.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import pathlib
import sys
from collections.abc import Sequence

import jax
import ml_collections

from alphareason.errors import UsageError


def split_overrides(arguments: Sequence[str]) -> tuple[list[str], list[str]]:
  """Command-line `--config.key=value` arguments as "key=value" overrides, and the rest."""
  prefix = "--config."
  return ([a[len(prefix):] for a in arguments if a.startswith(prefix)],
          [a for a in arguments if not a.startswith(prefix)])


def load_config(path: str | pathlib.Path, overrides: Sequence[str] = ()) -> ml_collections.ConfigDict:
  """Loads `path`'s get_config(), applies "key=value" overrides, validates."""
  path = pathlib.Path(path)
  if not path.is_file():
    raise UsageError(f"config file not found: {path}")
  spec = importlib.util.spec_from_file_location(f"_alphareason_config_{path.stem}", path)
  module = importlib.util.module_from_spec(spec)
  # Variants import their base as `from configs import game24`: let the folder that holds
  # the config's folder be importable while it loads.
  sys.path.insert(0, str(path.resolve().parent.parent))
  try:
    spec.loader.exec_module(module)
    config = module.get_config()
  except Exception as error:  # a user's config file: report it, don't trace it
    raise UsageError(f"cannot load config {path}: {type(error).__name__}: {error}") from None
  finally:
    sys.path.pop(0)
  for override in overrides:
    apply_override(config, override)
  validate(config)
  return config


def config_from_json(text: str) -> ml_collections.ConfigDict:
  return ml_collections.ConfigDict(json.loads(text))


def apply_override(config: ml_collections.ConfigDict, override: str) -> None:
  """Sets one "a.b.c=value"; the value is a Python literal, or else a plain string."""
  key, sep, raw = override.partition("=")
  if not sep or not key:
    raise UsageError(f"config override {override!r} must look like key=value")
  try:
    value = ast.literal_eval(raw)
  except (ValueError, SyntaxError):
    value = raw
  *parents, leaf = key.split(".")
  node = config
  for i, part in enumerate(parents):
    if not isinstance(node, ml_collections.ConfigDict) or part not in node:
      raise UsageError(f"unknown config key {'.'.join(parents[:i + 1])!r}")
    node = node[part]
  if parents == ["env"] and isinstance(node, ml_collections.ConfigDict) and leaf not in node:
    # A config lists only the env settings it changes; the env's constructor checks the rest.
    node[leaf] = value
    return
  if not isinstance(node, ml_collections.ConfigDict) or leaf not in node:
    raise UsageError(f"unknown config key {key!r}")
  if isinstance(node[leaf], ml_collections.ConfigDict):
    raise UsageError(f"config key {key!r} is a group; set one of its fields")
  current = node[leaf]
  # ConfigDict lets an int into a float field; it rejects other type changes.
  if isinstance(current, bool) != isinstance(value, bool) and current is not None:
    raise UsageError(f"bad value for {key}: expected {type(current).__name__}, got {raw!r}")
  try:
    node[leaf] = value
  except TypeError:
    raise UsageError(
        f"bad value for {key}: expected {type(current).__name__}, got {raw!r}") from None


def validate(config: ml_collections.ConfigDict) -> None:
  """Range checks for every field that could fail later, deep inside a compiled loop."""
  from alphareason import networks, registry, search  # keep config imports light

  def require(ok: bool, message: str):
    if not ok:
      raise UsageError(f"bad config: {message}")

  registry.import_env_module(config)
  try:
    registry.spec(config.env_id)
  except registry.UnknownEnvError as error:
    raise UsageError(str(error)) from None
  s = config.search
  require(s.policy in search.SEARCH_POLICIES, f"search.policy must be one of {search.SEARCH_POLICIES}, got {s.policy!r}")
  require(s.num_simulations >= 1, f"search.num_simulations must be at least 1, got {s.num_simulations}")
  require(s.max_num_considered_actions >= 1, "search.max_num_considered_actions must be at least 1")
  require(s.gumbel_scale >= 0, "search.gumbel_scale must be non-negative")
  require(0 <= s.dirichlet_fraction <= 1, "search.dirichlet_fraction must be in [0, 1]")
  require(s.dirichlet_alpha > 0, "search.dirichlet_alpha must be positive")
  require(s.temperature >= 0, "search.temperature must be non-negative")
  require(s.value_scale > 0, f"search.value_scale must be above 0, got {s.value_scale}")
  require(s.get("test_budget", 1) >= 1, f"search.test_budget must be at least 1, got {s.get('test_budget')}")
  require(s.get("test_restarts", 1) >= 1,
          f"search.test_restarts must be at least 1, got {s.get('test_restarts')}")
  require(s.get("test_root_noise", 0) >= 0,
          f"search.test_root_noise must be at least 0, got {s.get('test_root_noise')}")
  require(search.configured_value_scale(config) > 0,
          f"search.test_value_scale must be above 0, got {s.get('test_value_scale')}")
  n = config.network
  require(n.family in ("auto",) + networks.NETWORK_FAMILIES,
          f"network.family must be 'auto' or one of {networks.NETWORK_FAMILIES}, got {n.family!r}")
  require(n.dtype in ("float32", "bfloat16"), f"network.dtype must be float32 or bfloat16, got {n.dtype!r}")
  require(n.width >= 1 and n.depth >= 0, "network.width must be positive and network.depth non-negative")
  require(n.num_heads >= 1 and n.width % n.num_heads == 0, "network.num_heads must divide network.width")
  t = config.train
  for field in ("num_iterations", "selfplay_batch_size", "batch_size", "updates_per_iteration",
                "replay_capacity"):
    require(t[field] >= 1, f"train.{field} must be at least 1, got {t[field]}")
  require(t.learning_rate > 0, f"train.learning_rate must be above 0, got {t.learning_rate}")
  require(t.weight_decay >= 0, "train.weight_decay must be non-negative")
  require(t.max_grad_norm > 0, "train.max_grad_norm must be above 0")
  require(t.warmup_iterations >= 0, "train.warmup_iterations must be non-negative")
  require(0 <= t.curriculum_threshold <= 1,
          f"train.curriculum_threshold must be in [0, 1] (0: off), got {t.curriculum_threshold}")
  require(t.curriculum_signal in ("selfplay", "greedy"),
          f"train.curriculum_signal must be selfplay or greedy, got {t.curriculum_signal!r}")
  require(0 <= t.revisit_share <= 1,
          f"train.revisit_share must be in [0, 1] (0: off), got {t.revisit_share}")
  require(0 <= t.opening_share <= 1,
          f"train.opening_share must be in [0, 1] (0: off), got {t.opening_share}")
  require(t.child_backups >= 0,
          f"train.child_backups must be non-negative (0: off), got {t.child_backups}")
  require(0 <= t.get("process_target_spread", 0.0) <= 1,
          f"train.process_target_spread must be in [0, 1], got {t.get('process_target_spread')}")
  require(not t.get("process_target_spread", 0.0) or t.get("process_targets", False),
          "train.process_target_spread spreads process targets: set train.process_targets=True")
  require(t.get("off_track_children", 0) >= 0,
          f"train.off_track_children must be non-negative (0: off), got {t.get('off_track_children', 0)}")
  require(0 <= t.get("move_verdicts", 0.0) <= 1,
          f"train.move_verdicts must be in [0, 1] (0: off), got {t.get('move_verdicts')}")
  require(t.backup_depth >= 1, f"train.backup_depth must be at least 1, got {t.backup_depth}")
  require(0 <= t.replay_solved_share < 1,
          f"train.replay_solved_share must be in [0, 1) (0: uniform), got {t.replay_solved_share}")
  # The learning rate warms up, then decays to the last iteration: it needs room for both.
  require(t.warmup_iterations < t.num_iterations,
          f"train.warmup_iterations={t.warmup_iterations} must be less than "
          f"train.num_iterations={t.num_iterations}")
  require(t.replay_capacity >= t.batch_size, "train.replay_capacity must hold at least one batch")
  devices = jax.device_count()
  for field in ("selfplay_batch_size", "batch_size"):
    require(t[field] % devices == 0,
            f"train.{field}={t[field]} must divide evenly over the {devices} devices")
  for field in ("checkpoint_every", "validate_every", "log_every", "keep_checkpoints"):
    require(config[field] >= 1, f"{field} must be at least 1, got {config[field]}")
  require(config.validation_size >= 0, "validation_size must be non-negative")
  require(config.validation_simulations >= 1, "validation_simulations must be at least 1")
