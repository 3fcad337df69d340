"""The same training and eval on one device, four devices, and two processes of two devices.

Each run is a subprocess: the device count is fixed when JAX starts. Equality is to float
rounding (gradients are summed over devices in another order), and exact for integer
results such as the NFE spent on each problem.
"""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from alphareason.agent import load_agent
from conftest import ROOT

ITERATIONS = ("--config.train.num_iterations=2",)
WORKER = [sys.executable, str(ROOT / "tests" / "parallel_worker.py")]


def run_worker(workdir, devices: int = 1, *extra: str) -> dict:
  env = {**os.environ, "PYTHONPATH": str(ROOT / "tests"),
         "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}"}
  done = subprocess.run([*WORKER, str(workdir), *ITERATIONS, *extra], capture_output=True,
                        text=True, env=env, timeout=600)
  assert done.returncode == 0, done.stderr[-3000:]
  return json.loads(done.stdout.splitlines()[-1])


def metrics(workdir) -> list[dict]:
  timing = ("iteration_seconds", "moves_per_second", "simulations_per_second", "compile_seconds")
  return [{k: v for k, v in json.loads(line).items() if k not in timing}
          for line in (workdir / "metrics.jsonl").read_text().splitlines()]


def assert_same_training(workdir, reference) -> None:
  got, want = metrics(workdir), metrics(reference)
  assert [m["iteration"] for m in got] == [m["iteration"] for m in want] == [1, 2]
  for g, w in zip(got, want):
    assert g.keys() == w.keys()
    for name in w:
      np.testing.assert_allclose(g[name], w[name], rtol=1e-4, err_msg=name)
  got_agent, want_agent = load_agent(workdir), load_agent(reference)
  assert got_agent.step == want_agent.step == 2
  got_leaves, want_leaves = named_leaves(got_agent.params), named_leaves(want_agent.params)
  assert got_leaves.keys() == want_leaves.keys()
  for name, want_leaf in want_leaves.items():
    # Attention's key bias has a gradient of exactly zero (softmax ignores a shift shared
    # by all keys), so what it receives is rounding noise, which Adam scales up to steps
    # of the learning rate's size: its values are noise on any device count.
    if "['key']['bias']" not in name:
      np.testing.assert_allclose(got_leaves[name], want_leaf, rtol=1e-4, atol=1e-6, err_msg=name)


def named_leaves(tree) -> dict:
  import jax
  return {jax.tree_util.keystr(path): np.asarray(x)
          for path, x in jax.tree_util.tree_leaves_with_path(tree)}


@pytest.fixture(scope="module")
def one_device(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("one-device")
  return workdir, run_worker(workdir, 1)


@pytest.mark.slow  # two training processes, each compiling its own programs
def test_four_devices_train_and_eval_as_one_with_a_quarter_each(one_device, tmp_path):
  reference, single = one_device
  report = run_worker(tmp_path, 4)
  assert report["devices"] == 4 and single["devices"] == 1
  assert_same_training(tmp_path, reference)
  # Each device holds a quarter of the self-play rows and of the eval problems.
  assert report["selfplay_rows_per_device"] == [report["selfplay_rows"] // 4] * 4
  assert report["eval_problems_per_device"] == [2] * 4
  assert single["eval_problems_per_device"] == [8]
  assert report["eval_nfe"] == single["eval_nfe"]
  assert report["eval_solved"] == single["eval_solved"]


def free_port() -> int:
  with socket.socket() as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


@pytest.mark.slow  # three training processes, each compiling its own programs
def test_two_processes_of_two_devices_train_one_run_together(one_device, tmp_path):
  reference, single = one_device
  port = free_port()
  env = {**os.environ, "PYTHONPATH": str(ROOT / "tests"),
         "XLA_FLAGS": "--xla_force_host_platform_device_count=2"}
  workers = [subprocess.Popen(
      [*WORKER, str(tmp_path), *ITERATIONS, "--coordinator", f"localhost:{port}",
       "--num-processes", "2", "--process-id", str(i)],
      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for i in range(2)]
  outputs = [w.communicate(timeout=600) for w in workers]
  for worker, (_, stderr) in zip(workers, outputs):
    assert worker.returncode == 0, stderr[-3000:]
  # One process wrote the metrics (once per iteration); the run matches one device's.
  assert_same_training(tmp_path, reference)
  # Self-play and eval split over the four devices of the two processes, a quarter each;
  # eval, gathered on each process, matches one device's.
  reports = [json.loads(stdout.splitlines()[-1]) for stdout, _ in outputs]
  for report in reports:
    assert report["devices"] == 4
    assert report["selfplay_rows_per_device"] == [report["selfplay_rows"] // 4] * 2
    assert report["eval_problems_per_device"] == [2, 2]  # this process's two devices
    assert report["eval_nfe"] == single["eval_nfe"]
    assert report["eval_solved"] == single["eval_solved"]


def test_an_incomplete_multi_process_setup_is_one_line(tmp_path, capsys):
  from alphareason.cli import main
  config = str(ROOT / "configs" / "tiny.py")
  for flags, message in ((["--coordinator", "localhost:1"], "--num-processes and --process-id"),
                         (["--coordinator", "localhost:1", "--num-processes", "2",
                           "--process-id", "2"], "--process-id must be in [0, 2)")):
    assert main(["train", "--config", config, "--workdir", str(tmp_path), *flags]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and message in error
  assert not (tmp_path / "checkpoints").exists()
