"""The rules the Env base class enforces, and check_env on every registered env."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import struct

import alphareason
from alphareason.checker import EnvContractError, check_env
from alphareason.env import Env, State


@struct.dataclass
class GuessState(State):
  tried: jax.Array  # [4] bool


class Guess(Env):
  """Guess a secret in 0..3; a wrong guess rules it out; after two wrong guesses, a dead end."""

  num_actions = 4
  observation_shape = (4,)
  max_steps = 3
  self_verifiable = True

  def sample_problem(self, key):
    return jax.random.randint(key, (), 0, 4)

  def _init(self, problem):
    return GuessState(observation=jnp.zeros(4), legal_action_mask=jnp.ones(4, bool),
                      reward=jnp.float32(0), terminated=jnp.bool_(False),
                      truncated=jnp.bool_(False), step_count=jnp.int32(0), problem=problem,
                      tried=jnp.zeros(4, bool))

  def _step(self, state, action):
    tried = state.tried.at[action].set(True)
    hit = action == state.problem
    # After two misses nothing is legal: the base class must end this as a failure.
    mask = ~tried & (jnp.sum(tried) < 2)
    return state.replace(tried=tried, observation=tried.astype(jnp.float32),
                         legal_action_mask=mask, terminated=hit, reward=hit.astype(jnp.float32))

  def parse_problem(self, text):
    return np.int32(int(text))

  def problem_text(self, problem):
    return str(int(problem))

  def answer_text(self, state):
    return str(int(np.argmax(np.asarray(state.tried) & (np.arange(4) == int(state.problem)))))

  @staticmethod
  def reference_check(problem_text, answer_text):
    return problem_text.strip() == answer_text.strip()


ENV = Guess()


def test_reward_is_paid_once_and_finished_states_are_frozen():
  state = ENV.step(ENV.init(jnp.int32(2)), 2)
  assert bool(state.terminated) and float(state.reward) == 1.0
  again = ENV.step(state, 1)
  assert float(again.reward) == 0.0 and bool(again.terminated)
  assert int(again.step_count) == int(state.step_count)
  assert not bool(jnp.any(again.legal_action_mask))


def test_an_illegal_action_fails_the_episode():
  state = ENV.step(ENV.init(jnp.int32(2)), 0)
  assert not bool(state.legal_action_mask[0])
  failed = ENV.step(state, 0)  # guessing 0 twice is illegal
  assert bool(failed.terminated) and float(failed.reward) == 0.0
  out_of_range = ENV.step(ENV.init(jnp.int32(2)), 7)
  assert bool(out_of_range.terminated) and float(out_of_range.reward) == 0.0


def test_a_dead_end_is_a_terminal_failure():
  state = ENV.step(ENV.step(ENV.init(jnp.int32(3)), 0), 1)
  assert bool(state.terminated) and not bool(state.truncated) and float(state.reward) == 0.0


def test_rules_hold_under_jit_and_vmap():
  step = jax.jit(jax.vmap(ENV.step))
  states = jax.vmap(ENV.init)(jnp.arange(4))
  states = step(states, jnp.array([0, 0, 0, 0]))
  np.testing.assert_array_equal(states.reward, [1, 0, 0, 0])
  states = step(states, jnp.array([1, 1, 1, 1]))
  np.testing.assert_array_equal(states.reward, [0, 1, 0, 0])  # episode 0 paid already
  np.testing.assert_array_equal(states.terminated, [True, True, True, True])


def test_check_env_accepts_a_correct_env():
  assert check_env(ENV).ok


def test_check_env_catches_a_reward_paid_twice():
  class PaysTwice(Guess):
    def step(self, state, action):  # overrides the base class's rules: a broken env
      nxt = super().step(state, action)
      return nxt.replace(reward=jnp.where(state.terminated, 1.0, nxt.reward))

  with pytest.raises(EnvContractError, match="reward paid"):
    check_env(PaysTwice(), episodes=32)


@pytest.mark.parametrize("env_id", [spec.env_id for spec in alphareason.registered_envs()])
def test_every_registered_env_obeys_the_contract(env_id):
  report = check_env(alphareason.make(env_id), episodes=32)
  assert report.ok and len(report.passed) >= 15
