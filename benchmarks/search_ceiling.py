"""What MCTS could solve with a perfect value head: the search's own ceiling.

  python -m benchmarks.search_ceiling --agent game24 [--budgets 16,64] [--value exact|probe|network]
      [--prior network|uniform] [--considered N] [--value-scales 0.1,1.0] [--limit N]

Runs the `mcts` strategy (verifier in search) on a Countdown-family suite with the agent's
network, except that the value of every state searched below the root is replaced:
`exact`, whether it can still reach the target, found by enumerating every line of play
with the JAX env itself (problems of at most 4 numbers, the Game of 24); `probe`,
benchmarks.value_probe's network trained on the solver's labels of every first move of
the suite's train split (or of every solvable puzzle up to `--probe-max-value`);
`network`, the agent's own (for any Countdown env, to vary the search alone). With
`--prior uniform` the policy head is replaced too. What the exact value leaves unsolved is
lost by the search's allocation of its simulations, not by what the network knows."""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp

from alphareason import search, strategies
from alphareason.agent import load_agent
from alphareason.envs.countdown import ON_TRACK_MAX_NUMBERS, Countdown
from alphareason.errors import UsageError
from alphareason.eval.evaluate import play_strategies
from alphareason.play import Player
from alphareason.suites import load_suite
from benchmarks import value_probe
from benchmarks.first_moves import legal_first_moves

def patched_predict(env, value: str, prior: str, probe=None):
  original = search.predict

  def predict(network, params, states):
    logits, net_value = original(network, params, states)
    if value == "probe":  # the probe rates the positions it was trained on, 3 numbers
      probe_network, probe_params = probe
      rated = jax.nn.sigmoid(probe_network.apply(probe_params, states.observation)[1])
      net_value = jnp.where(jnp.sum(states.alive, axis=-1) == 3, rated, net_value)
    if prior == "uniform":
      logits = jnp.where(states.legal_action_mask, 0.0, logits)
    if value == "exact":
      exact = jax.vmap(env.on_track)(states)  # exact from 3 numbers left
      # The root has 4 numbers, beyond the enumeration: it keeps the network's value,
      # which Gumbel MCTS uses only to complete the Q of unvisited root actions.
      three_or_fewer = jnp.sum(states.alive, axis=-1) <= ON_TRACK_MAX_NUMBERS
      net_value = jnp.where(three_or_fewer, exact.astype(net_value.dtype), net_value)
    return logits, net_value

  return predict


def _numbers(kind):
  def parse(text: str) -> list:
    try:
      return [kind(x) for x in text.split(",")]
    except ValueError:
      raise argparse.ArgumentTypeError(f"want {kind.__name__}s separated by commas, got {text!r}")
  return parse


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--agent", required=True, help="a shipped agent's name or a workdir")
  parser.add_argument("--step", type=int, default=None)
  parser.add_argument("--suite", default="game24")
  parser.add_argument("--split", default="test")
  parser.add_argument("--budgets", type=_numbers(int), default=[16, 64])
  parser.add_argument("--value", choices=("exact", "network", "probe"), default="exact",
                      help="probe: benchmarks.value_probe's network, trained on the solver's "
                      "labels of every first move of the train split, rates 3-number states")
  parser.add_argument("--probe-steps", type=int, default=16000)
  parser.add_argument("--probe-max-value", type=int, default=None,
                      help="train the probe on every solvable puzzle of numbers up to this, "
                      "less the suite's validation and test puzzles (default: the train split)")
  parser.add_argument("--prior", choices=("network", "uniform"), default="network")
  parser.add_argument("--considered", type=int, default=None,
                      help="root actions Gumbel considers (default: the mcts strategy's)")
  parser.add_argument("--value-scales", type=_numbers(float), default=None,
                      help="Gumbel's weights of Q against the prior, each a run "
                      "(default: SearchConfig's)")
  parser.add_argument("--limit", type=int, default=None)
  args = parser.parse_args()
  try:
    agent = load_agent(args.agent, args.step)
    suite = load_suite(args.suite)
    texts = list(suite.split(args.split))[:args.limit]
  except UsageError as error:
    raise SystemExit(f"search_ceiling: {error}") from None
  env = agent.env
  if not isinstance(env, Countdown):
    raise SystemExit("search_ceiling: needs a Countdown-family env")
  if args.value != "network" and env.max_numbers > ON_TRACK_MAX_NUMBERS + 1:
    raise SystemExit("search_ceiling: --value exact and probe need at most 4 numbers")
  probe = None
  if args.value == "probe":
    puzzles = list(suite.split("train"))
    if args.probe_max_value:
      held_out = {tuple(sorted(int(x) for x in text.split("->")[0].split()))
                  for text in suite.held_out}
      puzzles = [" ".join(map(str, numbers)) for numbers in Countdown(
          min_numbers=4, max_numbers=4, min_value=1, max_value=args.probe_max_value,
          target=env.target).solvable_multisets().tolist()
                 if tuple(sorted(numbers)) not in held_out]
    print(f"probe: every first move of {len(puzzles)} puzzles", flush=True)
    moves = legal_first_moves(env, puzzles)
    probe = value_probe.train_probe(agent.config, env, moves, args.probe_steps)
  search.predict = patched_predict(env, args.value, args.prior, probe)
  overrides = {}
  if args.considered:
    overrides["max_num_considered_actions"] = min(env.num_actions, args.considered)
  original_config = strategies.SearchConfig
  strategies.SearchConfig = lambda **fields: original_config(**{**fields, **overrides})
  print("| value | prior | value scale | simulations | solved | mean NFE | checker disagreements |")
  print("|---|---|---:|---:|---:|---:|---:|")
  for scale in args.value_scales or [agent.test_value_scale]:
    runs = play_strategies(Player(env, agent.network, agent.params, value_scale=scale), texts,
                           ["mcts"], args.budgets, oracle=True)
    for run in runs:
      print(f"| {args.value} | {args.prior} | {scale} | {run['budget']} | {run['accuracy']:.1%} "
            f"({run['solved']} of {run['problems']}) | {run['mean_nfe']:.1f} | "
            f"{run['disagreements']} |", flush=True)


if __name__ == "__main__":
  main()
