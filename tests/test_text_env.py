"""TokenEnv: a task from a generator and a verifier, the host verifier, the causal network."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

import alphareason
from alphareason.checker import check_env
from alphareason.env import ProblemError
from alphareason.envs.text import PAD, TokenEnv
from alphareason.networks import CausalTransformer, make_network


class SortLetters(TokenEnv):
  """Write a word's letters in alphabetical order: 'dcab' -> 'abcd'."""

  def __init__(self, max_length: int = 5, exclude=()):
    self.max_length = max_length
    super().__init__(vocabulary=tuple("abcd"), question_length=max_length,
                     max_answer_length=max_length, exclude=exclude)

  def generate(self, key):
    length_key, letters_key = jax.random.split(key)
    length = jax.random.randint(length_key, (), 1, self.max_length + 1)
    letters = jax.random.randint(letters_key, (self.max_length,), 0, 4)
    question = jnp.where(jnp.arange(self.max_length) < length, letters, PAD)
    return question, self.solve(question)

  def solve(self, question):
    # PAD (-1) sorts first: roll the sorted padding to the end.
    ordered = jnp.sort(question)
    return jnp.roll(ordered, -jnp.sum(question == PAD))

  def verify(self, question, reference, answer, length):
    return jnp.all(answer == reference)

  @staticmethod
  def reference_check(problem_text, answer_text):
    return answer_text == "".join(sorted(problem_text))


class SortLettersOnHost(SortLetters):
  """The same task, verified in plain Python through jax.pure_callback."""

  verify = TokenEnv.verify

  def verify_on_host(self, question, reference, answer):
    return answer == sorted(question)


JAX_ENV, HOST_ENV = SortLetters(), SortLettersOnHost()


def write(env, text, answer):
  step = jax.jit(env.step)
  state = env.init(env.parse_problem(text))
  for letter in answer:
    state = step(state, env.token_ids[letter])
  if not bool(state.terminated):
    state = step(state, env.end_of_answer)
  return state


@pytest.mark.parametrize("env", [JAX_ENV, HOST_ENV], ids=["jax", "host"])
def test_check_env(env):
  assert check_env(env, episodes=16).ok


@pytest.mark.parametrize("env", [JAX_ENV, HOST_ENV], ids=["jax", "host"])
def test_rewards(env):
  for text, answer, reward in (("dcab", "abcd", 1), ("dcab", "abdc", 0), ("dcab", "abc", 0),
                               ("ccaab", "aabcc", 1), ("b", "b", 1), ("b", "bb", 0)):
    state = write(env, text, answer)
    assert bool(state.terminated) and float(state.reward) == reward, (text, answer)
    assert env.answer_text(state) == answer
    assert env.reference_check(text, env.answer_text(state)) == bool(reward)


def test_host_verifier_agrees_with_jax_verifier():
  keys = jax.random.split(jax.random.PRNGKey(0), 64)

  def rollout(env, key):
    problem_key, play_key = jax.random.split(key)
    state = env.init(env.sample_problem(problem_key))
    # Near-solutions, so both outcomes occur: the sorted answer with a random letter
    # changed or the answer ended early, sometimes.
    reference = state.problem.reference
    change_key, end_key = jax.random.split(play_key)
    wrong_at = jax.random.randint(change_key, (), 0, 3 * env.max_answer_length)
    end_at = jax.random.randint(end_key, (), 0, 3 * env.max_answer_length)
    rewards = []
    for t in range(env.max_answer_length + 1):
      letter = jnp.where(t == wrong_at, (reference[t % env.max_answer_length] + 1) % 4,
                         reference[t % env.max_answer_length])
      action = jnp.where((letter == PAD) | (t == end_at) | (t == env.max_answer_length),
                         env.end_of_answer, letter)
      state = env.step(state, action)
      rewards.append(state.reward)
    return jnp.stack(rewards)

  jax_rewards = jax.jit(jax.vmap(lambda k: rollout(JAX_ENV, k)))(keys)
  host_rewards = jax.jit(jax.vmap(lambda k: rollout(HOST_ENV, k)))(keys)
  np.testing.assert_array_equal(jax_rewards, host_rewards)
  solved = np.asarray(jax_rewards.sum(1))
  assert 0 < solved.sum() < len(solved)  # both outcomes were tested
  # Unbatched, the host verifier runs under lax.cond.
  np.testing.assert_array_equal(jax.jit(lambda k: rollout(HOST_ENV, k))(keys[0]), jax_rewards[0])


