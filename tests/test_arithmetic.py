"""Token-level arithmetic: the reference, the rewards, both digit orders, the host side."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import alphareason
from alphareason.checker import check_env
from alphareason.env import Env, ProblemError, State
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


# The registered envs (msd) are checked with every other registered env (test_env_contract).
@pytest.mark.parametrize("key", [k for k in ENVS if k[1] == "lsd"], ids=lambda k: f"{k[0]}-{k[1]}")
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
  for wrong in ("1246", "2245", "124", "12450"):
    state = play(env, text, wrong)
    assert bool(state.terminated) and float(state.reward) == 0.0, wrong
    assert not Arithmetic.reference_check(text, env.answer_text(state))


@pytest.mark.parametrize("order", ["msd", "lsd"])
def test_legal_moves_never_write_a_leading_zero(order):
  env = ENVS["add-v0", order]
  step = jax.jit(env.step)
  start = env.init(env.parse_problem("456 + 789"))
  legal = lambda state: np.flatnonzero(np.asarray(state.legal_action_mask)).tolist()
  zero = step(start, 0)
  if order == "msd":
    assert legal(zero) == [env.end_of_answer]  # "0" is a whole answer, "0..." never
    assert legal(step(start, 5)) == list(range(11))
  else:
    assert legal(zero) == list(range(11))  # "0" may end; "...0" may go on
    # Written 5 then 0, the answer would read "05": it may not end there.
    assert legal(step(step(start, 5), 0)) == list(range(10))
    assert legal(step(step(start, 0), 5)) == list(range(11))  # "50"
  # Writing "01245" anyway is an illegal move (the 1 in msd, the end in lsd): a failure.
  state = step(zero, 1) if order == "msd" else play(env, "456 + 789", "01245")
  assert bool(state.terminated) and float(state.reward) == 0.0


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


def sampled(env, *, seed: int, count: int):
  """`count` problems the env draws, each with its text."""
  problems = jax.device_get(jax.jit(jax.vmap(env.sample_problem))(
      jax.random.split(jax.random.PRNGKey(seed), count)))
  for i in range(count):
    problem = jax.tree.map(lambda x: x[i], problems)
    yield problem, env.problem_text(problem)


@pytest.mark.parametrize("env_id", ["add-v0", "mul-v0"])
def test_sampled_references_are_exact(env_id):
  env = ENVS[env_id, "msd"]
  for problem, text in sampled(env, seed=2, count=256):
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


def operand_digits(env, problem) -> tuple[int, int]:
  left, right = env.problem_text(problem).split(f" {'+' if env.operation == 'add' else '*'} ")
  return len(left), len(right)


@pytest.mark.parametrize("env_id, levels", [("add-v0", 8), ("mul-v0", 3)])
def test_curriculum_levels_bound_the_digits(env_id, levels):
  env = alphareason.make(env_id)
  assert env.num_levels == levels
  sample = jax.jit(jax.vmap(env.sample_problem_at, in_axes=(0, None)))
  keys = jax.random.split(jax.random.PRNGKey(0), 256)
  for level in range(levels):
    problems = jax.device_get(sample(keys, level))
    digits = [operand_digits(env, jax.tree.map(lambda x: x[i], problems)) for i in range(256)]
    # Up to 1 + level digits, and the level's hardest operands do occur.
    assert max(max(d) for d in digits) == 1 + level
  full = jax.device_get(jax.vmap(env.sample_problem)(keys))
  assert max(max(operand_digits(env, jax.tree.map(lambda x: x[i], full))) for i in range(256)) == levels


def test_largest_share_puts_both_operands_at_the_level_s_largest_size():
  count = 4096
  keys = jax.random.split(jax.random.PRNGKey(3), count)
  for share in (0.0, 0.5):
    env = alphareason.make("mul-v0", largest_share=share)
    sample = jax.jit(jax.vmap(env.sample_problem_at, in_axes=(0, None)))
    for level, largest in ((1, 2), (2, 3)):
      question = np.asarray(sample(keys, level).question)
      left = np.argmax(question == env.operator_token, axis=1)
      right = (question >= 0).sum(1) - left - 1
      assert min(left.min(), right.min()) == 1 and max(left.max(), right.max()) == largest
      # Uniform counts give both the largest size with probability 1 / (1 + level)^2.
      expected = share + (1 - share) / (1 + level) ** 2
      both = np.mean((left == largest) & (right == largest))
      assert abs(both - expected) < 4 * np.sqrt(expected * (1 - expected) / count), (share, level)
  with pytest.raises(ValueError, match="largest_share"):
    Arithmetic(largest_share=1.5)

class OneMove(Env):
  """Three difficulty levels; every episode is one move, which solves it if `pays`."""

  num_actions, observation_shape, max_steps, num_levels = 2, (2,), 1, 3
  self_verifiable = True

  def __init__(self, pays: bool):
    self.pays = pays

  def sample_problem(self, key):
    return self.sample_problem_at(key, self.num_levels - 1)

  def sample_problem_at(self, key, level):
    return jnp.asarray(level, jnp.int32)

  def _init(self, problem):
    return State(observation=jnp.stack([problem, 1]).astype(jnp.float32),
                 legal_action_mask=jnp.ones(2, bool), reward=jnp.float32(0),
                 terminated=jnp.bool_(False), truncated=jnp.bool_(False),
                 step_count=jnp.int32(0), problem=problem)

  def _step(self, state, action):
    return state.replace(reward=jnp.float32(self.pays), terminated=jnp.bool_(True))

  def parse_problem(self, text):
    return jnp.int32(int(text))

  def problem_text(self, problem):
    return str(int(problem))

  def answer_text(self, state):
    return "done"

  @staticmethod
  def reference_check(problem_text, answer_text):
    return answer_text == "done"


@pytest.mark.parametrize("pays, threshold, levels", [
    (True, 1.0, [0, 1, 2, 2]),  # solved every time: up one level an iteration, to the top
    (False, 0.5, [0, 0, 0, 0]),  # never solved: stays at the easiest
    (True, 0.0, [2, 2, 2, 2]),  # no curriculum: the full range from the start
])
@pytest.mark.slow  # trains through the curriculum's levels
def test_the_curriculum_moves_up_when_self_play_solves_enough(pays, threshold, levels):
  from alphareason.networks import make_network
  from alphareason.train.learner import init_train_state, make_iteration, make_optimizer
  from conftest import tiny_config

  config = tiny_config(f"train.curriculum_threshold={threshold}", "network.family=mlp")
  env = OneMove(pays)
  network, optimizer = make_network(config.network, env), make_optimizer(config.train)
  state = init_train_state(env, network, optimizer, config)
  iteration = make_iteration(env, network, optimizer, config)
  seen = [int(state.level)]
  for _ in range(3):
    state, metrics = iteration(state)
    assert float(metrics["solved"]) == float(pays)
    assert int(metrics["level"]) == seen[-1]  # the level this iteration played at
    seen.append(int(state.level))
  assert seen == levels


def test_without_a_curriculum_self_play_draws_the_full_range():
  from alphareason import parts as parts_lib
  from alphareason.config import load_config
  from alphareason.train.learner import init_train_state, make_optimizer
  from conftest import ROOT

  parts = parts_lib.build(load_config(ROOT / "configs" / "add.py", ["train.curriculum_threshold=0"]))
  state = init_train_state(parts.env, parts.network, make_optimizer(parts.config.train), parts.config)
  assert int(state.level) == parts.env.num_levels - 1 == 7


def test_places_show_each_digits_place_value():
  env = alphareason.make("add-v0", max_digits=3, digit_order="lsd", places=True)
  problem = env.parse_problem("123 + 45")
  state = play(env, "123 + 45", "68", end=False)  # 168 written lsd first: 8, then 6
  places = np.asarray(env.token_places(problem.question, state.answer, state.length))
  #                         1  2  3  +  4  5 pad <a>  8  6  . .
  np.testing.assert_array_equal(places, [2, 1, 0, -1, 1, 0, -1, -1, 0, 1, -1, -1])
  obs = np.asarray(state.observation)
  plain = alphareason.make("add-v0", max_digits=3, digit_order="lsd")
  assert obs.shape[1] == plain.observation_shape[1] + env.max_answer_length
  place_columns = obs[:, len(env.tokens):-1]
  np.testing.assert_array_equal(place_columns.argmax(1)[places >= 0], places[places >= 0])
  assert not place_columns[places < 0].any()
  assert check_env(env, episodes=8).ok
  # msd answers have no places yet: they depend on the answer's length.
  msd = alphareason.make("add-v0", max_digits=3, places=True)
  state = play(msd, "123 + 45", "1", end=False)
  assert np.asarray(msd.token_places(problem.question, state.answer, state.length))[8] == -1


# --- long multiplication's working ------------------------------------------------------

WORKING = alphareason.make("mul-v0", digit_order="lsd", places=True, working=True)


def play_tokens(env, text: str, tokens):
  step = jax.jit(env.step)
  state = env.init(env.parse_problem(text))
  for token in tokens:
    state = step(state, int(token))
  return state


def test_working_writes_each_line_s_digits_and_carries_then_the_product():
  # 63 * 12: line 0 adds 63 * 2 = 126 (column 0: 3*2 = 6 carry 0; column 1: 6*2 = 12,
  # 2 carry 1; top 1); line 1 adds 63 * 1 from column 1: 2 + 3 = 5 carry 0, 1 + 6 = 7
  # carry 0, top 0. The product: column 0 from line 0, then line 1's digits: 756.
  working = [6, 0, 2, 1, 1, 5, 0, 7, 0, 0]
  reference = np.asarray(WORKING.parse_problem("63 * 12").reference)
  assert reference[:10].tolist() == working and (reference[10:] == -1).all()
  state = play_tokens(WORKING, "63 * 12", working)
  assert not bool(state.terminated)
  # The shape is set: once the two lines of 2 * 2 + 1 tokens are written, only the end.
  assert np.flatnonzero(np.asarray(state.legal_action_mask)).tolist() == [WORKING.end_of_answer]
  state = WORKING.step(state, WORKING.end_of_answer)
  assert float(state.reward) == 1.0 and WORKING.answer_text(state) == "756"
  # 999 * 999 fills the whole answer, and carries reach 9 (8 + 81 + 8 = 97 in line 2).
  full = WORKING.parse_problem("999 * 999").reference
  state = play_tokens(WORKING, "999 * 999", full)
  assert bool(state.terminated) and float(state.reward) == 1.0
  assert WORKING.answer_text(state) == "998001" and 9 in np.asarray(full)[1::2].tolist()


def test_working_is_judged_by_its_product_and_checked_as_a_number():
  text, working = "63 * 12", [6, 0, 2, 1, 1, 5, 0, 7, 0, 0]
  # A wrong digit of the product: unpaid, and the text it reads is wrong too.
  wrong = play_tokens(WORKING, text, working[:7] + [8] + working[8:] + [WORKING.end_of_answer])
  assert bool(wrong.terminated) and float(wrong.reward) == 0.0
  assert WORKING.answer_text(wrong) == "856" and not Arithmetic.reference_check(text, "856")
  # A wrong carry that no product digit reads is the agent's own working: the product
  # is right, as a chain of thought is judged by its answer. Process supervision, in
  # training only, holds every token to the reference's.
  slip = working[:1] + [5] + working[2:] + [WORKING.end_of_answer]
  assert float(play_tokens(WORKING, text, slip).reward) == 1.0
  supervised = play_tokens(WORKING.supervised(), text, slip[:2])
  assert bool(supervised.terminated) and float(supervised.reward) == 0.0
  # The end comes only at the working's full shape; an unfinished one reads as no number.
  start = WORKING.init(WORKING.parse_problem(text))
  assert not bool(start.legal_action_mask[WORKING.end_of_answer])
  assert WORKING.answer_text(play_tokens(WORKING, text, working[:3])) == "working 6 0 2"


@pytest.mark.slow  # samples and plays many long multiplications
def test_sampled_workings_end_on_the_exact_product():
  env = alphareason.make("mul-v0", min_digits=1, max_digits=4, max_right_digits=3,
                         digit_order="lsd", working=True)
  for problem, text in sampled(env, seed=5, count=128):
    left, _, right = text.split()
    tokens = [int(t) for t in np.asarray(problem.reference) if t >= 0]
    assert len(tokens) == len(right) * (2 * len(left) + 1), text
    # Each line's total, read from its digits: the running sum of a * b_j * 10^j.
    width, total = 2 * len(left) + 1, 0
    for j, b_j in enumerate(reversed(right)):
      line = tokens[j * width:(j + 1) * width]
      total += int(left) * int(b_j) * 10**j
      low = total % 10**j
      assert int("".join(map(str, line[::-2]))) * 10**j + low == total, (text, j)
      assert max(line[1::2], default=0) <= 9
    state = play_tokens(env, text, tokens + [env.end_of_answer] * (len(tokens) < env.max_answer_length))
    assert float(state.reward) == 1.0 and env.answer_text(state) == str(int(left) * int(right))


def test_working_places_name_each_token_s_line_column_and_kind():
  problem = WORKING.parse_problem("63 * 12")
  state = play_tokens(WORKING, "63 * 12", [6, 0, 2, 1, 1, 5, 0])
  places = np.asarray(WORKING.token_places(problem.question, state.answer, state.length))
  # Left places 0..2, right places 3..5, then line j, token t at 6 + 8j + t.
  #                          6  3  *  1  2 pad pad <a>  line 0          line 1
  np.testing.assert_array_equal(places, [1, 0, -1, 4, 3, -1, -1, -1, 6, 7, 8, 9, 10, 14, 15]
                                + [-1] * 14)
  assert check_env(WORKING, episodes=16).ok


def test_working_needs_lsd_multiplication():
  for settings in (dict(operation="add", digit_order="lsd"), dict(operation="mul")):
    with pytest.raises(ValueError, match="working"):
      Arithmetic(working=True, **settings)
