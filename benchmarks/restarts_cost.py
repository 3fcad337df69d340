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
import time

import jax
import numpy as np

from alphareason.agent import load_agent
from alphareason.errors import UsageError
from alphareason.play import Player, stack_problems
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
  env = agent.env
  player = Player.for_agent(agent, args.value_scale)
  problems = stack_problems(env, texts)
  seconds = {}
  for strategy in ("mcts", "mcts-restarts"):
    player.play(strategy, args.budget, problems, oracle=True)  # builds its programs
    start = time.perf_counter()
    outcome = player.play(strategy, args.budget, problems, oracle=True)
    seconds[strategy] = time.perf_counter() - start
    # Solved only where the independent checker accepts the answer, as in the evaluator.
    answers = [env.answer_text(jax.tree.map(lambda x: x[i], outcome.final))
               for i in range(len(texts))]
    solved = np.mean([bool(verdict) and env.reference_check(text, answer)
                      for verdict, text, answer in zip(outcome.solved, texts, answers)])
    print(f"{strategy:>13}: {seconds[strategy]:8.1f} s  {solved:6.1%} solved  "
          f"{np.mean(outcome.nfe):8.0f} NFE a problem  ({len(texts)} problems, "
          f"{args.budget} simulations a move)")
  print(f"restarts / one search: {seconds['mcts-restarts'] / seconds['mcts']:.2f}x wall time")


if __name__ == "__main__":
  main()
