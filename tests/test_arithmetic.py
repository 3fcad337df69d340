"""Token-level arithmetic: the reference, the rewards, both digit orders, the host side."""

import jax
import numpy as np
import pytest

import alphareason
from alphareason.checker import check_env
from alphareason.env import ProblemError
from alphareason.envs.arithmetic import Arithmetic

ENVS = {(env_id, order): alphareason.make(env_id, digit_order=order)
        for env_id in ("add-v0", "mul-v0") for order in ("msd", "lsd")}


def play(env, text: str, answer: str, *, end: bool = True):
  """Writes `answer`'s digits in the env's digit order, then ends it; the final state."""
  digits = answer[::-1] if env.digit_order == "lsd" else answer
  step = jax.jit(env.step)
  state = env.init(env.parse_problem(text))
  for digit in digits:
    assert not bool(state.terminated)
    state = step(state, int(digit))
  if end and not bool(state.terminated):
    state = step(state, env.end_of_answer)
  return state


@pytest.mark.parametrize("key", list(ENVS), ids=lambda k: f"{k[0]}-{k[1]}")
def test_check_env(key):
  assert check_env(ENVS[key], episodes=16).ok


@pytest.mark.parametrize("order", ["msd", "lsd"])
@pytest.mark.parametrize("text,result", [("12345678 + 87654321", "99999999"),
                                         ("99999999 + 99999999", "199999998"),
                                         ("0 + 0", "0"), ("5 + 7", "12")])
def test_correct_addition_pays_and_checks(order, text, result):
  env = ENVS["add-v0", order]
  state = play(env, text, result)
  assert bool(state.terminated) and float(state.reward) == 1.0
  assert env.answer_text(state) == result
  assert Arithmetic.reference_check(text, env.answer_text(state))


@pytest.mark.parametrize("order", ["msd", "lsd"])
@pytest.mark.parametrize("text,result", [("999 * 999", "998001"), ("7 * 0", "0"),
                                         ("120 * 5", "600"), ("13 * 17", "221")])
def test_correct_multiplication_pays_and_checks(order, text, result):
  env = ENVS["mul-v0", order]
  state = play(env, text, result)
  assert float(state.reward) == 1.0 and env.answer_text(state) == result
  assert Arithmetic.reference_check(text, result)


@pytest.mark.parametrize("order", ["msd", "lsd"])
def test_wrong_answers_pay_nothing(order):
  env = ENVS["add-v0", order]
  text = "456 + 789"  # 1245
  for wrong in ("1246", "2245", "124", "01245", "12450"):
    state = play(env, text, wrong)
    assert bool(state.terminated) and float(state.reward) == 0.0, wrong
    assert not Arithmetic.reference_check(text, env.answer_text(state))


def test_early_end_of_answer_pays_nothing():
  env = ENVS["add-v0", "msd"]
  state = play(env, "456 + 789", "12")
  assert bool(state.terminated) and float(state.reward) == 0.0
  # The end-of-answer token is no first move: an empty answer is never legal.
  state = env.init(env.parse_problem("456 + 789"))
  assert not bool(state.legal_action_mask[env.end_of_answer])
  assert bool(state.legal_action_mask[:10].all())


def test_full_answer_ends_the_episode():
  env = ENVS["add-v0", "msd"]
  state = play(env, "99999999 + 99999999", "199999998", end=False)
  assert bool(state.terminated) and float(state.reward) == 1.0
  assert int(state.step_count) == env.max_answer_length == 9


def test_digit_orders_write_the_same_number():
  msd, lsd = ENVS["add-v0", "msd"], ENVS["add-v0", "lsd"]
  keys = jax.random.split(jax.random.PRNGKey(1), 32)
  problems = jax.device_get(jax.vmap(msd.sample_problem)(keys))
  for i in range(32):
    problem = jax.tree.map(lambda x: x[i], problems)
    text = msd.problem_text(problem)
    forward = [int(d) for d in np.asarray(problem.reference) if d >= 0]
    backward = [int(d) for d in np.asarray(lsd.parse_problem(text).reference) if d >= 0]
    assert forward == backward[::-1]
    left, right = text.split(" + ")
    assert "".join(map(str, forward)) == str(int(left) + int(right))


@pytest.mark.parametrize("env_id", ["add-v0", "mul-v0"])
def test_sampled_references_are_exact(env_id):
  env = ENVS[env_id, "msd"]
  problems = jax.device_get(jax.jit(jax.vmap(env.sample_problem))(
      jax.random.split(jax.random.PRNGKey(2), 256)))
  for i in range(256):
    problem = jax.tree.map(lambda x: x[i], problems)
    text = env.problem_text(problem)
    left, op, right = text.split()
    assert 1 <= len(left) <= env.max_digits and (len(left) == 1 or left[0] != "0")
    expected = int(left) + int(right) if op == "+" else int(left) * int(right)
    digits = "".join(str(d) for d in np.asarray(problem.reference) if d >= 0)
    assert digits == str(expected), text


def test_digit_arithmetic_scales_past_int32():
  adder = Arithmetic(operation="add", min_digits=30, max_digits=30)
  multiplier = Arithmetic(operation="mul", min_digits=12, max_digits=12)
  a, b = "987654321987654321987654321987", "123456789123456789123456789123"
  for env, text, expected in ((adder, f"{a} + {b}", int(a) + int(b)),
                              (multiplier, f"{a[:12]} * {b[:12]}", int(a[:12]) * int(b[:12]))):
    reference = env.parse_problem(text).reference
    assert "".join(str(d) for d in reference if d >= 0) == str(expected)


@pytest.mark.parametrize("key", list(ENVS), ids=lambda k: f"{k[0]}-{k[1]}")
def test_problem_text_round_trips(key):
  env = ENVS[key]
  problems = jax.device_get(jax.vmap(env.sample_problem)(
      jax.random.split(jax.random.PRNGKey(3), 64)))
  for i in range(64):
    text = env.problem_text(jax.tree.map(lambda x: x[i], problems))
    assert env.problem_text(env.parse_problem(text)) == text
  assert env.problem_text(env.parse_problem(" 12*3 " if key[0] == "mul-v0" else "12+3")) in (
      "12 * 3", "12 + 3")


def test_bad_problems_are_rejected_clearly():
  add, mul = ENVS["add-v0", "msd"], ENVS["mul-v0", "msd"]
  for env, text in ((add, "1 * 2"), (add, "123456789 + 1"), (add, "01 + 2"), (add, "a + b"),
                    (mul, "1234 * 5"), (mul, "3 + 4")):
    with pytest.raises(ProblemError):
      env.parse_problem(text)
  with pytest.raises(ValueError):
    Arithmetic(operation="sub")
  with pytest.raises(ValueError):
    Arithmetic(digit_order="middle")
  with pytest.raises(ValueError):
    Arithmetic(min_digits=3, max_digits=2)


def test_reference_check_is_strict():
  check = Arithmetic.reference_check
  assert check("12 + 30", "42") and check("12 * 30", "360") and check("12 x 30", " 360 ")
  assert not check("12 + 30", "042") and not check("12 + 30", "24")
  assert not check("12 + 30", "") and not check("nonsense", "42")


def test_arithmetic_is_not_self_verifiable_and_uses_the_causal_network():
  env = ENVS["add-v0", "msd"]
  assert not env.self_verifiable and env.default_network == "causal"
  assert env.num_actions == 11 and env.observation_shape == (8 + 1 + 8 + 1 + 9, 15)
