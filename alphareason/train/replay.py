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


@struct.dataclass
class ReplayBuffer:
  rows: Positions  # [C, ...] storage, C the capacity
  position: jax.Array  # [] int32, where the next row goes
  size: jax.Array  # [] int32, rows filled so far, at most C

  @classmethod
  def create(cls, capacity: int, observation_shape, num_actions: int) -> "ReplayBuffer":
    rows = Positions(
        observation=jnp.zeros((capacity, *observation_shape), jnp.float32),
        legal_action_mask=jnp.zeros((capacity, num_actions), bool),
        policy_target=jnp.zeros((capacity, num_actions), jnp.float32),
        value_target=jnp.zeros((capacity,), jnp.float32),
        policy_weight=jnp.zeros((capacity,), jnp.float32),
        value_weight=jnp.zeros((capacity,), jnp.float32))
    return cls(rows=rows, position=jnp.int32(0), size=jnp.int32(0))

  @property
  def capacity(self) -> int:
    return self.rows.value_target.shape[0]

  def add(self, new: Positions) -> "ReplayBuffer":
    """Writes R rows after the newest, overwriting the oldest once full."""
    count = new.value_target.shape[0]
    if count > self.capacity:
      raise ValueError(f"adding {count} rows to a buffer of {self.capacity}")
    index = (self.position + jnp.arange(count)) % self.capacity
    rows = jax.tree.map(lambda store, x: store.at[index].set(x), self.rows, new)
    return ReplayBuffer(rows=rows, position=(self.position + count) % self.capacity,
                        size=jnp.minimum(self.size + count, self.capacity))

  def sample(self, key: jax.Array, batch_size: int) -> Positions:
    """Uniform rows among those filled; the key is consumed."""
    index = jax.random.randint(key, (batch_size,), 0, jnp.maximum(self.size, 1))
    return jax.tree.map(lambda store: store[index], self.rows)
