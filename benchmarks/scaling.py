"""How mctx's batched search scales: batch x simulations, timed by `alphareason.bench`.

  python -m benchmarks.scaling [--config configs/game24.py] [--batches 1,8,64,256,1024]
                               [--simulations 8,32,128] [--repeats 5] [--out docs]

writes OUT/benchmarks_scaling.json (every record) and OUT/benchmarks_scaling.png
(simulations/s and the search overhead R against the batch, a line per simulation
count), and prints the table as markdown. A point whose search has more than
`--big-work` simulations in all is timed once, so the sweep fits a small CPU.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (the backend is chosen first)

from alphareason import bench, parts as parts_lib  # noqa: E402
from alphareason.config import load_config, split_overrides  # noqa: E402


def _ints(text: str) -> list[int]:
  return [int(x) for x in text.split(",") if x.strip()]


def sweep(config, batches, simulations, *, repeats: int, big_work: int) -> list[dict]:
  parts = parts_lib.build(config)
  records = []
  for count in simulations:
    for batch in batches:
      runs = repeats if batch * count <= big_work else 1
      record = bench.search_benchmark(config, batch=batch, simulations=count, repeats=runs,
                                      parts=parts)
      records.append(record)
      print(f"batch {batch:5d} x {count:4d} simulations: {record['simulations_per_second']:9.0f}/s, "
            f"R {record['search_overhead']:.2f}", file=sys.stderr, flush=True)
  return records


def markdown_table(records: list[dict]) -> str:
  lines = ["| batch | simulations | simulations/s | search ms | network call ms | R | compile s "
           "| tree MB (formula) | search memory / formula | repeats |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
  for r in sorted(records, key=lambda r: (r["simulations"], r["batch"])):
    lines.append(
        f"| {r['batch']} | {r['simulations']} | {r['simulations_per_second']:,.0f} "
        f"| {1e3 * r['search_seconds']:.1f} | {1e3 * r['network_call_seconds']:.3f} "
        f"| {r['search_overhead']:.2f} | {r['compile_seconds']:.1f} "
        f"| {r['tree_bytes_formula'] / 2**20:.1f} | {r['search_memory_over_formula']:.2f} "
        f"| {r['repeats']} |")
  return "\n".join(lines)


def plot(records: list[dict], path: pathlib.Path) -> None:
  figure, (rate_axes, overhead_axes) = plt.subplots(1, 2, figsize=(10, 4))
  for count in sorted({r["simulations"] for r in records}):
    points = sorted((r for r in records if r["simulations"] == count), key=lambda r: r["batch"])
    batches = [r["batch"] for r in points]
    rate_axes.plot(batches, [r["simulations_per_second"] for r in points], "o-",
                   label=f"{count} simulations")
    overhead_axes.plot(batches, [r["search_overhead"] for r in points], "o-",
                       label=f"{count} simulations")
  batches = sorted({r["batch"] for r in records})
  for axes in (rate_axes, overhead_axes):
    axes.set_xscale("log", base=2)
    axes.set_xticks(batches, [str(b) for b in batches])
    axes.set_xlabel("batch (roots searched at once)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
  rate_axes.set_yscale("log")
  rate_axes.set_ylabel("simulations / s")
  overhead_axes.set_ylabel("R = search time / (simulations x network call)")
  overhead_axes.axhline(2.0, color="grey", linestyle="--", linewidth=1)  # the target at batch 64
  device = records[0]["device"]
  figure.suptitle(f"mctx {records[0]['policy']} search on {records[0]['env_id']} ({device})")
  figure.tight_layout()
  figure.savefig(path, dpi=120)
  plt.close(figure)


def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--config", default="configs/game24.py")
  parser.add_argument("--batches", type=_ints, default=[1, 8, 64, 256, 1024])
  parser.add_argument("--simulations", type=_ints, default=[8, 32, 128])
  parser.add_argument("--repeats", type=int, default=5, help="timed runs per point (the median)")
  parser.add_argument("--big-work", type=int, default=32768,
                      help="points with more simulations per search than this are timed once")
  parser.add_argument("--out", default="docs", help="folder for the JSON records and the plot")
  args, rest = parser.parse_known_args(argv)
  overrides, unknown = split_overrides(rest)  # `--config.key=value`, as in `alphareason train`
  if unknown:
    parser.error(f"unrecognized arguments: {' '.join(unknown)}")
  records = sweep(load_config(args.config, overrides), args.batches, args.simulations,
                  repeats=args.repeats, big_work=args.big_work)
  out = pathlib.Path(args.out)
  out.mkdir(parents=True, exist_ok=True)
  (out / "benchmarks_scaling.json").write_text(json.dumps(records, indent=1) + "\n")
  plot(records, out / "benchmarks_scaling.png")
  print(markdown_table(records))
  return 0


if __name__ == "__main__":
  sys.exit(main())
