"""Writes an evaluation's results.json, report.md and scaling.png."""

from __future__ import annotations

import json
import os
import pathlib

import matplotlib
import numpy as np

from alphareason.files import atomic_write_text

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402


def smallest_budget(runs: list[dict], strategy: str, accuracy: float) -> int | None:
  budgets = sorted(r["budget"] for r in runs
                   if r["strategy"] == strategy and r["accuracy"] >= accuracy)
  return budgets[0] if budgets else None


def _mode(oracle: bool) -> str:
  return "verifier in search (oracle)" if oracle else "verifier hidden: the learned value judges"


def _table(runs: list[dict]) -> list[str]:
  strategies = list(dict.fromkeys(r["strategy"] for r in runs))
  budgets = sorted({r["budget"] for r in runs})
  by_key = {(r["strategy"], r["budget"]): r for r in runs}
  lines = ["| strategy | " + " | ".join(f"budget {b}" for b in budgets) + " |",
           "|---|" + "---|" * len(budgets)]
  for s in strategies:
    cells = []
    for b in budgets:
      r = by_key.get((s, b))
      cells.append("" if r is None else
                   f"{100 * r['accuracy']:.1f}% ({100 * r['ci95'][0]:.0f}-{100 * r['ci95'][1]:.0f}), "
                   f"{r['mean_nfe']:.0f} NFE")
    lines.append(f"| {s} | " + " | ".join(cells) + " |")
  lines += ["", "| strategy | smallest budget to 90% | smallest budget to 99% |", "|---|---|---|"]
  for s in strategies:
    found = [smallest_budget(runs, s, a) for a in (0.9, 0.99)]
    lines.append(f"| {s} | " + " | ".join("not reached" if f is None else str(f) for f in found) + " |")
  return lines


def markdown(summary: dict) -> str:
  runs = summary["runs"]
  suite = summary["suite"]
  lines = [
      f"# Evaluation: {suite['name']} {suite['version']} ({suite['split']}, {runs[0]['problems']} problems)",
      "",
      f"Checkpoints of `{summary['checkpoint']['workdir']}`; env `{summary['env_id']}`"
      + "".join(f", `--config.{o}`" for o in summary.get("env_overrides", ())) + ".",
      "Each cell: accuracy (95% Wilson interval) and mean network evaluations per problem "
      "(NFE). Budget is each strategy's knob: simulations per move (mcts), samples "
      "(bestofn), beam width (beam). Every answer is re-checked by the independent "
      "plain-Python checker.",
  ]
  if "value_scale" in summary and any(r["strategy"] in ("mcts", "mcts-restarts") for r in runs):
    lines[-1] += (f" Gumbel MCTS weighs a child's Q against its prior at value scale "
                  f"{summary['value_scale']:g}.")
  if "restarts" in summary and any(r["strategy"] == "mcts-restarts" for r in runs):
    lines[-1] += (f" mcts-restarts searches a problem up to {summary['restarts']} times, "
                  f"with root noise of scale {summary['root_noise']:g}.")
  for step in summary["checkpoint"]["steps"]:
    for oracle in summary["oracle_modes"]:
      group = [r for r in runs if r["step"] == step and r["oracle"] == oracle]
      lines += ["", f"## Step {step}, {_mode(oracle)}", ""] + _table(group)
  disagreements = sum(r["disagreements"] for r in runs)
  lines += ["", f"Env verdict and independent checker disagreed on {disagreements} answers."]
  return "\n".join(lines) + "\n"


def _save(fig, path: pathlib.Path) -> None:
  path.parent.mkdir(parents=True, exist_ok=True)
  tmp = path.with_suffix(".tmp.png")
  fig.savefig(tmp)
  plt.close(fig)
  os.replace(tmp, path)


def plot_scaling(summary: dict, path: pathlib.Path) -> None:
  """Accuracy against NFE at the latest step: a line per strategy (dashed: no oracle)."""
  step = summary["checkpoint"]["steps"][-1]
  runs = [r for r in summary["runs"] if r["step"] == step]
  fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
  colours = {}
  for oracle in summary["oracle_modes"]:
    for strategy in dict.fromkeys(r["strategy"] for r in runs):
      points = sorted((r["mean_nfe"], r["accuracy"]) for r in runs
                      if r["strategy"] == strategy and r["oracle"] == oracle)
      xs, ys = zip(*points)
      label = strategy if len(summary["oracle_modes"]) == 1 else (
          f"{strategy} ({'oracle' if oracle else 'no oracle'})")
      line, = ax.plot(xs, [100 * y for y in ys], marker="o", label=label,
                      linestyle="-" if oracle else "--", color=colours.get(strategy))
      colours[strategy] = line.get_color()
  ax.set_xscale("log")
  ax.set_xlabel("network evaluations per problem (NFE, log scale)")
  ax.set_ylabel("solved (%)")
  ax.set_ylim(0, 100)
  ax.grid(True, which="both", alpha=0.3)
  suite = summary["suite"]
  ax.set_title(f"{suite['name']} {suite['split']}, step {step}: accuracy against test-time compute",
               fontsize=9)
  ax.legend(fontsize=8)
  fig.tight_layout()
  _save(fig, path)


def plot_iso_accuracy(summary: dict, path: pathlib.Path) -> bool:
  """Training step by test budget, with iso-accuracy contours, for the main strategy.

  Reads as: how much test-time compute buys the accuracy that more training would.
  Drawn when there are at least two steps and two budgets; returns whether it was.
  """
  runs = summary["runs"]
  oracle = summary["oracle_modes"][0]
  strategies = [s for s in ("mcts", "mcts-puct", "beam", "bestofn")
                if sum(r["strategy"] == s for r in runs) > 1]
  steps = summary["checkpoint"]["steps"]
  if not strategies or len(steps) < 2:
    return False
  strategy = strategies[0]
  chosen = [r for r in runs if r["strategy"] == strategy and r["oracle"] == oracle]
  budgets = sorted({r["budget"] for r in chosen})
  if len(budgets) < 2:
    return False
  grid = np.full((len(steps), len(budgets)), np.nan)
  for r in chosen:
    grid[steps.index(r["step"]), budgets.index(r["budget"])] = 100 * r["accuracy"]
  fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
  x, y = np.meshgrid(np.log2(budgets), steps)
  filled = ax.contourf(x, y, grid, levels=np.linspace(0, 100, 11), cmap="viridis")
  lines = ax.contour(x, y, grid, levels=[50, 80, 90, 95, 99], colors="white", linewidths=0.8)
  ax.clabel(lines, fmt="%d%%", fontsize=7)
  fig.colorbar(filled, ax=ax, label="solved (%)")
  ax.set_xticks(np.log2(budgets), [str(b) for b in budgets])
  ax.set_xlabel(f"{strategy} budget (test-time compute)")
  ax.set_ylabel("training iteration (checkpoint)")
  ax.set_title(f"{summary['suite']['name']}: iso-accuracy, training against search", fontsize=9)
  fig.tight_layout()
  _save(fig, path)
  return True


def write_report(summary: dict, out: pathlib.Path) -> dict[str, pathlib.Path]:
  out = pathlib.Path(out)
  paths = dict(results=out / "results.json", report=out / "report.md", plot=out / "scaling.png")
  atomic_write_text(paths["results"], json.dumps(summary, indent=1) + "\n")
  atomic_write_text(paths["report"], markdown(summary))
  plot_scaling(summary, paths["plot"])
  if plot_iso_accuracy(summary, out / "iso_accuracy.png"):
    paths["iso_accuracy"] = out / "iso_accuracy.png"
  return paths
