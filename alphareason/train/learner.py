"""The jit-compiled training iteration: self-play, replay, optax updates.

`make_iteration(...)` returns `iteration(train_state) -> (train_state, metrics)`, one
compiled program with no host round trip inside. The train state is replicated over the
data mesh; self-play episodes and learner batches are split over its devices
(`alphareason.parallel`), so the same program runs on one device or many.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import ml_collections
import optax
from flax import struct

from alphareason import parallel
from alphareason.env import Env
from alphareason.errors import UsageError
from alphareason.networks import Network, masked_logits
from alphareason.search import SearchConfig
from alphareason.strategies import greedy
from alphareason.train import selfplay
from alphareason.train.replay import Positions, ReplayBuffer
from alphareason.train.revisit import FailedProblems

# Plays of one problem at most in hard-example replay (train.revisit_share).
REVISIT_MAX_ATTEMPTS = 4


@struct.dataclass
class TrainState:
  params: dict  # network parameters
  opt_state: optax.OptState
  replay: ReplayBuffer
  rng_key: jax.Array  # [2] uint32, consumed and replaced every iteration
  iteration: jax.Array  # [] int32, iterations completed
  level: jax.Array  # [] int32, the curriculum's difficulty level for self-play
  # Problems self-play failed, to play again (train.revisit_share > 0), else None.
  revisit: FailedProblems | None = None


def _warmup_cosine(learning_rate, warmup_steps, decay_steps) -> optax.Schedule:
  """optax's warmup_cosine_decay_schedule from 0 to `learning_rate` and down to a tenth of
  it at `decay_steps`, of arrays: the run's horizon is then an input of the compiled
  iteration, not a constant in it, so runs that differ only in length (or learning rate)
  share one compiled program, in the process and in the persistent cache."""

  def schedule(count):
    count = jnp.asarray(count, jnp.float32)
    progress = jnp.clip((count - warmup_steps) / jnp.maximum(decay_steps - warmup_steps, 1.0),
                        0.0, 1.0)
    cosine = 0.1 + 0.9 * 0.5 * (1.0 + jnp.cos(jnp.pi * progress))
    return learning_rate * jnp.where(count < warmup_steps, count / warmup_steps, cosine)

  return schedule


def _adamw(learning_rate, warmup_steps, decay_steps, weight_decay, max_grad_norm):
  return optax.chain(optax.clip_by_global_norm(max_grad_norm),
                     optax.adamw(_warmup_cosine(learning_rate, warmup_steps, decay_steps),
                                 weight_decay=weight_decay))


def schedule_hyperparams(train_config: ml_collections.ConfigDict) -> dict[str, float]:
  """The learning-rate schedule of a config, as the optimizer state holds it."""
  updates = train_config.updates_per_iteration
  return dict(learning_rate=float(train_config.learning_rate),
              warmup_steps=float(max(1, train_config.warmup_iterations * updates)),
              decay_steps=float(max(2, train_config.num_iterations * updates)))


def make_optimizer(train_config: ml_collections.ConfigDict) -> optax.GradientTransformation:
  """Clipped AdamW on a warm-up and cosine schedule whose settings live in the optimizer
  state (`optax.inject_hyperparams`); a resumed run sets its own (`with_schedule`)."""
  return optax.inject_hyperparams(_adamw, static_args=("weight_decay", "max_grad_norm"))(
      **schedule_hyperparams(train_config), weight_decay=train_config.weight_decay,
      max_grad_norm=train_config.max_grad_norm)


def with_schedule(state: "TrainState", train_config: ml_collections.ConfigDict) -> "TrainState":
  """`state` on `train_config`'s schedule: a run resumed with more iterations stretches
  its decay to the new horizon, as a fresh run of that length would have it."""
  hyperparams = dict(state.opt_state.hyperparams)
  for name, value in schedule_hyperparams(train_config).items():
    hyperparams[name] = jax.device_put(jnp.asarray(value, hyperparams[name].dtype),
                                       hyperparams[name].sharding)
  return state.replace(opt_state=state.opt_state._replace(hyperparams=hyperparams))


def init_train_state(env: Env, network: Network, optimizer: optax.GradientTransformation,
                     config: ml_collections.ConfigDict) -> TrainState:
  """The state before iteration 1, made replicated on the data mesh (on every process)."""

  def init():
    init_key, run_key = jax.random.split(jax.random.PRNGKey(config.seed))
    params = network.init(init_key)
    replay = ReplayBuffer.create(
        config.train.replay_capacity, env.observation_shape, env.num_actions,
        verdicts=takes_move_verdicts(env, config.train))
    # With a curriculum, self-play starts at the easiest level; without, at the full range.
    level = 0 if config.train.curriculum_threshold > 0 else env.num_levels - 1
    revisit = (FailedProblems.create(env, config.train.selfplay_batch_size)
               if config.train.get("revisit_share", 0.0) > 0 else None)
    return TrainState(params=params, opt_state=optimizer.init(params), replay=replay,
                      rng_key=run_key, iteration=jnp.int32(0), level=jnp.int32(level),
                      revisit=revisit)

  return jax.jit(init, out_shardings=parallel.replicated())()


def loss_fn(network: Network, params, batch: Positions, value_loss_weight: float,
            move_verdicts: float = 0.0):
  """Cross-entropy to the search policy plus binary cross-entropy to the outcome.

  With `move_verdicts` v > 0 (rows carrying them), a share v of the policy's loss is
  instead each legal move's logit against the verifier's verdict on it, by binary
  cross-entropy averaged over the legal moves: the logits learn the odds that a move is
  right, so the policy (their softmax, odds over odds) ranks a certain move far above a
  likely one, where a cross-entropy to a distribution over the right moves ranks a move
  right half the time only half as high as one right always.
  """
  def mean(loss, weight):
    return jnp.sum(loss * weight) / jnp.maximum(jnp.sum(weight), 1)

  logits, value_logits = network.apply(params, batch.observation)
  log_policy = jax.nn.log_softmax(masked_logits(logits, batch.legal_action_mask))
  # Illegal actions carry zero target mass; where() keeps 0 * finfo.min out of the sum.
  policy_ce = -jnp.sum(jnp.where(batch.policy_target > 0, batch.policy_target * log_policy, 0.0), -1)
  value_bce = optax.sigmoid_binary_cross_entropy(value_logits, batch.value_target)
  policy_loss = mean(policy_ce, batch.policy_weight)
  if move_verdicts and batch.move_verdicts is not None:
    legal = batch.legal_action_mask
    move_bce = optax.sigmoid_binary_cross_entropy(logits, batch.move_verdicts.astype(logits.dtype))
    verdict_bce = jnp.sum(jnp.where(legal, move_bce, 0.0), -1) / jnp.maximum(jnp.sum(legal, -1), 1)
    policy_loss = (1 - move_verdicts) * policy_loss + move_verdicts * mean(
        verdict_bce, batch.verdict_weight)
  value_loss = mean(value_bce, batch.value_weight)
  return policy_loss + value_loss_weight * value_loss, (policy_loss, value_loss)


def make_update(network: Network, optimizer: optax.GradientTransformation,
                train: ml_collections.ConfigDict) -> Callable:
  """One optimizer update on a minibatch sampled from the replay, its batch split over the
  devices: `update((params, opt_state, replay), key) -> (carry, metrics)`, the key consumed.
  The iteration scans it; `alphareason bench train` times the same function."""
  solved_share = train.get("replay_solved_share", 0.0)

  def update(carry, key):
    params, opt_state, replay = carry
    batch = parallel.constrain_batch(replay.sample(key, train.batch_size, solved_share=solved_share))
    (_, (policy_loss, value_loss)), grads = jax.value_and_grad(loss_fn, argnums=1, has_aux=True)(
        network, params, batch, train.value_loss_weight,
        move_verdicts=train.get("move_verdicts", 0.0))
    updates, opt_state = optimizer.update(grads, opt_state, params)
    params = optax.apply_updates(params, updates)
    metrics = dict(policy_loss=policy_loss, value_loss=value_loss,
                   grad_norm=optax.global_norm(grads))
    return (params, opt_state, replay), metrics

  return update


def unjudged_levers(env: Env, train: ml_collections.ConfigDict) -> list[str]:
  """The process levers `train` sets that `env` cannot serve, judging no partial answer:
  training runs without them (the default config sets them, for any env)."""
  if env.judges_partial_answers:
    return []
  return [f"train.{lever}" for lever in ("process_targets", "off_track_children", "move_verdicts",
                                         "state_verdicts") if train.get(lever, False)]


def takes_move_verdicts(env: Env, train: ml_collections.ConfigDict) -> bool:
  """Whether self-play records the verifier's verdict on every legal move, for the loss's
  `move_verdicts` share: it needs an env that judges partial answers."""
  return env.judges_partial_answers and train.get("move_verdicts", 0.0) > 0


def make_iteration(env: Env, network: Network, optimizer: optax.GradientTransformation,
                   config: ml_collections.ConfigDict) -> Callable:
  """The compiled iteration for `config`; it donates the train state it is given."""
  search_config = SearchConfig.from_config(config.search)
  train = config.train
  update = make_update(network, optimizer, train)
  play_env = env
  judged = env.judges_partial_answers  # process targets and off-track children need it
  if train.get("process_supervision", False) and not judged:
    raise UsageError(f"train.process_supervision needs an env that judges partial answers "
                     f"(Env.on_track); {getattr(env, 'env_id', type(env).__name__)} does not")
  if train.get("process_supervision", False):
    play_env = env.supervised()  # self-play only: validation and eval play the env as it is
  greedy_signal = train.get("curriculum_signal", "selfplay") == "greedy"

  def curriculum_rate(params, key, level, stats):
    """The solve rate that moves the curriculum: self-play's (Gumbel noise at the root,
    and process supervision if on), or the policy's alone, greedy on fresh problems of
    the level, which neither noise nor supervision touches."""
    if not greedy_signal:
      return stats.solved
    problems = selfplay.sample_problems(env, key, train.selfplay_batch_size, level)
    outcome = greedy(env, network, params, key, jax.vmap(env.init)(problems), 1, oracle=False)
    return jnp.mean(outcome.solved.astype(jnp.float32))

  revisit_count = round(train.get("revisit_share", 0.0) * train.selfplay_batch_size)
  tree_proofs = train.get("tree_proofs", False) and search_config.oracle

  def iteration(state: TrainState):
    key, play_key, update_key = jax.random.split(state.rng_key, 3)
    problems, revisit = None, state.revisit
    if revisit is not None:
      # The fresh problems play_episodes would draw, the newest failures in place of some.
      fresh = selfplay.sample_problems(env, jax.random.split(play_key)[0],
                                       train.selfplay_batch_size, state.level)
      problems, attempts, revisit = revisit.take(fresh, revisit_count)
    rows, stats = selfplay.play_episodes(
        play_env, network, state.params, play_key, train.selfplay_batch_size, search_config,
        level=state.level, problems=problems, tree_proofs=tree_proofs,
        opening_share=train.get("opening_share", 0.0),
        process_targets=judged and train.get("process_targets", False),
        process_target_spread=train.get("process_target_spread", 0.0),
        off_track_children=train.get("off_track_children", 0) if judged else 0,
        move_verdicts=takes_move_verdicts(env, train),
        state_verdicts=judged and train.get("state_verdicts", False),
        child_backups=train.get("child_backups", 0),
        backup_depth=train.get("backup_depth", 1))
    replay = state.replay.add(rows)
    if revisit is not None:
      # A random opening's failure may be the opening's: the problem is not marked failed.
      failed = (stats.outcomes <= 0) & ~stats.opened
      revisit = revisit.put(problems, attempts, failed, REVISIT_MAX_ATTEMPTS)
    (params, opt_state, replay), losses = jax.lax.scan(
        update, (state.params, state.opt_state, replay),
        jax.random.split(update_key, train.updates_per_iteration))
    metrics = {name: jnp.mean(value) for name, value in losses.items()}
    metrics.update(
        solved=stats.solved, moves=stats.moves,
        simulations=stats.moves * search_config.num_simulations,
        param_norm=optax.global_norm(params), replay_size=replay.size, level=state.level)
    # The curriculum moves up a level once the agent solves enough at the current one.
    level = state.level
    if train.curriculum_threshold > 0:
      rate = curriculum_rate(state.params, jax.random.fold_in(play_key, 1), state.level, stats)
      metrics["curriculum_rate"] = rate
      promote = (rate >= train.curriculum_threshold).astype(jnp.int32)
      level = jnp.minimum(state.level + promote, env.num_levels - 1)
    if revisit is not None:
      metrics["revisit_size"] = revisit.size
    if tree_proofs:
      metrics["proved"] = stats.proved
    new_state = TrainState(params=params, opt_state=opt_state, replay=replay, rng_key=key,
                           iteration=state.iteration + 1, level=level, revisit=revisit)
    return new_state, metrics

  replicated = parallel.replicated()
  return jax.jit(iteration, donate_argnums=0, in_shardings=replicated,
                 out_shardings=(replicated, replicated))
