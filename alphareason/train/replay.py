"""An on-device ring buffer of training positions, with fixed shapes for jit."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct


@struct.dataclass
class Positions:
  """Training rows; the leading axis is rows (R)."""

  observation: jax.Array  # [R, *obs] float32
  legal_action_mask: jax.Array  # [R, A] bool
  policy_target: jax.Array  # [R, A] float32, the search's improved policy
  value_target: jax.Array  # [R] float32, the verified outcome of the episode
  policy_weight: jax.Array  # [R] float32, 1 for decisions, 0 for final states
  value_weight: jax.Array  # [R] float32, 1 for real rows, 0 for padding
  # With train.move_verdicts: the legal moves the verifier judged on track [R, A] bool,
  # and [R] float32, 1 where it judged the row's moves (a decision it can judge); else None.
  move_verdicts: jax.Array | None = None
  verdict_weight: jax.Array | None = None

  def unjudged(self) -> "Positions":
    """The same rows with move verdicts of zero weight, in the layout of rows that carry
    verdicts: for rows the verifier judged no move of (value-only rows, empty storage)."""
    rows = self.value_target.shape[0]
    return self.replace(move_verdicts=jnp.zeros(self.legal_action_mask.shape, bool),
                        verdict_weight=jnp.zeros((rows,), jnp.float32))


@struct.dataclass
class ReplayBuffer:
  rows: Positions  # [C, ...] storage, C the capacity
  position: jax.Array  # [] int32, where the next row goes
  size: jax.Array  # [] int32, rows filled so far, at most C

  @classmethod
  def create(cls, capacity: int, observation_shape, num_actions: int, *,
             verdicts: bool = False) -> "ReplayBuffer":
    """An empty buffer; with `verdicts` its rows carry move verdicts (train.move_verdicts)."""
    rows = Positions(
        observation=jnp.zeros((capacity, *observation_shape), jnp.float32),
        legal_action_mask=jnp.zeros((capacity, num_actions), bool),
        policy_target=jnp.zeros((capacity, num_actions), jnp.float32),
        value_target=jnp.zeros((capacity,), jnp.float32),
        policy_weight=jnp.zeros((capacity,), jnp.float32),
        value_weight=jnp.zeros((capacity,), jnp.float32))
    if verdicts:
      rows = rows.unjudged()
    return cls(rows=rows, position=jnp.int32(0), size=jnp.int32(0))

  @property
  def capacity(self) -> int:
    return self.rows.value_target.shape[0]

  def add(self, new: Positions) -> "ReplayBuffer":
    """Writes the R rows that carry a weight after the newest, in order, overwriting the
    oldest once full; rows of zero weight (moves never played) take no room."""
    if new.value_target.shape[0] > self.capacity:
      raise ValueError(f"adding {new.value_target.shape[0]} rows to a buffer of {self.capacity}")
    kept = (new.policy_weight > 0) | (new.value_weight > 0)
    count = jnp.sum(kept).astype(jnp.int32)
    rank = jnp.cumsum(kept) - 1
    # Rows not kept go to an index past the end, which the scatter drops.
    index = jnp.where(kept, (self.position + rank) % self.capacity, self.capacity)
    rows = jax.tree.map(lambda store, x: store.at[index].set(x, mode="drop"), self.rows, new)
    return ReplayBuffer(rows=rows, position=(self.position + count) % self.capacity,
                        size=jnp.minimum(self.size + count, self.capacity))

  def sample(self, key: jax.Array, batch_size: int, *, solved_share: float = 0.0) -> Positions:
    """Rows among those filled, uniformly; the key is consumed.

    With `solved_share` > 0 a row comes from a solved episode (value target 1) with that
    probability, else from a failed one, uniformly within each (all from one kind while
    the buffer holds only that kind): rare successes are not drowned by failures.
    """
    if not solved_share:
      index = jax.random.randint(key, (batch_size,), 0, jnp.maximum(self.size, 1))
      return jax.tree.map(lambda store: store[index], self.rows)
    filled = jnp.arange(self.capacity) < jnp.maximum(self.size, 1)
    solved = filled & (self.rows.value_target > 0.5)
    failed = filled & ~solved
    num_solved, num_failed = jnp.sum(solved), jnp.sum(failed)
    share = jnp.where(num_failed == 0, 1.0, jnp.where(num_solved == 0, 0.0, solved_share))
    weights = (jnp.where(solved, share / jnp.maximum(num_solved, 1), 0.0)
               + jnp.where(failed, (1 - share) / jnp.maximum(num_failed, 1), 0.0))
    index = jax.random.choice(key, self.capacity, (batch_size,), p=weights)
    return jax.tree.map(lambda store: store[index], self.rows)
