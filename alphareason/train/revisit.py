"""Hard-example replay: problems self-play failed, kept on device and played again.

A ring of the most recently failed problems (fixed shapes, any env's problem pytree).
Each iteration the newest of them take the place of some fresh problems; a problem that
fails again goes back in, until it has been played `max_attempts` times, so a problem
that has no solution (or none the agent will find) cannot crowd out the rest.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct

from alphareason.env import Env, Problem, tree_select


@struct.dataclass
class FailedProblems:
  problems: Problem  # [K, ...] storage, K the capacity
  attempts: jax.Array  # [K] int32, how often each stored problem has been played
  head: jax.Array  # [] int32, where the next failure goes
  size: jax.Array  # [] int32, problems stored, at most K

  @classmethod
  def create(cls, env: Env, capacity: int) -> "FailedProblems":
    shapes = jax.eval_shape(env.sample_problem, jax.random.PRNGKey(0))
    problems = jax.tree.map(lambda s: jnp.zeros((capacity, *s.shape), s.dtype), shapes)
    return cls(problems=problems, attempts=jnp.zeros(capacity, jnp.int32),
               head=jnp.int32(0), size=jnp.int32(0))

  @property
  def capacity(self) -> int:
    return self.attempts.shape[0]

  def take(self, fresh: Problem, count: int) -> tuple[Problem, jax.Array, "FailedProblems"]:
    """Puts up to `count` of the newest failures in place of the first fresh problems
    ([B, ...], B >= count); returns the problems, each one's attempts so far ([B] int32,
    0 for a fresh one), and the ring without the ones taken."""
    batch = jax.tree.leaves(fresh)[0].shape[0]
    taken = jnp.minimum(self.size, count)
    slot = jnp.arange(batch)
    use = slot < taken
    index = (self.head - 1 - slot) % self.capacity  # newest first
    stored = jax.tree.map(lambda store: store[index], self.problems)
    problems = jax.vmap(tree_select)(use, stored, fresh)
    attempts = jnp.where(use, self.attempts[index], 0)
    rest = self.replace(head=(self.head - taken) % self.capacity, size=self.size - taken)
    return problems, attempts, rest

  def put(self, problems: Problem, attempts: jax.Array, failed: jax.Array,
          max_attempts: int) -> "FailedProblems":
    """Stores the problems ([B, ...]) that `failed` ([B] bool) after `attempts` + 1 plays,
    unless they have had max_attempts, newest last, overwriting the oldest once full."""
    played = attempts + 1
    kept = failed & (played < max_attempts)
    rank = jnp.cumsum(kept) - 1
    index = jnp.where(kept, (self.head + rank) % self.capacity, self.capacity)  # past the end: dropped
    count = jnp.sum(kept).astype(jnp.int32)
    stored = jax.tree.map(lambda store, x: store.at[index].set(x, mode="drop"),
                          self.problems, problems)
    return FailedProblems(problems=stored, attempts=self.attempts.at[index].set(played, mode="drop"),
                          head=(self.head + count) % self.capacity,
                          size=jnp.minimum(self.size + count, self.capacity))
