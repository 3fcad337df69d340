"""Training compute against test-time compute: iso-accuracy curves for several runs.

  python -m benchmarks.tradeoff --run NAME=WORKDIR [--run NAME=WORKDIR ...]
                                [--eval eval/results.json] [--out docs/figures/tradeoff.png]

Each run is a workdir evaluated with `alphareason eval --steps all --strategies mcts
--budgets ...` (its results.json under WORKDIR/--eval). Compute is counted in
floating-point operations, so runs of different network sizes share the axes: a
network evaluation costs XLA's count of one forward pass; training spends one per move
and simulation of self-play and three per position of each optimizer update (forward
and backward); a test problem spends its NFE. Writes the figure (for every accuracy
level, the training and test compute that reach it, a line per run) and prints the
markdown table of the same points.
"""

from __future__ import annotations

import argparse
import json
import pathlib

import jax
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from alphareason.agent import load_agent  # noqa: E402
from alphareason.bench import network_flops_per_call  # noqa: E402

LEVELS = (0.90, 0.95, 0.97, 0.98)


def training_cost(workdir: pathlib.Path, steps: list[int], config, flops: float) -> dict:
  """Cumulative training (FLOPs, seconds) at each checkpoint step, from metrics.jsonl."""
  per_update = 3 * config.train.batch_size * config.train.updates_per_iteration * flops
  total, seconds, out = 0.0, 0.0, {}
  for line in (workdir / "metrics.jsonl").read_text().splitlines():
    record = json.loads(line)
    total += (record["simulations"] + record["moves"]) * flops + per_update
    seconds += record["iteration_seconds"]
    if record["iteration"] in steps:
      out[record["iteration"]] = (total, seconds)
  return out


def run_points(name: str, workdir: pathlib.Path, results: pathlib.Path) -> list[dict]:
  summary = json.loads(results.read_text())
  agent = load_agent(workdir, summary["checkpoint"]["steps"][-1])
  observation = jax.numpy.zeros((1, *agent.env.observation_shape))
  flops = network_flops_per_call(agent.network, agent.params, observation)
  train = training_cost(workdir, summary["checkpoint"]["steps"], agent.config, flops)
  parameters = sum(x.size for x in jax.tree.leaves(agent.params))
  return [dict(run=name, parameters=parameters, step=r["step"], budget=r["budget"],
               accuracy=r["accuracy"], train_flops=train[r["step"]][0],
               train_minutes=train[r["step"]][1] / 60,
               test_flops=r["mean_nfe"] * flops, nfe=r["mean_nfe"])
          for r in summary["runs"] if r["strategy"] == "mcts"]


def frontier(points: list[dict], level: float) -> list[tuple[float, float]]:
  """For each training step, the least test compute that reaches `level` there; only the
  points no cheaper step matches (training compute rising, test compute falling)."""
  best = {}
  for p in points:
    if p["accuracy"] >= level:
      best[p["train_flops"]] = min(best.get(p["train_flops"], np.inf), p["test_flops"])
  out, lowest = [], np.inf
  for train in sorted(best):
    if best[train] < lowest:
      out.append((train, best[train]))
      lowest = best[train]
  return out


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--run", action="append", required=True, help="NAME=WORKDIR")
  parser.add_argument("--eval", default="eval/results.json",
                      help="each run's results.json, relative to its workdir")
  parser.add_argument("--out", default="docs/figures/tradeoff.png")
  args = parser.parse_args()
  points = []
  for spec in args.run:
    name, _, workdir = spec.partition("=")
    points += run_points(name, pathlib.Path(workdir), pathlib.Path(workdir) / args.eval)
  runs = list(dict.fromkeys(p["run"] for p in points))
  fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=120)
  styles = ["-", "--", ":", "-."]
  print("| run | parameters | accuracy | training TFLOP (minutes) | test GFLOP a problem (NFE) |")
  print("|---|---:|---:|---:|---:|")
  for colour, run in zip(plt.rcParams["axes.prop_cycle"].by_key()["color"], runs):
    mine = [p for p in points if p["run"] == run]
    for style, level in zip(styles, LEVELS):
      line = frontier(mine, level)
      if not line:
        continue
      train, test = zip(*line)
      ax.plot(test, train, style, marker="o", color=colour, markersize=3,
              label=f"{run} ({mine[0]['parameters']:,} params): {100 * level:.0f}%")
      for t, x in line:
        point = next(p for p in mine if p["train_flops"] == t and p["test_flops"] == x)
        print(f"| {run} | {mine[0]['parameters']:,} | {100 * level:.0f}% | {t / 1e12:,.1f} "
              f"({point['train_minutes']:.1f}) | {x / 1e9:.3f} ({point['nfe']:.0f}) |")
  ax.set_xscale("log")
  ax.set_yscale("log")
  ax.set_xlabel("test-time compute per problem (FLOP, log)")
  ax.set_ylabel("training compute (FLOP, log)")
  ax.set_title("iso-accuracy: the training and test compute that reach each accuracy", fontsize=9)
  ax.grid(True, which="both", alpha=0.3)
  ax.legend(fontsize=6)
  fig.tight_layout()
  out = pathlib.Path(args.out)
  out.parent.mkdir(parents=True, exist_ok=True)
  fig.savefig(out)
  print(f"\nfigure: {out}")


if __name__ == "__main__":
  main()
