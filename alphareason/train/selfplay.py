"""Self-play: a batch of episodes with search at every move, turned into training rows."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from alphareason import parallel
from alphareason.env import Env
from alphareason.networks import Network
from alphareason.search import SearchConfig, run_search
from alphareason.strategies import verified_in_tree
from alphareason.train.replay import Positions, ReplayBuffer


class Move(NamedTuple):
  """What one move of a batch records; stacked over moves by `lax.scan`."""

  observation: jax.Array  # [B, *obs]
  legal_action_mask: jax.Array  # [B, A]
  policy_target: jax.Array  # [B, A]
  live: jax.Array  # [B] bool, the episode had not finished before this move
  proved: jax.Array  # [B] bool, this move's search verified a solution in its tree
  children: Positions | None  # [B * K] value-only rows of backed-up children, or None
  off_track: Positions | None  # [B * J] value-only rows of off-track children, or None
  move_verdicts: jax.Array | None  # [B, A] bool, the moves judged on track, or None
  judged: jax.Array | None  # [B] bool, the verifier judged this state's moves, or None
  state_on_track: jax.Array | None  # [B] bool, the verifier's verdict on this state, or None
  state_judged: jax.Array | None  # [B] bool, the verifier judged this state, or None


class SelfPlayStats(NamedTuple):
  solved: jax.Array  # [] float32, share of episodes verified correct
  moves: jax.Array  # [] int32, live moves played (each one searched)
  outcomes: jax.Array  # [B] float32, each episode's verified outcome
  proved: jax.Array  # [] float32, share of episodes whose search verified a solution
  opened: jax.Array  # [B] bool, the episode's first move was a random one


def sample_problems(env: Env, key: jax.Array, batch_size: int, level: jax.Array | None = None):
  """`batch_size` fresh problems of difficulty `level` (default: the env's full range),
  split over the devices; the key is consumed."""
  level = jnp.int32(env.num_levels - 1) if level is None else level
  return parallel.constrain_batch(jax.vmap(env.sample_problem_at, in_axes=(0, None))(
      jax.random.split(key, batch_size), level))


def play_episodes(env: Env, network: Network, params, key: jax.Array, batch_size: int,
                  search_config: SearchConfig, level: jax.Array | None = None,
                  problems=None, tree_proofs: bool = False, opening_share: float = 0.0,
                  child_backups: int = 0, backup_depth: int = 1,
                  process_targets: bool = False, process_target_spread: float = 0.0,
                  off_track_children: int = 0,
                  move_verdicts: bool = False,
                  state_verdicts: bool = False) -> tuple[Positions, SelfPlayStats]:
  """Plays `batch_size` fresh problems (of difficulty `level`, by default the env's full
  range) to the end; the key is consumed. `problems` ([B, ...]) plays those instead:
  the fresh ones `sample_problems` draws from the key's first half, some swapped for
  others (hard-example replay).

  With `tree_proofs` (and the verifier in search), a solution the search verified in its
  tree proves its root solvable, and every state before it: their value target is 1
  even when the episode, playing on, missed the solution.

  With `opening_share`, that share of the episodes opens with a legal move drawn
  uniformly instead of the searched one, and is searched from there on: self-play then
  reaches, and learns the value of, states its own policy would rarely lead to. The
  random move trains nothing (its row has zero weights).

  With `child_backups` K > 0, every searched state also gives K of its children, drawn
  uniformly among its legal moves, as value-only rows whose target is a full-width backup
  of `backup_depth` moves through the verifier (`backed_up_children`): self-play then
  labels states off its own path, which search at test time rates but seldom visits.

  With `process_targets` (an env that judges partial answers), the policy target keeps
  only the moves `env.on_track_moves` judges on track, renormalised, in each state whose
  moves it can judge (`env.judges_moves`; elsewhere the search's): search shows a wrong
  move wrong only where it visited it, the verifier shows every one. What stays is the
  search's preference among the right moves, so a move right in every position that
  looks alike (a Sudoku digit with one place left) comes to outweigh a lucky guess.
  `process_target_spread` moves that share of the target to an even spread over the
  on-track moves: at 1 the target is the verifier's alone, under which a move's
  probability follows how often moves like it are right, not how often search tried it.

  With `off_track_children` J > 0 (an env that judges partial answers), every searched
  state also gives J of the children its off-track moves reach, drawn uniformly, as
  value-only rows of target 0 (`off_track_rows`), the verifier's label (exact where a
  problem has one answer). A search blind to the reference must rate such states low,
  and self-play on its own path, or process supervision ending them, never shows them
  to the value head live.

  With `move_verdicts` (an env that judges partial answers), every decision row also
  carries the verifier's verdict on each legal move (`Positions.move_verdicts`), which
  the learner may train the policy's logits on as the odds that a move is right.

  With `state_verdicts` (an env that judges partial answers), the value target of each
  state the verifier judges (`env.judges_state`) is its verdict, 1 on track and 0 off
  (`env.on_track`), not the episode's outcome: the value head learns whether an answer
  can still end right, which a search blind to the reference needs to tell a wrong step
  from a right one, rather than whether this agent went on to finish it (under process
  supervision, every state of a failed episode but the last is on track).

  Rows: one per (episode, move) with the search policy as policy target and the
  episode's verified outcome as value target, plus one per episode for its final state
  (value target only), which teaches the value head to judge finished answers: the
  learned verifier that search uses when the oracle is hidden. Rows of moves never
  played (an episode shorter than max_steps) carry zero weights; the replay skips them.
  """
  problem_key, play_key = jax.random.split(key)
  child_backups = min(child_backups, env.num_actions)
  # Episodes are split over the devices; everything downstream follows this layout.
  if problems is None:
    problems = sample_problems(env, problem_key, batch_size, level)  # split already
  else:
    problems = parallel.constrain_batch(problems)
  states = jax.vmap(env.init)(problems)
  steps = env.max_steps
  keys = jax.random.split(play_key, steps)
  child_keys = jax.random.split(jax.random.fold_in(key, 3), steps)
  off_track_keys = jax.random.split(jax.random.fold_in(key, 4), steps)
  # Their own keys, so that runs without openings draw exactly as before.
  share_key, opening_key = jax.random.split(jax.random.fold_in(key, 2))
  opened = jax.random.uniform(share_key, (batch_size,)) < opening_share
  opening = jax.random.categorical(opening_key, jnp.where(states.legal_action_mask, 0.0, -jnp.inf))

  def first_action(t, searched):
    return jnp.where(opened & (t == 0), opening, searched) if opening_share else searched

  def unfinished(carry):
    t, states, _, _ = carry
    return (t < steps) & jnp.any(~(states.terminated | states.truncated))

  def move(carry):
    t, states, returns, moves = carry
    output = run_search(env, network, params, keys[t], states, search_config)
    live = ~(states.terminated | states.truncated)
    proved = live & verified_in_tree(output.search_tree)[0] if tree_proofs else live & False
    # A finished episode's state has no legal move, so it gives no weighted child.
    children = backed_up_children(env, network, params, child_keys[t], states, child_backups,
                                  backup_depth) if child_backups else None
    target = output.action_weights
    if process_targets or off_track_children or move_verdicts:
      on_track = jax.vmap(env.on_track_moves)(states)
      judged = jax.vmap(env.judges_moves)(states)
    if process_targets:
      # An unjudged state's moves are all "on track": none kept leaves its target as searched.
      target = on_track_target(target, on_track & judged[:, None], process_target_spread)
    off_track = off_track_rows(env, off_track_keys[t], states, on_track,
                               off_track_children) if off_track_children else None
    record = Move(states.observation, states.legal_action_mask, target, live, proved, children,
                  off_track, on_track if move_verdicts else None,
                  judged if move_verdicts else None,
                  jax.vmap(env.on_track)(states) if state_verdicts else None,
                  jax.vmap(env.judges_state)(states) if state_verdicts else None)
    moves = jax.tree.map(lambda buffer, x: buffer.at[t].set(x), moves, record)
    states = jax.vmap(env.step)(states, first_action(t, output.action))
    return t + 1, states, returns + states.reward, moves

  def empty_rows(count):  # [T, count] rows of zero weight
    return jax.tree.map(lambda x: jnp.zeros((steps, *x.shape), x.dtype),
                        ReplayBuffer.create(count, env.observation_shape, env.num_actions).rows)

  # Move t of every episode goes to row t of fixed [T, B] buffers; the loop stops once all
  # episodes have finished, and rows never played stay dead (live False).
  empty = Move(
      observation=jnp.zeros((steps, *states.observation.shape), jnp.float32),
      legal_action_mask=jnp.zeros((steps, *states.legal_action_mask.shape), bool),
      policy_target=jnp.zeros((steps, *states.legal_action_mask.shape), jnp.float32),
      live=jnp.zeros((steps, batch_size), bool), proved=jnp.zeros((steps, batch_size), bool),
      children=None if not child_backups else empty_rows(batch_size * child_backups),
      off_track=None if not off_track_children else empty_rows(batch_size * off_track_children),
      move_verdicts=(jnp.zeros((steps, *states.legal_action_mask.shape), bool)
                     if move_verdicts else None),
      judged=jnp.zeros((steps, batch_size), bool) if move_verdicts else None,
      state_on_track=jnp.zeros((steps, batch_size), bool) if state_verdicts else None,
      state_judged=jnp.zeros((steps, batch_size), bool) if state_verdicts else None)
  # The reward is the verified outcome, paid once: the return is the outcome.
  _, final, outcome, moves = jax.lax.while_loop(
      unfinished, move, (jnp.int32(0), states, jnp.zeros(batch_size), empty))

  def flatten(x):  # [T, B, ...] -> [T * B, ...]
    return x.reshape(-1, *x.shape[2:])

  live = flatten(moves.live).astype(jnp.float32)
  # Row t * B + b is move t of episode b: a random opening's row trains nothing.
  live *= jnp.concatenate([~opened, jnp.ones((steps - 1) * batch_size, bool)])
  move_values = move_value_targets(outcome, moves.proved)
  if state_verdicts:
    move_values = jnp.where(moves.state_judged, moves.state_on_track.astype(jnp.float32),
                            move_values)
  rows = Positions(
      observation=jnp.concatenate([flatten(moves.observation), final.observation]),
      legal_action_mask=jnp.concatenate(
          [flatten(moves.legal_action_mask), final.legal_action_mask]),
      policy_target=jnp.concatenate(
          [flatten(moves.policy_target), jnp.zeros_like(moves.policy_target[0])]),
      value_target=jnp.concatenate([flatten(move_values), outcome]),
      policy_weight=jnp.concatenate([live, jnp.zeros(batch_size)]),
      value_weight=jnp.concatenate(
          [live, (final.terminated | final.truncated).astype(jnp.float32)]))
  if move_verdicts:
    # A final state's row has no decision to judge.
    rows = rows.replace(
        move_verdicts=jnp.concatenate(
            [flatten(moves.move_verdicts), jnp.zeros_like(final.legal_action_mask)]),
        verdict_weight=jnp.concatenate([live * flatten(moves.judged), jnp.zeros(batch_size)]))
  for extra in (moves.children, moves.off_track):
    if extra is not None:
      extra = jax.tree.map(flatten, extra)
      extra = extra.unjudged() if move_verdicts else extra
      rows = jax.tree.map(lambda a, b: jnp.concatenate([a, b]), rows, extra)
  stats = SelfPlayStats(solved=jnp.mean(outcome), moves=jnp.sum(moves.live).astype(jnp.int32),
                        outcomes=outcome, proved=jnp.mean(jnp.any(moves.proved, 0)),
                        opened=opened)
  return rows, stats


def on_track_target(policy: jax.Array, on_track: jax.Array, spread: float = 0.0) -> jax.Array:
  """The policy [B, A] restricted to the on-track moves [B, A] and renormalised, with a
  `spread` share of it moved to an even spread over the on-track moves (all of it where
  the policy gave them nothing); as it was where no move is on track (a finished state,
  whose row trains nothing)."""
  kept = jnp.where(on_track, policy, 0.0)
  total = jnp.sum(kept, axis=-1, keepdims=True)
  count = jnp.sum(on_track, axis=-1, keepdims=True)
  even = on_track / jnp.maximum(count, 1)
  searched = jnp.where(total > 0, kept / jnp.where(total > 0, total, 1.0), even)
  return jnp.where(count > 0, (1 - spread) * searched + spread * even, policy)


def off_track_rows(env: Env, key: jax.Array, states, on_track: jax.Array,
                   count: int) -> Positions:
  """Value-only rows [B * count] of target 0 for `count` children of each of the B
  `states`, drawn uniformly without replacement among its legal moves that `on_track`
  ([B, A], `env.on_track_moves`) judges off track; the key is consumed. A state with
  fewer such moves (or none: a finished one) gives the rest with weight 0."""
  children, drawn = drawn_children(env, key, states, states.legal_action_mask & ~on_track,
                                   count)
  return value_rows(children, jnp.zeros(drawn.shape, jnp.float32), drawn)


def drawn_children(env: Env, key: jax.Array, states, allowed: jax.Array, count: int):
  """`count` children of each of the B `states` ([B * count], state b's first), drawn
  uniformly without replacement among its `allowed` moves ([B, A]), and whether each
  was drawn from one ([B * count] bool: past a state's allowed moves, it was not); the
  key is consumed."""
  batch_size, num_actions = allowed.shape
  scores = jax.random.gumbel(key, (batch_size, num_actions))
  # The top `count` Gumbel scores over the allowed moves: a uniform draw without replacement.
  _, actions = jax.lax.top_k(jnp.where(allowed, scores, -jnp.inf), count)
  drawn = jnp.take_along_axis(allowed, actions, 1).reshape(-1)
  children = jax.vmap(jax.vmap(env.step, in_axes=(None, 0)))(states, actions)  # [B, K]
  return jax.tree.map(lambda x: x.reshape(-1, *x.shape[2:]), children), drawn


def value_rows(states, value_target: jax.Array, weighted: jax.Array) -> Positions:
  """Value-only training rows of `states` ([R]): no policy target, weight 1 where
  `weighted` ([R] bool)."""
  rows, num_actions = states.legal_action_mask.shape
  return Positions(
      observation=states.observation,
      legal_action_mask=states.legal_action_mask,
      policy_target=jnp.zeros((rows, num_actions), jnp.float32),
      value_target=value_target,
      policy_weight=jnp.zeros(rows, jnp.float32),
      value_weight=weighted.astype(jnp.float32))


def move_value_targets(outcome: jax.Array, proved: jax.Array) -> jax.Array:
  """The value target of each move [T, B]: the episode's outcome [B], or 1 where a search
  at that move or a later one verified a solution (`proved` [T, B]), which shows the
  move's state solvable."""
  proved_later = jnp.flip(jnp.cumsum(jnp.flip(proved, 0), 0), 0) > 0
  return jnp.maximum(outcome[None], proved_later.astype(jnp.float32))


def backed_up_children(env: Env, network: Network, params, key: jax.Array, states,
                       count: int, depth: int = 1) -> Positions:
  """Value-only rows [B * count] for `count` children of each of the B `states`, drawn
  uniformly among its legal moves without replacement; the key is consumed.

  A child's target is a `depth`-step full-width backup (`backed_up_values`): its verified
  outcome if it ends the episode, else the best over all its lines of `depth` moves of
  the verified outcome of a line that ends it or the network's value where it stops.
  Within `depth` moves of the end (Game of 24: depth 2 from the first move's result) the
  target is exact; earlier ones stand on the network's values. A child past a state's
  legal moves (fewer than `count`) or of a finished state has weight 0.
  """
  children, drawn = drawn_children(env, key, states, states.legal_action_mask, count)
  finished = children.terminated | children.truncated
  backed_up = backed_up_values(env, network, params, children, drawn & ~finished, depth,
                               chunk=drawn.shape[0])
  return value_rows(children, jnp.where(finished, children.reward, backed_up), drawn)


def backed_up_values(env: Env, network: Network, params, states, needed: jax.Array,
                     depth: int, chunk: int) -> jax.Array:
  """[N] values of the `needed` [N] live `states` (0 elsewhere): at depth 0 the network's
  value; deeper, the best over every legal move of the verified outcome if the move ends
  the episode, else the value at depth - 1 of the state it reaches.

  The needed states go `chunk` at a time, as many rounds as there are needed states, and
  each level asks only for the live states a legal move reaches: the cost follows the
  states that matter (near the end of an episode, and among the A slots of a state, few),
  not N * A**depth.
  """
  size = needed.shape[0]
  padded = -(-size // chunk) * chunk
  # Needed states first; the padding index (size) is past the end.
  order = jnp.nonzero(needed, size=padded, fill_value=size)[0]
  num_actions = env.num_actions

  def body(carry):
    i, values = carry
    index = jax.lax.dynamic_slice(order, (i * chunk,), (chunk,))
    part = jax.tree.map(lambda x: x[jnp.minimum(index, size - 1)], states)  # [C]
    if depth == 0:
      _, value_logits = network.apply(params, part.observation)
      value = jax.nn.sigmoid(value_logits)
    else:
      moved = jax.vmap(jax.vmap(env.step, in_axes=(None, 0)), in_axes=(0, None))(
          part, jnp.arange(num_actions))
      moved = jax.tree.map(lambda x: x.reshape(-1, *x.shape[2:]), moved)  # [C * A]
      ended = moved.terminated | moved.truncated
      legal = part.legal_action_mask.reshape(-1)
      later = backed_up_values(env, network, params, moved, legal & ~ended, depth - 1, chunk)
      reached = jnp.where(ended, moved.reward, later).reshape(chunk, num_actions)
      value = jnp.max(jnp.where(part.legal_action_mask, reached, 0.0), -1)
    return i + 1, values.at[index].set(value, mode="drop")

  _, values = jax.lax.while_loop(lambda carry: carry[0] * chunk < jnp.sum(needed), body,
                                 (jnp.int32(0), jnp.zeros(size, jnp.float32)))
  return values
