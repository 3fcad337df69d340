"""Hard Sudoku against test-time compute: the shipped agent's searches on 17 and 22-24 clues.

  python -m benchmarks.hard_sudoku [--agent sudoku9] [--limit N] [--mcts-limit 50]
      [--out docs/figures/sudoku9_hard.png]

Plays each suite's test split greedily and with depth-first search (`dfs`) at rising NFE
caps, and MCTS-64 on its first `--mcts-limit` puzzles (its thousands of NFE a puzzle make
the whole split slow on a CPU), every answer re-checked by the plain-Python checker.
Prints accuracy and mean NFE for each, and plots accuracy against NFE beside the 87%
that a 7M-parameter recursive network (TRM) reports on Sudoku-Extreme without search.
The verifier in search is the rules alone (a dead end is a cell with no digit left, or a
digit with no place in a unit): no puzzle's solution is read at test time.
"""

from __future__ import annotations

import argparse
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from alphareason import api  # noqa: E402

SUITES = ("sudoku9/c17", "sudoku9/c22-24")
DFS_BUDGETS = (80, 96, 128, 256, 1024, 4096)
TRM_SUDOKU_EXTREME = 87.4  # Jolicoeur-Martineau (2025), TRM-MLP, test accuracy, no search


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--agent", default="sudoku9", help="a shipped agent or a workdir")
  parser.add_argument("--limit", type=int, default=None, help="only each split's first N")
  parser.add_argument("--mcts-limit", type=int, default=50, help="MCTS-64's puzzles (0: none)")
  parser.add_argument("--out", default="docs/figures/sudoku9_hard.png")
  args = parser.parse_args(argv)

  fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
  print(f"{'suite':16s} {'search':14s} {'puzzles':>7s} {'solved':>7s} {'NFE':>7s}")
  for suite, colour in zip(SUITES, ("tab:red", "tab:blue")):
    plays = [("greedy", [1], args.limit), ("dfs", list(DFS_BUDGETS), args.limit)]
    if args.mcts_limit:
      plays.append(("mcts", [64], args.mcts_limit))
    for strategy, budgets, limit in plays:
      evaluation = api.evaluate(args.agent, suite, [strategy], budgets, limit=limit)
      if evaluation.defects():
        raise SystemExit(f"{suite}: " + "; ".join(evaluation.defects()))
      runs = evaluation.runs
      for r in runs:
        label = strategy if strategy == "greedy" else f"{strategy}-{r['budget']}"
        print(f"{suite:16s} {label:14s} {r['problems']:7d} {100 * r['accuracy']:6.1f}% "
              f"{r['mean_nfe']:7.0f}")
      xs = [r["mean_nfe"] for r in runs]
      ys = [100 * r["accuracy"] for r in runs]
      style = dict(greedy=dict(marker="s", linestyle=""), dfs=dict(marker="o", linestyle="-"),
                   mcts=dict(marker="^", linestyle=""))[strategy]
      ax.plot(xs, ys, color=colour, label=f"{suite.split('/')[1]} {strategy}", **style)
  ax.axhline(TRM_SUDOKU_EXTREME, color="grey", linestyle=":",
             label="TRM on Sudoku-Extreme, no search (87.4%)")
  ax.set_xscale("log")
  ax.set_xlabel("network evaluations per puzzle (NFE, log scale)")
  ax.set_ylabel("solved (%)")
  ax.set_ylim(0, 101)
  ax.grid(True, which="both", alpha=0.3)
  ax.set_title(f"{args.agent} on hard 9x9 Sudoku: accuracy against test-time compute", fontsize=9)
  ax.legend(fontsize=7, loc="lower right")
  fig.tight_layout()
  out = pathlib.Path(args.out)
  out.parent.mkdir(parents=True, exist_ok=True)
  fig.savefig(out)
  print(f"plot: {out}")


if __name__ == "__main__":
  main()