def test_observation_marks_the_position_to_read():
  env = JAX_ENV
  state = env.init(env.parse_problem("dca"))
  q = env.question_length
  obs = np.asarray(state.observation)
  assert obs.shape == env.observation_shape == (q + 1 + env.max_answer_length, len(env.tokens) + 1)
  assert np.argmax(obs[:, -1]) == q  # the start-of-answer marker
  assert obs[q, env.token_ids["<answer>"]] == 1 and obs[3:q, :-1].sum() == 0  # padding
  state = env.step(env.step(state, env.token_ids["a"]), env.token_ids["c"])
  obs = np.asarray(state.observation)
  assert np.argmax(obs[:, -1]) == q + 2 and obs[q + 2, env.token_ids["c"]] == 1
  state = env.step(state, env.end_of_answer)
  obs = np.asarray(state.observation)
  assert np.argmax(obs[:, -1]) == q + 3 and obs[q + 3, env.end_of_answer] == 1


def test_host_side():
  env = JAX_ENV
  assert env.problem_text(env.parse_problem(" d c a b ")) == "dcab"
  for bad in ("", "abcdab", "abx"):
    with pytest.raises(ProblemError):
      env.parse_problem(bad)
  assert not env.self_verifiable and env.default_network == "causal"


def test_a_task_defines_exactly_one_verifier():
  class Both(SortLettersOnHost):
    verify = SortLetters.verify

  class Neither(SortLetters):
    verify = TokenEnv.verify

  for task in (Both, Neither):
    with pytest.raises(TypeError, match="exactly one of verify"):
      task()
  with pytest.raises(ValueError, match="distinct"):
    TokenEnv.__init__(SortLetters.__new__(SortLetters), vocabulary=("a", "a"),
                      question_length=2, max_answer_length=2)


def test_excluded_problems_are_never_sampled():
  env = SortLetters(max_length=1)  # four problems: "a", "b", "c", "d"
  keys = [env.problem_key(env.parse_problem(text)) for text in "abc"]
  restricted = SortLetters(max_length=1, exclude=np.asarray(keys))
  problems = jax.vmap(restricted.sample_problem)(jax.random.split(jax.random.PRNGKey(0), 32))
  assert set(np.asarray(problems.question)[:, 0]) == {3}


def test_causal_network_ignores_tokens_after_the_read_position():
  env = alphareason.make("add-v0")
  config = ml_collections.ConfigDict(dict(family="auto", width=32, depth=2, num_heads=4,
                                          dtype="float32"))
  network = make_network(config, env)
  assert isinstance(network.module, CausalTransformer)
  params = network.init(jax.random.PRNGKey(0))
  step = jax.jit(env.step)
  state = env.init(env.parse_problem("123 + 456"))
  for digit in (5, 7):
    state = step(state, digit)
  obs = np.asarray(state.observation)
  read = int(np.argmax(obs[:, -1]))
  # Random features after the read position, the marker kept where it was.
  noise = np.random.default_rng(0).random((4, *obs.shape), dtype=np.float32)
  batch = np.repeat(obs[None], 4, axis=0)
  batch[:, read + 1:, :-1] = noise[:, read + 1:, :-1]
  logits, value = network.apply(params, jnp.asarray(batch))
  np.testing.assert_allclose(logits, np.repeat(logits[:1], 4, 0), rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(value, np.repeat(value[:1], 4, 0), rtol=1e-5, atol=1e-5)
  # ...while a change at or before it does change them.
  changed = obs.copy()
  changed[read - 1, :-1] = noise[0, read - 1, :-1]
  other_logits, _ = network.apply(params, jnp.asarray(changed[None]))
  assert not np.allclose(other_logits[0], logits[0], atol=1e-5)
  assert logits.shape == (4, env.num_actions) and value.shape == (4,)
