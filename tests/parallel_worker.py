"""Run in a subprocess by test_parallel.py, with as many (forced) CPU devices as it is given.

Trains the tiny config through the CLI, then reports as JSON on its last line how self-play
and eval batches were laid out over the devices, and the eval results on a few problems.
"""

import json
import sys

import jax

from alphareason import parallel
from alphareason.agent import load_agent
from alphareason.cli import main
from alphareason.play import Player, stack_problems
from alphareason.search import SearchConfig
from alphareason.train import selfplay
from conftest import ROOT

EPISODES = 16  # the tiny config's self-play batch
PROBLEMS = ["1 2 3 4", "4 9 10 13", "1 1 3 8", "3 3 8 8", "2 5 7 11", "1 5 5 5", "6 6 6 6", "2 2 2 9"]


def rows_per_device(array) -> list[int]:
  return sorted(shard.data.shape[0] for shard in array.addressable_shards)


def main_(workdir: str, *train_args: str) -> None:
  status = main(["train", "--config", str(ROOT / "configs" / "tiny.py"), "--workdir", workdir,
                 "--no-progress", "--config.validation_size=0", *train_args])
  if status:
    sys.exit(status)
  agent = load_agent(workdir)
  parts, params = agent.parts, agent.params
  search = SearchConfig.from_config(parts.config.search)
  rows, _ = jax.jit(lambda p, k: selfplay.play_episodes(parts.env, parts.network, p, k, EPISODES, search))(
      params, jax.random.PRNGKey(0))
  player = Player(parts.env, parts.network, params)
  problems = stack_problems(parts.env, PROBLEMS)
  outcome = player.program("mcts", 8, True)(params, jax.random.PRNGKey(0), parallel.put_batch(problems))
  eval_results = {strategy: player.play(strategy, 8, problems, oracle=True).nfe.tolist()
                  for strategy in ("greedy", "mcts")}
  print(json.dumps(dict(
      devices=jax.device_count(),
      selfplay_rows=int(rows.observation.shape[0]),
      selfplay_rows_per_device=rows_per_device(rows.observation),
      eval_problems_per_device=rows_per_device(outcome.solved),
      eval_nfe=eval_results,
      eval_solved=parallel.to_host(outcome.solved).tolist())))


if __name__ == "__main__":
  main_(*sys.argv[1:])
