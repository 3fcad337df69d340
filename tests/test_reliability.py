"""Faults a long run meets: kills, kills mid-save, SIGTERM, NaNs, damaged checkpoints."""

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from alphareason import parts as parts_lib
from alphareason.agent import load_agent
from alphareason.checkpoint import Checkpoints
from alphareason.cli import main
from alphareason.errors import TrainingError
from alphareason.train.learner import init_train_state, make_optimizer
from alphareason.train.loop import train
from conftest import ROOT, tiny_config

TINY = str(ROOT / "configs" / "tiny.py")
QUIET = ("--config.validation_size=0", "--no-progress")
TIMING = ("iteration_seconds", "moves_per_second", "simulations_per_second", "compile_seconds")


def train_command(workdir, *extra):
  return [sys.executable, "-m", "alphareason.cli", "train", "--config", TINY,
          "--workdir", str(workdir), *QUIET, *extra]


def run_train(workdir, *extra, env=None):
  return subprocess.run(train_command(workdir, *extra), capture_output=True, text=True,
                        env={**os.environ, **(env or {})}, timeout=300)


def final_state(workdir):
  checkpoints = Checkpoints(workdir, create=False)
  try:
    step = checkpoints.latest_step()
    config = checkpoints.read_config(step)
    parts = parts_lib.build(config)
    like = init_train_state(parts.env, parts.network, make_optimizer(config.train), config)
    return checkpoints.restore(step, like)
  finally:
    checkpoints.close()


def training_metrics(workdir):
  rows = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
  return [{k: v for k, v in row.items() if k not in TIMING} for row in rows]


def assert_same_run(a, b):
  state_a, state_b = final_state(a), final_state(b)
  for (path, x), y in zip(jax.tree_util.tree_leaves_with_path(state_a), jax.tree.leaves(state_b)):
    np.testing.assert_array_equal(x, y, err_msg=jax.tree_util.keystr(path))
  assert training_metrics(a) == training_metrics(b)


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
  """The tiny run, six iterations without a fault."""
  workdir = tmp_path_factory.mktemp("straight")
  result = run_train(workdir)
  assert result.returncode == 0, result.stderr
  return workdir


@pytest.mark.slow  # whole training processes, twice
def test_two_clean_runs_with_one_seed_are_identical(straight, tmp_path):
  assert run_train(tmp_path).returncode == 0
  assert_same_run(straight, tmp_path)


@pytest.mark.slow  # whole training processes, twice
def test_a_kill_between_checkpoints_resumes_to_the_same_run(straight, tmp_path):
  killed = run_train(tmp_path, env={"ALPHAREASON_FAULT_KILL_AFTER": "5"})
  assert killed.returncode == -signal.SIGKILL
  # Saves are asynchronous: the kill may land before step 4's save has committed, and then
  # the run resumes from step 2. Either way it must end as the uninterrupted run did.
  assert Checkpoints(tmp_path, create=False).all_steps() in ([2], [2, 4])
  # The killed run logged iteration 5; the resumed run drops it and logs it again.
  assert [r["iteration"] for r in training_metrics(tmp_path)] == [1, 2, 3, 4, 5]
  resumed = run_train(tmp_path)
  assert resumed.returncode == 0, resumed.stderr
  assert_same_run(straight, tmp_path)


@pytest.mark.slow  # whole training processes, twice
def test_a_kill_inside_a_save_falls_back_to_the_previous_checkpoint(straight, tmp_path):
  process = subprocess.Popen(train_command(tmp_path), stdout=subprocess.PIPE, text=True,
                             stderr=subprocess.DEVNULL,
                             env={**os.environ, "ALPHAREASON_FAULT_BLOCK_SAVE": "4"})
  try:
    for line in process.stdout:  # wait until the save of step 4 is stuck inside orbax
      if line.startswith("fault: blocking the save"):
        break
    process.send_signal(signal.SIGKILL)
  finally:
    process.wait(timeout=60)
  directory = tmp_path / "checkpoints"
  leftovers = [p.name for p in directory.iterdir() if p.name.startswith("4.")]
  assert leftovers, "the interrupted save left its temporary directory"
  assert Checkpoints(tmp_path, create=False).all_steps() == [2]
  resumed = run_train(tmp_path)
  assert resumed.returncode == 0, resumed.stderr
  assert not [p for p in directory.iterdir() if "tmp" in p.name]
  assert_same_run(straight, tmp_path)


