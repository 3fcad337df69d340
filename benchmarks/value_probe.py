"""How well a network can rate first moves when it is given exact labels: a supervised probe.

Every first move of each training puzzle of a Countdown-family suite (Game of 24: the 762
train puzzles, 36 moves each) is labelled by the plain-Python exact-fraction solver
(alphareason.suites.countdown_solver): can the numbers it leaves still reach the target?
A fresh network of the config's shape is trained on those labels alone (its value head,
binary cross-entropy), then scored on the first moves of the test puzzles. A trained
agent's value head is scored on the same test moves beside it (`--agent`).

The gap between the two is what self-play's value targets leave on the table: the probe
is the same network, trained on the same puzzles, with the labels search never gives it.
`python -m benchmarks.value_probe --config configs/game24.py --agent game24 --steps 16000`.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from alphareason.config import load_config, split_overrides
from alphareason.errors import UsageError
from alphareason.agent import load_agent
from alphareason.envs.countdown import Countdown
from alphareason.networks import make_network
from alphareason.parts import build
from benchmarks.first_moves import legal_first_moves


def scores(values: np.ndarray, solvable: np.ndarray, puzzles: np.ndarray) -> dict:
  """Accuracy at 0.5; the share of puzzles whose top-rated move is solvable; and the mean
  over puzzles with both kinds of the chance that a solvable move outranks an unsolvable
  one (AUC)."""
  top, auc = [], []
  for b in np.unique(puzzles):
    v, y = values[puzzles == b], solvable[puzzles == b]
    top.append(y[np.argmax(v)])
    if 0 < y.mean() < 1:
      good, bad = v[y][:, None], v[~y][None]
      auc.append(np.mean((good > bad) + 0.5 * (good == bad)))
  return dict(accuracy=float(np.mean((values > 0.5) == solvable)),
              top_solvable=float(np.mean(top)), auc=float(np.mean(auc)))


def show(name: str, result: dict) -> None:
  print(f"{name}: accuracy {result['accuracy']:.3f}, top-rated move solvable "
        f"{result['top_solvable']:.3f}, per-puzzle AUC {result['auc']:.3f}", flush=True)


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--config", default="configs/game24.py")
  parser.add_argument("--agent", default=None, help="a workdir or shipped agent to score beside")
  parser.add_argument("--steps", type=int, default=16000, help="probe updates of 256 moves")
  parser.add_argument("--seed", type=int, default=0)
  args, rest = parser.parse_known_args()
  overrides, unknown = split_overrides(rest)  # `--config.key=value`, as in `alphareason train`
  if unknown:
    parser.error(f"unrecognized arguments: {' '.join(unknown)}")
  try:
    config = load_config(args.config, overrides)
    parts = build(config)
    agent = load_agent(args.agent) if args.agent else None
  except UsageError as error:
    raise SystemExit(f"value_probe: {error}") from None
  if not isinstance(parts.env, Countdown) or parts.holdout is None:
    raise SystemExit("value_probe: needs a Countdown-family config with a holdout suite")
  train = legal_first_moves(parts.env, list(parts.holdout.split("train")))
  test = legal_first_moves(parts.env, list(parts.holdout.split("test")))
  labels = train.solvable.astype(np.float32)
  print(f"first moves: {len(labels)} train ({labels.mean():.0%} solvable), "
        f"{len(test.solvable)} test ({test.solvable.mean():.0%})", flush=True)

  def rater(network):  # compiled once per network, called at every report
    rate = jax.jit(lambda params: jax.nn.sigmoid(network.apply(params, test.observation)[1]))
    return lambda params: scores(np.asarray(rate(params)), test.solvable, test.puzzle)

  if agent is not None:
    show(f"agent {args.agent} (step {agent.step})", rater(agent.network)(agent.params))

  rate = rater(make_network(config.network, parts.env))
  train_probe(config, parts.env, train, args.steps, args.seed,
              report=lambda step, seconds, params: show(
                  f"probe, {step} updates ({seconds:.0f} s)", rate(params)))


def train_probe(config, env, moves, steps: int, seed: int = 0, report=None):
  """A fresh network of `config.network`'s shape, its value head trained on `moves`'
  solver labels (`legal_first_moves`) for `steps` updates of 256; (network, params).
  `report(step, seconds, params)` is called four times along the way."""
  network = make_network(config.network, env)
  labels = moves.solvable.astype(np.float32)
  params = network.init(jax.random.PRNGKey(seed))
  optimizer = optax.adamw(optax.warmup_cosine_decay_schedule(
      0.0, 1e-3, min(100, steps // 2), max(steps, 2), 1e-4), weight_decay=1e-4)
  opt_state = optimizer.init(params)

  @jax.jit
  def update(params, opt_state, observations, labels):
    def loss(params):
      return jnp.mean(optax.sigmoid_binary_cross_entropy(network.apply(params, observations)[1], labels))
    grads = jax.grad(loss)(params)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state

  rng = np.random.default_rng(seed)
  began = time.perf_counter()
  for step in range(1, steps + 1):
    batch = rng.integers(0, len(labels), 256)
    params, opt_state = update(params, opt_state, moves.observation[batch], labels[batch])
    if report and (step % max(1, steps // 4) == 0 or step == steps):
      report(step, time.perf_counter() - began, params)
  return network, params


if __name__ == "__main__":
  main()
