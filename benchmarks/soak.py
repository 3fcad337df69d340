"""Soak: many iterations of the tiny config, watching memory and compilation.

    python benchmarks/soak.py --iterations 1000 [--workdir DIR]

Trains in this process while a thread samples the resident set size; a jax.monitoring
listener counts XLA compilations. Prints JSON: RSS after warm-up and at the end, the
growth between them, and the compilations after warm-up (the target is none).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import tempfile
import threading
import time

import jax

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from alphareason.config import load_config  # noqa: E402
from alphareason.train.loop import train  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent


def rss_mib() -> float:
  for line in pathlib.Path("/proc/self/status").read_text().splitlines():
    if line.startswith("VmRSS:"):
      return int(line.split()[1]) / 1024
  raise RuntimeError("no VmRSS in /proc/self/status")


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--iterations", type=int, default=1000)
  parser.add_argument("--warmup", type=int, default=150, help="iterations before the baseline")
  parser.add_argument("--workdir", default=None)
  args = parser.parse_args()
  workdir = pathlib.Path(args.workdir or tempfile.mkdtemp(prefix="soak-"))
  config = load_config(ROOT / "configs" / "tiny.py", [
      f"train.num_iterations={args.iterations}", "checkpoint_every=100", "validate_every=100",
      "log_every=1"])

  compilations = []
  jax.monitoring.register_event_duration_secs_listener(
      lambda event, duration, **kw: compilations.append(time.time())
      if event == "/jax/core/compile/backend_compile_duration" else None)
  samples = []  # (iteration, rss)
  done = threading.Event()
  metrics = workdir / "metrics.jsonl"

  def sample():
    while not done.wait(0.25):
      lines = metrics.read_text().splitlines() if metrics.exists() else []
      iteration = json.loads(lines[-1])["iteration"] if lines else 0
      samples.append((iteration, rss_mib(), time.time()))

  sampler = threading.Thread(target=sample, daemon=True)
  sampler.start()
  started = time.time()
  train(config, workdir, progress=False)
  done.set()
  sampler.join()
  # The baseline is the largest RSS seen during warm-up: by then every program (training,
  # validation, checkpointing) has compiled and run at least once.
  warm = [s for s in samples if s[0] <= args.warmup]
  late = [s for s in samples if s[0] > args.warmup]
  baseline = max(r for _, r, _ in warm)
  warm_end = max(t for _, _, t in warm)
  final = late[-1][1] if late else baseline
  print(json.dumps(dict(
      iterations=args.iterations, warmup_iterations=args.warmup,
      rss_after_warmup_mib=round(baseline, 1), rss_final_mib=round(final, 1),
      rss_peak_after_warmup_mib=round(max((r for _, r, _ in late), default=baseline), 1),
      growth_percent=round(100 * (final - baseline) / baseline, 2),
      compilations_after_warmup=sum(t > warm_end for t in compilations),
      seconds=round(time.time() - started, 1), workdir=str(workdir)), indent=1))


if __name__ == "__main__":
  main()
