"""What searching again costs: `mcts-restarts`' wall time against one deterministic search.

  python -m benchmarks.restarts_cost --agent NAME --suite SUITE [--split test] [--limit N]
      [--budget 64] [--value-scale V]

Plays the problems with `mcts` and with `mcts-restarts` at one budget, verifier in search,
through the player the evaluator uses. Each is played twice: the first play builds the
programs (every batch size a restart needs included), the second is timed. Prints each
one's seconds, accuracy and mean NFE, and the ratio of their times. Restarts search again
only the problems no search has verified yet, so with few left the ratio stays near 1;
searching the whole batch again, as long as one problem is unsolved, would cost up to
`strategies.RESTARTS` times one search.
"""

from __future__ import annotations

import argparse

from alphareason.agent import load_agent
from alphareason.errors import UsageError
from alphareason.eval.evaluate import play_strategies
from alphareason.play import Player
from alphareason.suites import load_suite


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--agent", required=True, help="a shipped agent's name or a workdir")
  parser.add_argument("--suite", required=True)
  parser.add_argument("--split", default="test")
  parser.add_argument("--limit", type=int, default=None)
  parser.add_argument("--budget", type=int, default=64, help="simulations per move")
  parser.add_argument("--value-scale", type=float, default=None,
                      help="default: the agent's own")
  args = parser.parse_args()
  try:
    agent = load_agent(args.agent)
    suite = load_suite(args.suite)
    suite.check_env(agent.env)
    texts = list(suite.split(args.split))[:args.limit]
  except UsageError as error:
    raise SystemExit(f"restarts_cost: {error}") from None
  player = Player.for_agent(agent, args.value_scale)
  seconds = {}
  for strategy in ("mcts", "mcts-restarts"):
    # The evaluator's own play: timed, every answer re-checked by the independent checker.
    play = lambda: play_strategies(player, texts, [strategy], [args.budget], oracle=True)[0]
    play()  # builds the programs
    run = play()
    seconds[strategy] = run["wall_seconds"]
    print(f"{strategy:>13}: {run['wall_seconds']:8.1f} s  {run['accuracy']:6.1%} solved  "
          f"{run['mean_nfe']:8.0f} NFE a problem  ({len(texts)} problems, "
          f"{args.budget} simulations a move)")
  print(f"restarts / one search: {seconds['mcts-restarts'] / seconds['mcts']:.2f}x wall time")


if __name__ == "__main__":
  main()
