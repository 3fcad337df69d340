"""Writes an evaluation's results.json, report.md and scaling.png."""

from __future__ import annotations

import json
import os
import pathlib
import tempfile

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt  # noqa: E402


def atomic_write_text(path: pathlib.Path, text: str) -> None:
  """Writes via a temporary file and a rename, so a crash never leaves half a file."""
  path.parent.mkdir(parents=True, exist_ok=True)
  with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as f:
    f.write(text)
  os.replace(f.name, path)


def smallest_budget(runs: list[dict], strategy: str, accuracy: float) -> int | None:
  budgets = sorted(r["budget"] for r in runs
                   if r["strategy"] == strategy and r["accuracy"] >= accuracy)
  return budgets[0] if budgets else None


def markdown(summary: dict) -> str:
  runs = summary["runs"]
  strategies = list(dict.fromkeys(r["strategy"] for r in runs))
  budgets = sorted({r["budget"] for r in runs})
  by_key = {(r["strategy"], r["budget"]): r for r in runs}
  suite = summary["suite"]
  lines = [
      f"# Evaluation: {suite['name']} {suite['version']} ({suite['split']}, {runs[0]['problems']} problems)",
      "",
      f"Checkpoint step {summary['checkpoint']['step']} of `{summary['checkpoint']['workdir']}`; "
      f"env `{summary['env_id']}`; verifier in search: {'yes (oracle)' if summary['oracle'] else 'no (learned value only)'}.",
      "Each cell: accuracy (95% interval) and mean network evaluations per problem (NFE). "
      "Every answer is re-checked by the independent plain-Python checker.",
      "",
      "| strategy | " + " | ".join(f"budget {b}" for b in budgets) + " |",
      "|---|" + "---|" * len(budgets),
  ]
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
  disagreements = sum(r["disagreements"] for r in runs)
  lines += ["", f"Env verdict and independent checker disagreed on {disagreements} answers."]
  return "\n".join(lines) + "\n"


def plot(summary: dict, path: pathlib.Path) -> None:
  runs = summary["runs"]
  fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
  for strategy in dict.fromkeys(r["strategy"] for r in runs):
    points = sorted((r["mean_nfe"], r["accuracy"]) for r in runs if r["strategy"] == strategy)
    xs, ys = zip(*points)
    ax.plot(xs, [100 * y for y in ys], marker="o", label=strategy)
  ax.set_xscale("log")
  ax.set_xlabel("network evaluations per problem (NFE, log scale)")
  ax.set_ylabel("solved (%)")
  ax.set_ylim(0, 100)
  ax.grid(True, which="both", alpha=0.3)
  suite = summary["suite"]
  ax.set_title(f"{suite['name']} {suite['split']}: accuracy against test-time compute")
  ax.legend()
  fig.tight_layout()
  path.parent.mkdir(parents=True, exist_ok=True)
  tmp = path.with_suffix(".tmp.png")
  fig.savefig(tmp)
  plt.close(fig)
  os.replace(tmp, path)


def write_report(summary: dict, out: pathlib.Path) -> dict[str, pathlib.Path]:
  out = pathlib.Path(out)
  paths = dict(results=out / "results.json", report=out / "report.md", plot=out / "scaling.png")
  atomic_write_text(paths["results"], json.dumps(summary, indent=1) + "\n")
  atomic_write_text(paths["report"], markdown(summary))
  plot(summary, paths["plot"])
  return paths
