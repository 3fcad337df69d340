"""Countdown and the Game of 24: combine numbers with + - * / to hit a target.

A problem is n numbers and a target. A move takes an ordered pair of live numbers and an
operator; the result replaces them, so after n-1 moves one number is left and the episode
ends, paying 1 when that number equals the target (every number is used, as both games
require). Numbers are exact rationals num/den in int32, reduced, den > 0: a result that
would not fit int32 is an illegal move, never a wrapped one, and so is division by zero.

Actions: index = op * N * N + i * N + j for operator op in (+, -, *, /) and slots i != j,
N the env's `max_numbers`. For the commutative + and * only i < j is legal, so each
distinct move has one action. The result goes to slot min(i, j); the other slot dies.
"""

from __future__ import annotations

import ast
import fractions
import functools
import itertools
import re

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from alphareason.env import Env, ProblemError, State

OPERATORS = ("+", "-", "*", "/")
DRAWS = ("ordered", "multiset", "solvable")  # how numbers are drawn (Countdown._draw_numbers)
SOLVABLE_MAX_NUMBERS = 4  # Countdown.solvable enumerates every play of up to this many
ON_TRACK_MAX_NUMBERS = 3  # Countdown.on_track judges states with up to this many left
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}
_INT_MAX = np.iinfo(np.int32).max
# Columns of the observation's per-slot features; column 0 marks a live slot, which is
# what slot-set networks read as their token mask.
OBSERVATION_FEATURES = (
    "alive", "sign", "log_magnitude", "log_ratio", "value_over_target", "target_over_value",
    "is_integer", "equals_target", "fraction_part", "log_target", "moves_left")


@struct.dataclass
class CountdownProblem:
  numbers: jax.Array  # [N] int32, the first `count` are the problem's, the rest 0
  count: jax.Array  # [] int32
  target: jax.Array  # [] int32


@struct.dataclass
class CountdownState(State):
  numerator: jax.Array  # [N] int32
  denominator: jax.Array  # [N] int32, > 0
  alive: jax.Array  # [N] bool
  actions: jax.Array  # [N - 1] int32, the moves made, -1 where none yet


def _mul(x, y):
  """x * y and whether it fits int32 (|x|, |y| <= INT_MAX)."""
  fits = jnp.abs(x) <= _INT_MAX // jnp.maximum(jnp.abs(y), 1)
  return x * y, fits


def _add(x, y):
  """x + y and whether it fits int32; only same-signed operands can overflow."""
  same_sign = (x >= 0) == (y >= 0)
  fits = ~same_sign | (jnp.abs(x) <= _INT_MAX - jnp.abs(y))
  return x + y, fits


def _reduce(num, den, fits):
  g = jnp.maximum(jnp.gcd(num, den), 1)
  num, den = num // g, den // g
  return jnp.where(fits, num, 0), jnp.where(fits, den, 1), fits