@pytest.mark.slow  # a whole training process
def test_sigterm_saves_the_current_iteration_and_exits_cleanly(tmp_path):
  process = subprocess.Popen(
      train_command(tmp_path, "--config.train.num_iterations=100000",
                    "--config.checkpoint_every=100000"),
      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
  metrics = tmp_path / "metrics.jsonl"
  deadline = time.time() + 120
  while time.time() < deadline and (not metrics.exists() or len(metrics.read_text().splitlines()) < 3):
    time.sleep(0.2)
  process.send_signal(signal.SIGTERM)
  _, err = process.communicate(timeout=120)
  assert process.returncode == 0, err
  step = Checkpoints(tmp_path, create=False).latest_step()
  last_logged = json.loads(metrics.read_text().splitlines()[-1])["iteration"]
  assert step == last_logged >= 3
  assert f"stopped by SIGTERM after iteration {step}; checkpoint saved" in err


@pytest.mark.slow  # a training run of its own
def test_a_nan_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch, capsys):
  train(tiny_config("train.num_iterations=2", "validation_size=0"), tmp_path, progress=False)
  monkeypatch.setenv("ALPHAREASON_FAULT_NAN_AT", "3")
  with pytest.raises(TrainingError, match=r"policy_loss is nan at iteration 3; nothing after it "
                                          r"was saved, the last good checkpoint is step 2"):
    train(tiny_config("validation_size=0"), tmp_path, progress=False)
  assert Checkpoints(tmp_path, create=False).all_steps() == [2]
  assert max(r["iteration"] for r in training_metrics(tmp_path)) == 2
  agent = load_agent(tmp_path)
  assert agent.step == 2 and all(np.all(np.isfinite(x)) for x in jax.tree.leaves(agent.params))
  # From the command line: one line, exit status 1. (What the runs above printed, such
  # as a first build of the suite, is not the command's.)
  capsys.readouterr()
  code = main(["train", "--config", TINY, "--workdir", str(tmp_path), *QUIET])
  err = capsys.readouterr().err.strip().splitlines()
  assert code == 1 and len(err) == 1 and "nan at iteration 3" in err[0]


def damaged_copy(trained_workdir, tmp_path):
  workdir = tmp_path / "run"
  shutil.copytree(trained_workdir, workdir)
  return workdir


def assert_refused(capsys, workdir, *needles):
  code = main(["solve", "--workdir", str(workdir), "1 2 3 4"])
  err = capsys.readouterr().err.strip().splitlines()
  assert code == 2 and len(err) == 1 and "Traceback" not in err[0], err
  for needle in needles:
    assert needle in err[0], err[0]


def test_truncated_array_files_are_refused(capsys, trained_workdir, tmp_path):
  workdir = damaged_copy(trained_workdir, tmp_path)
  files = [p for p in (workdir / "checkpoints" / "6" / "state").rglob("*")
           if p.is_file() and "metadata" not in p.name and p.stat().st_size > 64]
  assert files
  for path in files:
    with open(path, "r+b") as f:
      f.truncate(path.stat().st_size // 2)
  assert_refused(capsys, workdir, str(workdir / "checkpoints"), "/6")


def test_damaged_metadata_is_refused(capsys, trained_workdir, tmp_path):
  workdir = damaged_copy(trained_workdir, tmp_path)
  config = workdir / "checkpoints" / "6" / "config" / "metadata"
  assert config.is_file()
  config.write_text("{not json")
  assert_refused(capsys, workdir, "checkpoint", "/6")


@pytest.mark.slow  # whole training processes; test_train refuses another network in process
def test_a_checkpoint_of_another_network_shape_is_refused(capsys, trained_workdir, tmp_path):
  other = tmp_path / "other"
  train(tiny_config("network.width=16", "network.num_heads=2", "validation_size=0",
                    "train.num_iterations=2"), other, progress=False)
  workdir = damaged_copy(trained_workdir, tmp_path)
  state = workdir / "checkpoints" / "6" / "state"
  shutil.rmtree(state)
  shutil.copytree(other / "checkpoints" / "2" / "state", state)
  assert_refused(capsys, workdir, "does not fit this config", "expected float32", "/6")
  # Resuming reads the whole state, and refuses it the same way.
  code = main(["train", "--config", TINY, "--workdir", str(workdir), *QUIET])
  err = capsys.readouterr().err.strip().splitlines()
  assert code == 2 and len(err) == 1 and "/6 does not fit this config" in err[0], err
  assert "is float32[16], expected float32[32]" in err[0], err


def test_resuming_a_checkpoint_of_another_env_is_refused(capsys, trained_workdir, tmp_path):
  workdir = damaged_copy(trained_workdir, tmp_path)
  code = main(["train", "--config", TINY, "--workdir", str(workdir), "--config.env_id=countdown-v0",
               "--config.env.draw=ordered", "--config.holdout_suite=", *QUIET])
  err = capsys.readouterr().err.strip().splitlines()
  assert code == 2 and len(err) == 1 and "env_id='game24-v0'" in err[0], err
