"""The host loop around the compiled iteration: resume, log, validate, checkpoint.

Running the same command again on a workdir resumes from its latest checkpoint; a new
workdir starts from fresh parameters, or from an agent's (`train.init_from`).
"""

from __future__ import annotations

import contextlib
import json
import pathlib
import signal
import sys
import threading
import time

import jax
import ml_collections
import numpy as np
import tqdm
from tensorboardX import SummaryWriter

from alphareason import faults, parallel
from alphareason.agent import TrainedRun
from alphareason.checkpoint import Checkpoints
from alphareason.errors import TrainingError, UsageError
from alphareason.files import atomic_write_text
from alphareason.parts import build
from alphareason.play import Player, stack_problems
from alphareason.search import configured_value_scale
from alphareason.train.learner import (TrainState, init_train_state, make_iteration, make_optimizer,
                                       unjudged_levers, with_schedule)

# Settings that fix the shapes of the train state; a resumed run must keep them.
_STATE_SHAPING = ("env_id", "env", "network", "train.replay_capacity", "train.revisit_share",
                  "train.move_verdicts")
# Settings whose being on, not their value, fixes the state's shapes (the replay of failed
# problems; the replay's move verdicts).
_SHAPING_WHEN_ON = ("train.revisit_share", "train.move_verdicts")
# What a setting absent from an older checkpoint's config meant then.
_DEFAULTS = {"train.revisit_share": 0.0, "train.move_verdicts": 0.0}


class MetricsLog:
  """Metrics as JSON lines (`metrics.jsonl`) and TensorBoard events, side by side.

  On resume from iteration k, records after k (written by a run that died before its
  next checkpoint) are dropped from both, so the log reads as one uninterrupted run.
  """

  def __init__(self, workdir: pathlib.Path, *, resume_from: int):
    path = workdir / "metrics.jsonl"
    if path.exists():
      kept = [line for line in path.read_text().splitlines()
              if line.strip() and _iteration_of(line) <= resume_from]
      atomic_write_text(path, "".join(line + "\n" for line in kept))
    self._jsonl = open(path, "a")
    self._tensorboard = SummaryWriter(str(workdir / "tensorboard"), purge_step=resume_from + 1)

  def write(self, iteration: int, metrics: dict) -> None:
    record = {"iteration": iteration, **{k: _plain(v) for k, v in metrics.items()}}
    self._jsonl.write(json.dumps(record) + "\n")
    self._jsonl.flush()
    for name, value in record.items():
      if name != "iteration":
        self._tensorboard.add_scalar(name, value, iteration)

  def close(self) -> None:
    self._jsonl.close()
    self._tensorboard.close()


def _iteration_of(line: str) -> int:
  try:
    return int(json.loads(line)["iteration"])
  except (ValueError, KeyError, TypeError):
    return -1  # a torn last line from a killed run: dropped


def _plain(value):
  value = np.asarray(value)
  return value.item() if value.dtype.kind in "iub" else float(value)


def _get(config: ml_collections.ConfigDict, dotted: str):
  for part in dotted.split("."):
    if part not in config:
      return _DEFAULTS[dotted]
    config = config[part]
  return config.to_dict() if isinstance(config, ml_collections.ConfigDict) else config


def _check_resumable(saved: ml_collections.ConfigDict, config: ml_collections.ConfigDict,
                     where: pathlib.Path) -> None:
  def shaping(config, key):
    return _get(config, key) > 0 if key in _SHAPING_WHEN_ON else _get(config, key)

  for key in _STATE_SHAPING:
    if shaping(saved, key) != shaping(config, key):
      raise UsageError(f"checkpoint in {where} was trained with {key}={_get(saved, key)!r}, "
                       f"not {_get(config, key)!r}: use another --workdir")


def _latest_step(workdir: pathlib.Path) -> int | None:
  """The workdir's latest checkpoint, read without creating or cleaning anything."""
  if not (workdir / "checkpoints").is_dir():
    return None
  with contextlib.closing(Checkpoints(workdir, create=False)) as existing:
    return existing.latest_step()


