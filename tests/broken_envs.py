"""A tiny valid env, and one deliberately broken copy of it per rule check_env enforces.

Importable by the command line as `broken_envs:NAME` (tests/ is on sys.path). Several
rules cannot be broken through the base class's `init`/`step`, so those envs override
the public methods, as an env that does not inherit the rules might.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from alphareason.env import Env, State


@struct.dataclass
class ClimbState(State):
  position: jax.Array  # [] int32


class Climb(Env):
  """Climb from 0 to a target in 2..5 by steps of 1, 2 or 3, never overshooting.

  Reaching the target pays 1; three steps may not be enough (max_steps truncates).
  """

  num_actions = 3
  observation_shape = (2,)
  max_steps = 3
  self_verifiable = True

  def sample_problem(self, key):
    return jax.random.randint(key, (), 2, 6)

  def _observe(self, position, target):
    return jnp.stack([position, target]).astype(jnp.float32) / 5

  def _init(self, problem):
    position = jnp.int32(0)
    return ClimbState(observation=self._observe(position, problem),
                      legal_action_mask=self._legal(position, problem), reward=jnp.float32(0),
                      terminated=jnp.bool_(False), truncated=jnp.bool_(False),
                      step_count=jnp.int32(0), problem=problem, position=position)

  def _legal(self, position, target):
    return position + jnp.arange(1, 4) <= target

  def _step(self, state, action):
    position = state.position + action + 1
    done = position == state.problem
    return state.replace(position=position, observation=self._observe(position, state.problem),
                         legal_action_mask=self._legal(position, state.problem),
                         terminated=done, reward=done.astype(jnp.float32))

  def parse_problem(self, text):
    return np.int32(int(text))

  def problem_text(self, problem):
    return str(int(problem))

  def answer_text(self, state):
    return str(int(state.position))

  @staticmethod
  def reference_check(problem_text, answer_text):
    return problem_text.strip() == answer_text.strip()


CLIMB = Climb()  # an instance, as `broken_envs:CLIMB`


def make_climb() -> Climb:  # a factory, as `broken_envs:make_climb`
  return Climb()


NOT_AN_ENV = 42


# --- 1. a step that cannot be jitted ----------------------------------------------

class BranchesOnTracer(Climb):
  def _step(self, state, action):
    if action == 0:  # Python control flow on a traced value
      return super()._step(state, jnp.int32(0))
    return super()._step(state, action)


class CallsItem(Climb):
  def _step(self, state, action):
    return super()._step(state, jnp.int32(action.item()))  # .item() needs a concrete value


class StepRaises(Climb):
  def _step(self, state, action):  # broken with or without jit
    raise ValueError("no way up\nsecond line of the message")


# --- 2. an impure step: same input, different output --------------------------------

_calls = itertools.count()


class ReadsGlobalCounter(Climb):
  def _step(self, state, action):
    moved = super()._step(state, action)
    return moved.replace(observation=moved.observation + next(_calls))


class ReadsNumpyRandom(Climb):
  def _step(self, state, action):
    moved = super()._step(state, action)
    return moved.replace(observation=moved.observation * np.float32(np.random.uniform(1, 2)))


# --- 3. a legal mask that is all false in a live state ------------------------------

class ForgetsTheMask(Climb):
  def step(self, state, action):  # skips the base class's dead-end rule
    moved = super().step(state, action)
    return moved.replace(legal_action_mask=jnp.zeros_like(moved.legal_action_mask))


class StartsWithoutMoves(Climb):
  def init(self, problem):
    state = super().init(problem)
    return state.replace(legal_action_mask=jnp.zeros_like(state.legal_action_mask))


# --- 4. wrong dtypes or shapes ----------------------------------------------------

class IntObservation(Climb):
  def init(self, problem):
    state = super().init(problem)
    return state.replace(observation=state.observation.astype(jnp.int32))


class VectorReward(Climb):
  def step(self, state, action):
    moved = super().step(state, action)
    return moved.replace(reward=moved.reward[None])


class FloatStepCount(Climb):
  def step(self, state, action):
    moved = super().step(state, action)
    return moved.replace(step_count=moved.step_count.astype(jnp.float32))


# --- 5. NaN or infinite values ------------------------------------------------------

class NanObservation(Climb):
  def _step(self, state, action):
    moved = super()._step(state, action)
    return moved.replace(observation=moved.observation.at[0].set(jnp.nan))


class InfiniteReward(Climb):
  def _step(self, state, action):
    moved = super()._step(state, action)
    return moved.replace(reward=jnp.where(moved.terminated, jnp.inf, 0.0))


# --- 6. a reward paid twice -----------------------------------------------------------

class PaysTwice(Climb):
  def step(self, state, action):  # pays again when a finished episode is stepped
    moved = super().step(state, action)
    return moved.replace(reward=jnp.where(state.terminated, 1.0, moved.reward))


# --- 7. a state that changes after termination ----------------------------------------

class MovesAfterTheEnd(Climb):
  def step(self, state, action):
    moved = super().step(state, action)
    finished = state.terminated | state.truncated
    return moved.replace(position=jnp.where(finished, moved.position + 1, moved.position))
