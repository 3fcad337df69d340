"""docs/custom_env.md works as written: its files, its checks, training and solving.

The doc's Python blocks are taken in order: a block whose first line is `# file: PATH`
is written to PATH in a fresh project folder (a copy of the checkout's base config
beside it, as the doc says), every other block runs there as one script. Training is
cut to a few tiny iterations by replacing the doc's `overrides = []` line. The grid
puzzle's commands (its bash block) run through the command's `main`, training cut to
the same tiny size and reasoning-gym's boards to a few.
"""

import json
import os
import pathlib
import re
import shlex
import shutil
import subprocess
import sys

import pytest

from alphareason import registry

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "custom_env.md"
OVERRIDES_LINE = 'overrides = []  # e.g. ["train.num_iterations=50"]'
TINY = ["network.width=32", "network.depth=1", "search.num_simulations=4",
        "search.max_num_considered_actions=4", "train.num_iterations=2",
        "train.warmup_iterations=1", "train.selfplay_batch_size=16", "train.replay_capacity=512",
        "train.batch_size=32", "train.updates_per_iteration=2", "checkpoint_every=1"]
MODULES = ("reverse_digits", "reverse_digits_prototype", "n_queens")


def blocks(text: str, language: str) -> list[str]:
  return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def write_project(folder: pathlib.Path) -> list[str]:
  """The doc's files in `folder`, beside a copy of the base config; returns its scripts."""
  python = blocks(DOC.read_text(), "python")
  files = [b for b in python if b.startswith("# file: ")]
  assert len(files) == 5
  (folder / "configs").mkdir()
  for name in ("__init__.py", "game24.py"):
    shutil.copy(ROOT / "configs" / name, folder / "configs" / name)
  for block in files:
    path = folder / block.splitlines()[0].removeprefix("# file: ").strip()
    path.write_text(block)
  return [b for b in python if not b.startswith("# file: ")]


@pytest.fixture(autouse=True)
def registrations(monkeypatch):
  """The registries as they stand with the plug-ins loaded (the shipped n_queens among
  them, which the doc's module replaces), restored after each test."""
  from alphareason.interop import reasoning_gym
  registry.load_plugins()
  for module, names in ((registry, ("_REGISTRY", "_plugin_ids")),
                        (reasoning_gym, ("_TASKS", "_plugin_tasks"))):
    for name in names:
      monkeypatch.setattr(module, name, type(getattr(module, name))(getattr(module, name)))
  yield
  forget_doc_modules()


def forget_doc_modules():
  for module in MODULES:
    sys.modules.pop(module, None)


def test_the_doc_writes_the_shipped_n_queens_module():
  """alphareason.puzzles.n_queens is the doc's module, installed: the doc shows the
  shipped agent's env exactly, names apart."""
  block = next(b for b in blocks(DOC.read_text(), "python") if b.startswith("# file: n_queens.py"))
  shipped = (ROOT / "alphareason" / "puzzles" / "n_queens.py").read_text()
  assert block.split("\n", 1)[1] == shipped.replace(
      '"alphareason.puzzles.n_queens:NQueens"', '"n_queens:NQueens"')


@pytest.mark.slow  # the doc's trainings, evaluation and a solving process
def test_custom_env_doc_runs(tmp_path, capsys):
  scripts = write_project(tmp_path)
  assert len(scripts) == 3
  assert sum(OVERRIDES_LINE in s for s in scripts) == 1

  cwd = os.getcwd()
  sys.path.insert(0, str(tmp_path))
  os.chdir(tmp_path)
  try:
    namespace = {"__name__": "custom_env_doc"}
    for script in scripts:
      script = script.replace(OVERRIDES_LINE, f"overrides = {TINY!r}")
      exec(compile(script, str(DOC), "exec"), namespace)
  finally:
    os.chdir(cwd)
    sys.path.remove(str(tmp_path))

  out = capsys.readouterr().out
  assert out.count("ok,") == 2 and "30172 [2 7 1 0 3 -1]" in out.replace("  ", " ").replace("[ ", "[")
  assert (tmp_path / "runs" / "reverse" / "metrics.jsonl").read_text().count("\n") == 2
  answers = [line for line in out.splitlines() if " -> " in line]
  assert [line.split(" -> ")[0] for line in answers] == ["30172", "5", "998877"]

  # A fresh process knows reverse-v0 only through the checkpoint's config (env_module).
  solved = subprocess.run(
      [sys.executable, "-m", "alphareason.cli", "solve", "--workdir", "runs/reverse", "30172", "5"],
      cwd=tmp_path, capture_output=True, text=True, timeout=300)
  assert solved.returncode == 0, solved.stderr
  assert [line.split(": ")[0] for line in solved.stdout.splitlines()] == ["30172", "5"]


@pytest.mark.slow  # the doc's grid puzzle: check, train, eval, solve
def test_custom_env_doc_grid_puzzle_commands(tmp_path, capsys, monkeypatch):
  from alphareason import cli

  write_project(tmp_path)
  commands = [line for block in blocks(DOC.read_text(), "bash") if "n_queens" in block
              for line in block.splitlines() if line.startswith("alphareason ")]
  assert [c.split()[1] for c in commands] == ["check", "train", "eval", "solve"]
  monkeypatch.chdir(tmp_path)
  try:
    for command in commands:
      argv = shlex.split(command)[1:]
      if argv[0] == "train":
        argv += [f"--config.{override}" for override in TINY] + ["--no-progress"]
      if argv[0] == "eval":
        argv[argv.index("--rg-size") + 1] = "8"
        argv += ["--no-progress"]
      assert cli.main(argv) == 0, command
      out = capsys.readouterr().out
      if argv[0] == "check":
        assert "ok," in out
      if argv[0] == "eval":
        summary = json.loads((tmp_path / "runs/n_queens/eval/results.json").read_text())
        runs = summary["runs"]
        assert runs and all(r["rg_disagreements"] == 0 for r in runs)
        assert all(r["rg_accuracy"] == r["accuracy"] for r in runs)
      if argv[0] == "solve":  # an answer the doc's own checker accepts
        assert sys.modules["n_queens"].NQueens.reference_check(argv[-1], out.strip()), out
  finally:
    forget_doc_modules()
  # The module's own flag registers its env for a command that names no config (the
  # plug-ins are loaded already: nothing else brings n_queens-v0 back).
  from alphareason.interop import reasoning_gym
  assert registry.spec("n_queens-v0").entry_point == "n_queens:NQueens"  # not the shipped one
  assert reasoning_gym.rg_task("n_queens").problem_text.__module__ == "n_queens"
  registry._REGISTRY.pop("n_queens-v0")
  reasoning_gym._TASKS.pop("n_queens")
  assert cli.main(["envs", "--env-module", "n_queens"]) == 0
  assert "n_queens-v0" in capsys.readouterr().out
  assert registry.spec("n_queens-v0").entry_point == "n_queens:NQueens"