def train(config: ml_collections.ConfigDict, workdir: str | pathlib.Path, *,
          progress: bool = True, data_dir=None) -> TrainState:
  """Trains `config` in `workdir` to `config.train.num_iterations`, resuming if it can, else
  starting from the agent `train.init_from` names, else from fresh parameters."""
  workdir = pathlib.Path(workdir)
  workdir.mkdir(parents=True, exist_ok=True)
  init_from = config.train.get("init_from", "")
  if init_from and _latest_step(workdir) is not None:
    init_from = ""  # a run with checkpoints resumes from them
  with TrainedRun(init_from) if init_from else contextlib.nullcontext() as fine_tuning:
    if fine_tuning:
      config = fine_tuning.observing_as_trained(config)
    parts = build(config, data_dir=data_dir)
    env, network = parts.env, parts.network
    if (unjudged := unjudged_levers(env, config.train)) and parallel.is_leader():
      print(f"alphareason: {config.env_id} judges no partial answer (Env.on_track): training "
            f"without {' and '.join(unjudged)}", file=sys.stderr)
    optimizer = make_optimizer(config.train)
    state = init_train_state(env, network, optimizer, config)
    if fine_tuning:
      # The agent's parameters, with this run's fresh optimizer and replay.
      step = fine_tuning.steps[-1]
      state = state.replace(params=fine_tuning.params(step, like=state.params))
      if parallel.is_leader():
        print(f"alphareason: starting from the parameters of {init_from} (step {step})",
              file=sys.stderr)
  checkpoints = Checkpoints(workdir, keep=config.keep_checkpoints)
  latest = checkpoints.latest_step()
  if latest is not None:
    _check_resumable(checkpoints.read_config(latest), config, workdir)
    state = with_schedule(checkpoints.restore(latest, state), config.train)
  start = int(state.iteration)
  total = config.train.num_iterations
  if start >= total:  # nothing left to train: no compile
    checkpoints.close()
    return state

  compile_start = time.perf_counter()
  iteration = make_iteration(env, network, optimizer, config).lower(state).compile()
  compile_seconds = time.perf_counter() - compile_start

  validation = None
  if parts.holdout is not None and config.validation_size > 0:
    texts = parts.holdout.split("validation")[:config.validation_size]
    validation = stack_problems(env, texts)
    validator = Player(env, network, state.params, value_scale=configured_value_scale(config))

  leader = parallel.is_leader()  # one process logs; all of them checkpoint together
  log = MetricsLog(workdir, resume_from=start) if leader else None
  bar = tqdm.tqdm(total=total, initial=start, disable=not (progress and leader), unit="it",
                  desc="train", dynamic_ncols=True)
  last_saved = latest
  try:
    with _TerminationFlag() as terminate:
      for done in range(start + 1, total + 1):
        began = time.perf_counter()
        state = faults.poison_before(done, state)
        state, metrics = iteration(state)
        metrics = jax.device_get(metrics)
        seconds = time.perf_counter() - began
        _check_finite(metrics, done, last_saved, checkpoints.directory)
        metrics.update(iteration_seconds=seconds, moves_per_second=metrics["moves"] / seconds,
                       simulations_per_second=metrics["simulations"] / seconds)
        if done == start + 1:
          metrics["compile_seconds"] = compile_seconds
        if validation is not None and (done % config.validate_every == 0 or done == total):
          validator.params = state.params
          metrics.update(_validate(validator, validation, config))
        if log and (done % config.log_every == 0 or done == total or terminate.requested):
          log.write(done, metrics)
        bar.set_postfix(_postfix(metrics), refresh=False)
        bar.update(1)
        faults.kill_after(done)
        if done % config.checkpoint_every == 0 or done == total or terminate.requested:
          checkpoints.save(done, state, config)
          last_saved = done
        if terminate.requested:
          checkpoints.wait()
          bar.close()
          print(f"alphareason: stopped by SIGTERM after iteration {done}; checkpoint saved in "
                f"{checkpoints.directory}; run the same command to resume", file=sys.stderr)
          break
  finally:
    checkpoints.wait()  # a save in flight finishes (or fails) before we return
    bar.close()
    if log:
      log.close()
    checkpoints.close()
  return state


# What the non-finite guard watches: any of these going NaN or infinite stops training.
_GUARDED = ("policy_loss", "value_loss", "grad_norm", "param_norm")


def _check_finite(metrics: dict, iteration: int, last_saved: int | None, where) -> None:
  for name in _GUARDED:
    value = float(metrics[name])
    if not np.isfinite(value):
      kept = "no checkpoint yet" if last_saved is None else f"the last good checkpoint is step {last_saved} in {where}"
      raise TrainingError(f"training stopped: {name} is {value} at iteration {iteration}; "
                          f"nothing after it was saved, {kept}")


class _TerminationFlag:
  """Turns SIGTERM into a request to save and stop after the current iteration."""

  def __init__(self):
    self.requested = False
    self._previous = None

  def __enter__(self):
    if threading.current_thread() is threading.main_thread():
      self._previous = signal.signal(signal.SIGTERM, self._handle)
    return self

  def _handle(self, signum, frame):
    del signum, frame
    self.requested = True

  def __exit__(self, *exc):
    if self._previous is not None:
      signal.signal(signal.SIGTERM, self._previous)
    return False


def _validate(player: Player, problems, config) -> dict:
  # As `eval` does by default: the search sees the verifier only where the task is
  # self-verifiable, so a token task's validation hides its reference.
  oracle = player.env.self_verifiable
  greedy = player.play("greedy", 1, problems, oracle=oracle)
  mcts = player.play("mcts", config.validation_simulations, problems, oracle=oracle)
  return dict(validation_greedy_solved=float(np.mean(greedy.solved)),
              validation_mcts_solved=float(np.mean(mcts.solved)))


def _postfix(metrics: dict) -> dict:
  shown = dict(moves_s=f"{metrics['moves_per_second']:.0f}",
               sims_s=f"{metrics['simulations_per_second']:.0f}",
               solved=f"{metrics['solved']:.2f}",
               loss=f"{metrics['policy_loss'] + metrics['value_loss']:.3f}")
  if "validation_mcts_solved" in metrics:
    shown["val"] = f"{metrics['validation_mcts_solved']:.2f}"
  return shown