def combine(an, ad, bn, bd):
  """All four results of a OP b for rationals a = an/ad, b = bn/bd (any shapes).

  Returns (numerator, denominator, legal), each with a leading axis of 4 in
  OPERATORS order. Intermediates are cross-reduced first so that a result is rejected
  only when its reduced form, or an intermediate of that reduction, does not fit.
  """
  # a +- b = (an * (bd/g) +- bn * (ad/g)) / (ad/g * bd), g = gcd(ad, bd).
  g = jnp.maximum(jnp.gcd(ad, bd), 1)
  left, fits_left = _mul(an, bd // g)
  right, fits_right = _mul(bn, ad // g)
  den_sum, fits_den = _mul(ad // g, bd)
  fits_terms = fits_left & fits_right & fits_den
  total, fits_total = _add(left, right)
  diff, fits_diff = _add(left, -right)
  add = _reduce(total, den_sum, fits_terms & fits_total)
  sub = _reduce(diff, den_sum, fits_terms & fits_diff)
  # a * b with cross reduction, which leaves the result reduced.
  g1 = jnp.maximum(jnp.gcd(an, bd), 1)
  g2 = jnp.maximum(jnp.gcd(bn, ad), 1)
  mul_num, fits_num = _mul(an // g1, bn // g2)
  mul_den, fits_mden = _mul(ad // g2, bd // g1)
  mul = (mul_num, mul_den, fits_num & fits_mden)
  # a / b = a * (bd / bn), sign moved to the numerator; b = 0 is illegal.
  sign = jnp.where(bn < 0, -1, 1)
  inv_n, inv_d = sign * bd, jnp.abs(bn)
  g1 = jnp.maximum(jnp.gcd(an, inv_d), 1)
  g2 = jnp.maximum(jnp.gcd(inv_n, ad), 1)
  div_num, fits_num = _mul(an // g1, inv_n // g2)
  div_den, fits_dden = _mul(ad // g2, inv_d // g1)
  div = (div_num, jnp.where(bn == 0, 1, div_den), (bn != 0) & fits_num & fits_dden)
  return tuple(jnp.stack(parts) for parts in zip(add, sub, mul, div))


class Countdown(Env):
  """Countdown: n numbers (min_numbers..max_numbers) and a target, all numbers used.

  With `target` set, every problem has that target (the Game of 24); otherwise each
  target is the value of a random expression over the numbers, kept when it is an
  integer in [min_target, max_target], so every generated problem is solvable.
  `exclude` holds `problem_key`s (held-out test problems) the generator never returns.

  The observation's moves-left feature is (moves left) / `moves_scale`, by default this
  env's most moves (max_numbers - 1). A network reads positions as trained only with the
  scale it was trained with, so a checkpoint played with more numbers keeps it
  (`observation_settings`).
  """

  self_verifiable = True
  default_network = "set"
  # `on_track`: whether the numbers left can still make the target, by enumeration once
  # at most ON_TRACK_MAX_NUMBERS are left. Nothing is hidden; the state decides.
  judges_partial_answers = True

  def __init__(self, *, min_numbers: int = 4, max_numbers: int = 6, min_value: int = 1,
               max_value: int = 100, min_target: int = 100, max_target: int = 999,
               target: int | None = None, moves_scale: int | None = None,
               draw: str = "ordered", exclude=()):
    if not 2 <= min_numbers <= max_numbers <= 9:
      raise ValueError(f"need 2 <= min_numbers <= max_numbers <= 9, got {min_numbers}, {max_numbers}")
    if not 1 <= min_value <= max_value < 2**20:
      raise ValueError(f"need 1 <= min_value <= max_value < 2**20, got {min_value}, {max_value}")
    if target is None and not 0 <= min_target <= max_target < 2**30:
      raise ValueError(f"need 0 <= min_target <= max_target, got {min_target}, {max_target}")
    if moves_scale is not None and moves_scale < 1:
      raise ValueError(f"need moves_scale >= 1, got {moves_scale}")
    if draw not in DRAWS:
      raise ValueError(f"draw must be one of {DRAWS}, got {draw!r}")
    if draw == "solvable" and (target is None or min_numbers != max_numbers
                               or max_numbers > SOLVABLE_MAX_NUMBERS):
      raise ValueError(f"draw='solvable' needs a fixed target and a fixed count of at most "
                       f"{SOLVABLE_MAX_NUMBERS} numbers (with a drawn target every problem is "
                       "solvable already)")
    self.draw = draw
    self.min_numbers, self.max_numbers = min_numbers, max_numbers
    self.min_value, self.max_value = min_value, max_value
    self.min_target, self.max_target = min_target, max_target
    self.target = target
    self.excluded_keys = np.unique(np.asarray(exclude, np.uint32))
    n = max_numbers
    self.num_actions = len(OPERATORS) * n * n
    self.observation_shape = (n, len(OBSERVATION_FEATURES))
    self.max_steps = n - 1
    self.moves_scale = self.max_steps if moves_scale is None else moves_scale
    op, i, j = np.unravel_index(np.arange(self.num_actions), (len(OPERATORS), n, n))
    commutative = np.isin(op, [OPERATORS.index("+"), OPERATORS.index("*")])
    # Actions that can ever be legal: distinct slots, and one order for + and *.
    self._action_shape_ok = (i != j) & (~commutative | (i < j))

  def observation_settings(self) -> dict:
    return dict(moves_scale=self.moves_scale)

  def draw_settings(self) -> tuple[str, ...]:
    return ("draw",)  # "solvable" holds for one count of numbers only

  # --- array side ---------------------------------------------------------------------

  def sample_problem(self, key: jax.Array) -> CountdownProblem:
    # The count is drawn once, uniform over min..max numbers as reasoning-gym draws it,
    # not again with each rejected draw: a target in range is rarer with more numbers.
    count_key, key = jax.random.split(key)
    count = jax.random.randint(count_key, (), self.min_numbers, self.max_numbers + 1)

    def draw(key):
      numbers_key, play_key = jax.random.split(key)
      numbers = self._draw_numbers(numbers_key, count)
      if self.target is not None:
        return CountdownProblem(numbers, count, jnp.int32(self.target)), jnp.bool_(True)
      value = self._random_play_value(
          play_key, CountdownProblem(numbers, count, jnp.int32(0)))
      num, den = value
      ok = (den == 1) & (num >= self.min_target) & (num <= self.max_target)
      return CountdownProblem(numbers, count, num), ok

    return self._sample_accepted(key, draw)

  def _draw_numbers(self, key: jax.Array, count: jax.Array) -> jax.Array:
    """`count` numbers in [min_value, max_value], then zeros: [N] int32.

    "ordered" draws each number independently, as reasoning-gym's Countdown does;
    "multiset" draws each multiset of numbers equally often (stars and bars: `count`
    of the count + V - 1 places, V values), in random order, as a list of distinct
    puzzles such as the Game of 24's holds them: a puzzle with repeated numbers is as
    likely as any other, not up to 24 times less likely than one of distinct numbers;
    "solvable" draws each solvable multiset equally often (`solvable_multisets`), so no
    episode is spent on a puzzle without a solution.
    """
    n, values = self.max_numbers, self.max_value - self.min_value + 1
    slot = jnp.arange(n)
    places_key, order_key = jax.random.split(key)
    if self.draw == "ordered":
      return jnp.where(slot < count, jax.random.randint(
          key, (n,), self.min_value, self.max_value + 1), 0).astype(jnp.int32)
    if self.draw == "solvable":
      table = jnp.asarray(self.solvable_multisets())
      numbers = table[jax.random.randint(places_key, (), 0, table.shape[0])]
    else:
      # `count` distinct places of count + V - 1, increasing: the i-th is value place - i.
      rank = jax.random.uniform(places_key, (n + values - 1,))
      places = jnp.where(jnp.arange(n + values - 1) < count + values - 1, rank, jnp.inf)
      numbers = self.min_value + jnp.sort(jnp.argsort(places)[:n]) - slot
    # A random order of the first `count`, the unused slots staying last.
    order = jnp.argsort(jnp.where(slot < count, jax.random.uniform(order_key, (n,)), jnp.inf))
    return jnp.where(slot < count, numbers[order], 0).astype(jnp.int32)

  def solvable_multisets(self) -> np.ndarray:
    """The multisets of `max_numbers` numbers in [min_value, max_value] that some
    expression turns into the target, sorted, [M, N] int32 (the Game of 24: the 1,362
    solvable puzzles). Computed once per process and setting, by `solvable`."""
    return _solvable_multisets(self.max_numbers, self.min_value, self.max_value, self.target)

  def solvable(self, problem: CountdownProblem) -> jax.Array:
    """Whether some expression over all the numbers equals the target ([] bool), for
    problems of exactly `max_numbers` <= SOLVABLE_MAX_NUMBERS numbers: every order of
    combining them, exhaustively (3,888 final values for 4). A step that would leave
    int32 is illegal here as in the env."""
    numbers = jnp.asarray(problem.numbers, jnp.int32)
    return _reaches(numbers, jnp.ones_like(numbers), problem.target)

  def on_track(self, state: CountdownState) -> jax.Array:
    """Whether the numbers left can still make the target, judged exactly once at most
    ON_TRACK_MAX_NUMBERS are left (every state after the Game of 24's first move) and
    taken as on track before that."""
    live = jnp.sum(state.alive)
    order = jnp.argsort(~state.alive, stable=True)  # live slots first
    num, den = state.numerator[order], state.denominator[order]
    reaches = [_reaches(num[:k], den[:k], state.problem.target)
               for k in range(1, ON_TRACK_MAX_NUMBERS + 1)]
    return jnp.select([live == k for k in range(1, ON_TRACK_MAX_NUMBERS + 1)], reaches,
                      jnp.bool_(True))

  def _random_play_value(self, key, problem):
    """The final value of random legal play on `problem`, as (num, den): uniform over the
    moves whose result is a positive integer below ten times the largest target (any
    legal move where none is), and a last move that lands on a target in range wherever
    one can, as reasoning-gym's integer-only expressions do. Uniform play rarely ends in
    range with many numbers: rejecting those plays made a batch of 9-number problems
    take minutes."""
    cap = 10 * self.max_target

    def move(state, key):
      legal = state.legal_action_mask
      num, den, _ = combine(state.numerator[:, None], state.denominator[:, None],
                            state.numerator[None, :], state.denominator[None, :])
      num, den = num.reshape(-1), den.reshape(-1)  # the result of each action
      last = jnp.sum(state.alive) == 2
      wanted = (den == 1) & jnp.where(last, (num >= self.min_target) & (num <= self.max_target),
                                      (num > 0) & (num <= cap))
      legal = jnp.where(jnp.any(legal & wanted), legal & wanted, legal)
      action = jax.random.categorical(key, jnp.where(legal, 0.0, -jnp.inf))
      return self.step(state, action), None

    state = self.init(problem)
    state, _ = jax.lax.scan(move, state, jax.random.split(key, self.max_steps))
    first = jnp.argmax(state.alive)
    failed = ~state.terminated | (jnp.sum(state.alive) != 1)
    return jnp.where(failed, 0, state.numerator[first]), jnp.where(failed, 0, state.denominator[first])

  def problem_key(self, problem: CountdownProblem) -> jax.Array:
    # The multiset of numbers and the target identify the task; slot order does not.
    numbers = jnp.sort(jnp.asarray(problem.numbers, jnp.int32))
    return super().problem_key((numbers, jnp.asarray(problem.target, jnp.int32)))

  def _init(self, problem: CountdownProblem) -> CountdownState:
    n = self.max_numbers
    alive = jnp.arange(n) < problem.count
    numerator = jnp.where(alive, problem.numbers, 0).astype(jnp.int32)
    denominator = jnp.ones(n, jnp.int32)
    return self._with_derived(CountdownState(
        observation=jnp.zeros(self.observation_shape, jnp.float32),
        legal_action_mask=jnp.zeros(self.num_actions, bool),
        reward=jnp.float32(0), terminated=jnp.bool_(False), truncated=jnp.bool_(False),
        step_count=jnp.int32(0), problem=problem, numerator=numerator,
        denominator=denominator, alive=alive,
        actions=jnp.full(n - 1, -1, jnp.int32)))

  def _combined(self, state: CountdownState, action: jax.Array) -> CountdownState:
    """The numbers after `action`: its result in the lower slot of the pair, the other
    slot dead. Nothing derived (mask, observation) is updated."""
    n = self.max_numbers
    op, rest = jnp.divmod(action, n * n)
    i, j = jnp.divmod(rest, n)
    num, den, _ = combine(state.numerator[i], state.denominator[i],
                          state.numerator[j], state.denominator[j])
    keep, drop = jnp.minimum(i, j), jnp.maximum(i, j)
    return state.replace(numerator=state.numerator.at[keep].set(num[op]).at[drop].set(0),
                         denominator=state.denominator.at[keep].set(den[op]).at[drop].set(1),
                         alive=state.alive.at[drop].set(False))

  def judges_state(self, state: CountdownState) -> jax.Array:
    return jnp.sum(state.alive) <= ON_TRACK_MAX_NUMBERS

  def judges_moves(self, state: CountdownState) -> jax.Array:
    # A move leaves one number fewer; on_track calls any state with more numbers on track.
    return jnp.sum(state.alive) - 1 <= ON_TRACK_MAX_NUMBERS

  def on_track_moves(self, state: CountdownState) -> jax.Array:
    # Judges the numbers each move leaves, without the rest of a step (Env's default).
    children = jax.vmap(self._combined, in_axes=(None, 0))(state, jnp.arange(self.num_actions))
    return state.legal_action_mask & jax.vmap(self.on_track)(children)

  def _step(self, state: CountdownState, action: jax.Array) -> CountdownState:
    moved = self._combined(state, action)
    done = jnp.sum(moved.alive) <= 1
    hit = moved.alive & (moved.numerator == state.problem.target) & (moved.denominator == 1)
    actions = state.actions.at[jnp.minimum(state.step_count, self.max_numbers - 2)].set(action)
    return self._with_derived(moved.replace(
        actions=actions, terminated=done, reward=(done & jnp.any(hit)).astype(jnp.float32)))

  def _with_derived(self, state: CountdownState) -> CountdownState:
    """Recomputes the legal mask and observation from the numbers."""
    num, den, alive = state.numerator, state.denominator, state.alive
    _, _, fits = combine(num[:, None], den[:, None], num[None, :], den[None, :])
    both_alive = alive[:, None] & alive[None, :]
    legal = (fits & both_alive[None]).reshape(-1) & jnp.asarray(self._action_shape_ok)
    legal &= jnp.sum(alive) > 1
    return state.replace(legal_action_mask=legal,
                         observation=self._observe(state, num, den, alive))

  def _observe(self, state, num, den, alive):
    value = num.astype(jnp.float32) / den.astype(jnp.float32)
    target = jnp.maximum(state.problem.target.astype(jnp.float32), 1.0)
    magnitude = jnp.abs(value)
    live = alive.astype(jnp.float32)
    moves_left = (jnp.sum(alive) - 1).astype(jnp.float32) / self.moves_scale
    features = jnp.stack([
        live,
        jnp.sign(value),
        jnp.log1p(magnitude) / 8.0,
        # log|v| / log T: a product or quotient of two slots hits the target exactly when
        # their log ratios add or subtract to 1, a relation linear in these features.
        jnp.where(num == 0, -1.0, jnp.log(jnp.maximum(magnitude, 1e-6)) / jnp.log(jnp.maximum(target, 2.0))),
        jnp.clip(value / target, -4.0, 4.0),
        jnp.where(num == 0, 0.0, jnp.clip(target / jnp.where(num == 0, 1.0, value), -4.0, 4.0)),
        (den == 1).astype(jnp.float32),
        ((num == state.problem.target) & (den == 1)).astype(jnp.float32),
        value - jnp.floor(value),
        jnp.full_like(value, jnp.log1p(target) / 8.0),
        jnp.full_like(value, moves_left),
    ], axis=-1)
    return features * live[:, None]

  # --- host side ----------------------------------------------------------------------

  def parse_problem(self, text: str) -> CountdownProblem:
    numbers, target = _parse_problem_text(text)
    if target is None:
      if self.target is None:
        raise ProblemError(f"{text!r}: give a target, as in '25 50 75 100 3 6 -> 952'")
      target = self.target
    if self.target is not None and target != self.target:
      raise ProblemError(f"{text!r}: this game's target is {self.target}, not {target}")
    if not self.min_numbers <= len(numbers) <= self.max_numbers:
      want = (str(self.min_numbers) if self.min_numbers == self.max_numbers
              else f"{self.min_numbers} to {self.max_numbers}")
      raise ProblemError(f"{text!r}: expected {want} numbers, got {len(numbers)}")
    for x in numbers:
      if not 1 <= x <= _INT_MAX:
        raise ProblemError(f"{text!r}: numbers must be positive int32 integers, got {x}")
    padded = np.zeros(self.max_numbers, np.int32)
    padded[:len(numbers)] = numbers
    return CountdownProblem(numbers=padded, count=np.int32(len(numbers)),
                            target=np.int32(target))

  def problem_text(self, problem: CountdownProblem) -> str:
    count = int(problem.count)
    numbers = " ".join(str(int(x)) for x in np.asarray(problem.numbers)[:count])
    return f"{numbers} -> {int(problem.target)}"

  def answer_text(self, state: CountdownState) -> str:
    """The expression the episode built, with minimal parentheses.

    Replays the recorded moves on the problem's numbers as strings; the arithmetic is
    left to whoever reads the expression (`reference_check` does it with fractions).
    """
    problem = jax.device_get(state.problem)
    n = self.max_numbers
    count = int(problem.count)
    slots: list = [(str(int(x)), 3) for x in np.asarray(problem.numbers)[:count]]
    slots += [None] * (n - count)
    for action in np.asarray(jax.device_get(state.actions)):
      if action < 0:
        break
      op, rest = divmod(int(action), n * n)
      i, j = divmod(rest, n)
      symbol = OPERATORS[op]
      prec = _PRECEDENCE[symbol]
      (left, left_prec), (right, right_prec) = slots[i], slots[j]
      if left_prec < prec:
        left = f"({left})"
      if right_prec < prec or (right_prec == prec and symbol in "-/"):
        right = f"({right})"
      slots[min(i, j)] = (f"{left}{symbol}{right}", prec)
      slots[max(i, j)] = None
    return " ; ".join(s for s, _ in filter(None, slots))

  @staticmethod
  def numbers_left(state: CountdownState) -> list[fractions.Fraction]:
    """The numbers a state still holds, in slot order, as exact fractions."""
    return [fractions.Fraction(int(n), int(d))
            for n, d, a in zip(np.asarray(state.numerator), np.asarray(state.denominator),
                               np.asarray(state.alive)) if a]

  def render(self, state: CountdownState) -> str:
    values = " ".join(map(str, self.numbers_left(state)))
    return f"[{values}] target {int(state.problem.target)}"

  @staticmethod
  def reference_check(problem_text: str, answer_text: str) -> bool:
    """True when `answer_text` uses exactly the problem's numbers and equals its target."""
    try:
      numbers, target = _parse_problem_text(problem_text)
    except ProblemError:
      return False
    target = 24 if target is None else target
    try:
      tree = ast.parse(answer_text.strip(), mode="eval").body
      leaves: list[int] = []
      value = _evaluate(tree, leaves)
    except (SyntaxError, ValueError, ZeroDivisionError, RecursionError):
      return False
    return sorted(leaves) == sorted(numbers) and value == target


_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b, ast.Div: lambda a, b: a / b}


def _evaluate(node: ast.AST, leaves: list[int]) -> fractions.Fraction:
  """Evaluates + - * / over non-negative integer literals with exact fractions."""
  if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
    left = _evaluate(node.left, leaves)
    right = _evaluate(node.right, leaves)
    return _OPS[type(node.op)](left, right)
  if isinstance(node, ast.Constant) and type(node.value) is int and node.value >= 0:
    leaves.append(node.value)
    return fractions.Fraction(node.value)
  raise ValueError(f"not allowed in an answer: {ast.dump(node)}")


def _reaches(num: jax.Array, den: jax.Array, target: jax.Array) -> jax.Array:
  """Whether some order of combining all the rationals num/den ([K] each, K static and
  small) ends at the integer target ([] bool): every line, exhaustively."""
  # Rows are partial plays: the values left, and whether every step so far was legal.
  num, den, ok = num[None], den[None], jnp.ones(1, bool)
  for size in range(num.shape[1], 1, -1):
    pairs = np.asarray([(i, j) for i in range(size) for j in range(i + 1, size)])
    rest = np.asarray([[k for k in range(size) if k not in pair] for pair in pairs],
                      np.int32).reshape(len(pairs), size - 2)
    i, j = pairs[:, 0], pairs[:, 1]
    forward = combine(num[:, i], den[:, i], num[:, j], den[:, j])  # each [4, rows, P]
    backward = combine(num[:, j], den[:, j], num[:, i], den[:, i])
    # The six distinct results of a pair: + - * / one way, - and / the other.
    results = [jnp.concatenate([f, b[jnp.asarray([1, 3])]]) for f, b in zip(forward, backward)]
    new_num, new_den, legal = (jnp.moveaxis(x, 0, -1) for x in results)  # [rows, P, 6]
    keep = lambda x: jnp.broadcast_to(x[:, rest][:, :, None], (*new_num.shape, size - 2))
    num = jnp.concatenate([keep(num), new_num[..., None]], -1).reshape(-1, size - 1)
    den = jnp.concatenate([keep(den), new_den[..., None]], -1).reshape(-1, size - 1)
    ok = (ok[:, None, None] & legal).reshape(-1)
  return jnp.any(ok & (num[:, 0] == target) & (den[:, 0] == 1))


@functools.cache
def _solvable_multisets(count: int, low: int, high: int, target: int) -> np.ndarray:
  multisets = np.asarray(list(itertools.combinations_with_replacement(range(low, high + 1), count)),
                         np.int32)
  if len(multisets) > 100_000:
    raise ValueError(f"{len(multisets)} multisets of {count} numbers in {low}..{high}: too many "
                     "to enumerate; draw 'multiset' or 'ordered' instead")
  env = Countdown(min_numbers=count, max_numbers=count, min_value=low, max_value=high,
                  target=target)
  problems = CountdownProblem(numbers=multisets, count=np.full(len(multisets), count, np.int32),
                              target=np.full(len(multisets), target, np.int32))
  with jax.ensure_compile_time_eval():  # run now, also when first asked inside a trace
    solvable = np.asarray(jax.jit(jax.vmap(env.solvable))(problems))
  return multisets[solvable]


_PROBLEM_RE = re.compile(r"^\s*([^=>:]*?)\s*(?:(?:->|=|:)\s*(\S+)\s*)?$")


def _parse_problem_text(text: str) -> tuple[list[int], int | None]:
  """'4 9 10 13' or '25, 50, 75, 100, 3, 6 -> 952' -> (numbers, target or None)."""
  match = _PROBLEM_RE.match(text)
  if not match or not match.group(1):
    raise ProblemError(f"{text!r}: expected numbers, then optionally '-> target'")
  words = match.group(1).replace(",", " ").split()
  try:
    numbers = [int(w) for w in words]
    target = None if match.group(2) is None else int(match.group(2))
  except ValueError:
    raise ProblemError(
        f"{text!r}: expected whole numbers, then optionally '-> target'") from None
  return numbers, target
