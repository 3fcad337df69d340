"""The host loop around the compiled iteration: resume, log, validate, checkpoint.

Running the same command again on a workdir resumes from its latest checkpoint.
"""

from __future__ import annotations

import json
import pathlib
import time

import jax
import ml_collections
import numpy as np
import tqdm
from tensorboardX import SummaryWriter

from alphareason import experiment
from alphareason.errors import UsageError
from alphareason.eval.evaluate import Evaluator, stack_problems
from alphareason.train.checkpoint import Checkpoints
from alphareason.train.learner import TrainState, init_train_state, make_iteration

# Settings that fix the shapes of the train state; a resumed run must keep them.
_STATE_SHAPING = ("env_id", "env", "network", "train.replay_capacity")


class MetricsLog:
  """Metrics as JSON lines (`metrics.jsonl`) and TensorBoard events, side by side."""

  def __init__(self, workdir: pathlib.Path):
    self._jsonl = open(workdir / "metrics.jsonl", "a")
    self._tensorboard = SummaryWriter(str(workdir / "tensorboard"))

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


def _plain(value):
  value = np.asarray(value)
  return value.item() if value.dtype.kind in "iub" else float(value)


def _get(config: ml_collections.ConfigDict, dotted: str):
  for part in dotted.split("."):
    config = config[part]
  return config.to_dict() if isinstance(config, ml_collections.ConfigDict) else config


def _check_resumable(saved: ml_collections.ConfigDict, config: ml_collections.ConfigDict,
                     where: pathlib.Path) -> None:
  for key in _STATE_SHAPING:
    if _get(saved, key) != _get(config, key):
      raise UsageError(f"checkpoint in {where} was trained with {key}={_get(saved, key)!r}, "
                       f"not {_get(config, key)!r}: use another --workdir")


def train(config: ml_collections.ConfigDict, workdir: str | pathlib.Path, *,
          progress: bool = True, data_dir=None) -> TrainState:
  """Trains `config` in `workdir` to `config.train.num_iterations`, resuming if it can."""
  workdir = pathlib.Path(workdir)
  workdir.mkdir(parents=True, exist_ok=True)
  parts = experiment.build(config, data_dir=data_dir)
  env, network = parts.env, parts.network
  state = init_train_state(env, network, parts.optimizer, config)
  checkpoints = Checkpoints(workdir, keep=config.keep_checkpoints)
  latest = checkpoints.latest_step()
  if latest is not None:
    _check_resumable(checkpoints.read_config(latest), config, workdir)
    state = checkpoints.restore(latest, state)
  start = int(state.iteration)
  total = config.train.num_iterations

  compile_start = time.perf_counter()
  iteration = make_iteration(env, network, parts.optimizer, config).lower(state).compile()
  compile_seconds = time.perf_counter() - compile_start

  validation = None
  if parts.holdout is not None and config.validation_size > 0:
    texts = parts.holdout.split("validation")[:config.validation_size]
    validation = stack_problems(env, texts)
    validator = Evaluator(env, network, state.params)

  log = MetricsLog(workdir)
  bar = tqdm.tqdm(total=total, initial=start, disable=not progress, unit="it", desc="train",
                  dynamic_ncols=True)
  if start == 0:
    log.write(0, dict(compile_seconds=compile_seconds))
  try:
    for done in range(start + 1, total + 1):
      began = time.perf_counter()
      state, metrics = iteration(state)
      metrics = jax.device_get(metrics)
      seconds = time.perf_counter() - began
      metrics.update(iteration_seconds=seconds, moves_per_second=metrics["moves"] / seconds,
                     simulations_per_second=metrics["simulations"] / seconds)
      if validation is not None and (done % config.validate_every == 0 or done == total):
        validator.params = state.params
        metrics.update(_validate(validator, validation, config))
      if done % config.log_every == 0 or done == total:
        log.write(done, metrics)
      bar.set_postfix(_postfix(metrics), refresh=False)
      bar.update(1)
      if done % config.checkpoint_every == 0 or done == total:
        checkpoints.save(done, state, config)
    checkpoints.wait()
  finally:
    bar.close()
    log.close()
    checkpoints.close()
  return state


def _validate(evaluator: Evaluator, problems, config) -> dict:
  greedy = evaluator.play("greedy", 1, problems, oracle=True)
  mcts = evaluator.play("mcts", config.validation_simulations, problems, oracle=True)
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
