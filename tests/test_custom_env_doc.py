"""docs/custom_env.md works as written: its files, its checks, training and solving.

The doc's Python blocks are taken in order: a block whose first line is `# file: PATH`
is written to PATH in a fresh project folder (a copy of the checkout's base config
beside it, as the doc says), every other block runs there as one script. Training is
cut to a few tiny iterations by replacing the doc's `overrides = []` line.
"""

import os
import pathlib
import re
import shutil
import subprocess
import sys

from alphareason import registry

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "custom_env.md"
OVERRIDES_LINE = 'overrides = []  # e.g. ["train.num_iterations=50"]'
TINY = ["network.width=32", "network.depth=1", "search.num_simulations=4",
        "search.max_num_considered_actions=4", "train.num_iterations=2",
        "train.warmup_iterations=1", "train.selfplay_batch_size=16", "train.replay_capacity=512",
        "train.batch_size=32", "train.updates_per_iteration=2", "checkpoint_every=1"]
MODULES = ("reverse_digits", "reverse_digits_prototype")


def python_blocks(text: str) -> list[str]:
  return re.findall(r"^```python\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def test_custom_env_doc_runs(tmp_path, capsys):
  blocks = python_blocks(DOC.read_text())
  files = [b for b in blocks if b.startswith("# file: ")]
  scripts = [b for b in blocks if not b.startswith("# file: ")]
  assert len(files) == 3 and len(scripts) == 3
  assert sum(OVERRIDES_LINE in s for s in scripts) == 1

  (tmp_path / "configs").mkdir()
  for name in ("__init__.py", "game24.py"):
    shutil.copy(ROOT / "configs" / name, tmp_path / "configs" / name)
  for block in files:
    path = tmp_path / block.splitlines()[0].removeprefix("# file: ").strip()
    path.write_text(block)

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
    for module in MODULES:
      sys.modules.pop(module, None)
    registry._REGISTRY.pop("reverse-v0", None)

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
