"""Token-level arithmetic: write the sum or product of two whole numbers digit by digit.

A problem is "a + b" or "a * b" with a of min_digits..max_digits digits and b of
min_right_digits..max_right_digits (by default the same range), each count uniform; its
difficulty is the digit count. With `largest_share`, that share of the problems has both
operands at the largest count (of the curriculum's level): uniform counts leave the
3x3-digit products, whose working is longest, at 1/9 of the 1-to-3-digit problems.

The answer is written one digit token at a time, most significant digit first ('msd') or
least significant first ('lsd', the order in which carries flow), then the end-of-answer
token; its text is the number in the usual order either way. With
`places`, the network also sees each digit's place value (units, tens, ...). Only the
exact result without leading zeros is correct, and the legal moves keep that form: after a
leading 0 (msd) only the end is legal, and an answer may not end on a 0 that would lead
(lsd). So every finished answer is a number as written, and a verifier that reads numbers
leniently (reasoning-gym's products accepts "007") can never disagree with ours.

With `working` (multiplication, lsd), the answer is the long multiplication's working
before the product, one running total a line: line j adds a * b_j, shifted j places, to
the total so far, column by column from its place j, writing each column's digit and then
the carry it passes on (at most 9), and ends on its top digit (the last carry). So every
token is a digit and a carry of one column: the total above it, one operand digit times
another, and the carry just written, where without working a product digit sums up to
min(n, m) products and a carry in one step. A line of an n-digit a has 2n + 1 tokens, an
answer m lines for an m-digit b; the legal moves keep that shape. The product is the
last total, whose low digits the earlier lines wrote first; it alone is the answer's text
and what the verifier checks (the working is the agent's to get right, as a chain of
thought is), while training's process supervision holds each token to the reference
working.

Numbers are digit arrays, not machine integers: the hidden reference is computed with
schoolbook digit arithmetic (carries in a scan), so any digit count works without
overflow.
"""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np

from alphareason.env import ProblemError
from alphareason.envs.text import PAD, TokenEnv

DIGITS = tuple("0123456789")  # token id = the digit's value
OPERATORS = {"add": "+", "mul": "*"}
DIGIT_ORDERS = ("msd", "lsd")
_QUESTION_RE = re.compile(r"^\s*(\d+)\s*([+*x×])\s*(\d+)\s*$")


def add_digits(left: jax.Array, right: jax.Array) -> jax.Array:
  """The sum of two least-significant-first digit arrays of one size n, as n + 1 digits."""
  def column(carry, pair):
    total = pair[0] + pair[1] + carry
    return total // 10, total % 10

  carry, digits = jax.lax.scan(column, jnp.int32(0), (left, right))
  return jnp.append(digits, carry)


def multiply_digits(left: jax.Array, right: jax.Array) -> jax.Array:
  """The product of least-significant-first digit arrays of sizes n and m, as n + m digits."""
  n, m = left.shape[0], right.shape[0]
  place = (np.arange(n)[:, None] + np.arange(m)[None, :]).reshape(-1)
  # Column sums before carrying stay below 81 * min(n, m): int32 holds any sane size.
  columns = jnp.zeros(n + m, jnp.int32).at[place].add((left[:, None] * right[None, :]).reshape(-1))

  def column(carry, total):
    total = total + carry
    return total // 10, total % 10

  _, digits = jax.lax.scan(column, jnp.int32(0), columns)
  return digits


def number_length(digits: jax.Array) -> jax.Array:
  """How many digits a least-significant-first array has without leading zeros (0: 1)."""
  positions = jnp.arange(1, digits.shape[0] + 1)
  return jnp.maximum(1, jnp.max(jnp.where(digits != 0, positions, 0)))


class Arithmetic(TokenEnv):
  """n-digit addition ('add') or n x m-digit multiplication ('mul'), written digit by digit."""

  def __init__(self, *, operation: str = "add", min_digits: int = 1, max_digits: int = 8,
               min_right_digits: int | None = None, max_right_digits: int | None = None,
               digit_order: str = "msd", places: bool = False, working: bool = False,
               largest_share: float = 0.0, exclude=()):
    if operation not in OPERATORS:
      raise ValueError(f"operation must be one of {tuple(OPERATORS)}, got {operation!r}")
    if digit_order not in DIGIT_ORDERS:
      raise ValueError(f"digit_order must be one of {DIGIT_ORDERS}, got {digit_order!r}")
    if not 0.0 <= largest_share <= 1.0:
      raise ValueError(f"largest_share is a share of problems, in [0, 1]; got {largest_share}")
    if working and (operation, digit_order) != ("mul", "lsd"):
      raise ValueError(f"working is long multiplication's, written lsd first: "
                       f"operation='mul' and digit_order='lsd', got {operation!r} and "
                       f"{digit_order!r}")
    min_right_digits = min_digits if min_right_digits is None else min_right_digits
    max_right_digits = max_digits if max_right_digits is None else max_right_digits
    for low, high in ((min_digits, max_digits), (min_right_digits, max_right_digits)):
      if not 1 <= low <= high <= 1000:
        raise ValueError(f"need 1 <= min digits <= max digits <= 1000, got {low}, {high}")
    self.operation, self.digit_order, self.working = operation, digit_order, working
    self.largest_share = largest_share
    self.min_digits, self.max_digits = min_digits, max_digits
    self.min_right_digits, self.max_right_digits = min_right_digits, max_right_digits
    self.result_digits = (max(max_digits, max_right_digits) + 1 if operation == "add"
                          else max_digits + max_right_digits)
    answer_length, num_places = self.result_digits, self.result_digits
    if working:
      answer_length = max_right_digits * (2 * max_digits + 1)
      # Left operand places, right operand places, then (line, column, digit or carry).
      num_places = max_digits + max_right_digits + 2 * (max_digits + 1) * max_right_digits
    super().__init__(vocabulary=DIGITS, question_vocabulary=tuple(OPERATORS.values()),
                     question_length=max_digits + 1 + max_right_digits,
                     max_answer_length=answer_length,
                     num_places=num_places if places else 0, exclude=exclude)
    self.operator_token = self.token_ids[OPERATORS[operation]]
    # Level l allows operands of up to min_digits + l digits (each capped at its maximum).
    self.num_levels = max(max_digits - min_digits, max_right_digits - min_right_digits) + 1

  # --- array side ---------------------------------------------------------------------

  def generate(self, key: jax.Array) -> tuple[jax.Array, jax.Array]:
    return self.generate_at(key, jnp.int32(self.num_levels - 1))

  def generate_at(self, key: jax.Array, level: jax.Array) -> tuple[jax.Array, jax.Array]:
    left_key, right_key = jax.random.split(key)
    share_key = jax.random.fold_in(key, 2)  # its own, so the counts draw as without it
    left_most = jnp.minimum(self.min_digits + level, self.max_digits)
    right_most = jnp.minimum(self.min_right_digits + level, self.max_right_digits)
    # `largest_share` of the problems have both operands at the level's largest size.
    largest = jax.random.uniform(share_key) < self.largest_share
    left, left_count = self._random_number(
        left_key, jnp.where(largest, left_most, self.min_digits), left_most, self.max_digits)
    right, right_count = self._random_number(
        right_key, jnp.where(largest, right_most, self.min_right_digits), right_most,
        self.max_right_digits)
    # Tokens: the left operand most significant digit first, the operator, the right one.
    position = jnp.arange(self.question_length)
    right_index = position - left_count - 1
    question = jnp.where(
        position < left_count, left[jnp.clip(left_count - 1 - position, 0, self.max_digits - 1)],
        jnp.where(position == left_count, self.operator_token,
                  jnp.where(right_index < right_count,
                            right[jnp.clip(right_count - 1 - right_index, 0,
                                           self.max_right_digits - 1)], PAD)))
    question = question.astype(jnp.int32)
    return question, self.solve(question)

  def _random_number(self, key, min_digits: jax.Array, max_digits: jax.Array, size: int):
    """Least-significant-first digits [size] of a number of min_digits..max_digits digits
    (a uniform count; both may be traced), with no leading zero."""
    count_key, digits_key, top_key = jax.random.split(key, 3)
    count = jax.random.randint(count_key, (), min_digits, max_digits + 1)
    digits = jax.random.randint(digits_key, (size,), 0, 10)
    top = jax.random.randint(top_key, (), jnp.where(count > 1, 1, 0), 10)
    position = jnp.arange(size)
    digits = jnp.where(position == count - 1, top, jnp.where(position < count, digits, 0))
    return digits.astype(jnp.int32), count

  def _counts(self, question: jax.Array) -> tuple[jax.Array, jax.Array]:
    """How many digits the left and the right operand have."""
    split = jnp.argmax(question > self.end_of_answer)
    right_count = jnp.sum((jnp.arange(self.question_length) > split) & (question != PAD))
    return split, right_count

  def solve(self, question: jax.Array) -> jax.Array:
    """The answer's tokens, then PAD: [max_answer_length] int32. The result's digits in
    the answer's order, or with `working` the working (`_working`)."""
    question = jnp.asarray(question, jnp.int32)
    split, right_count = self._counts(question)
    left = self._operand(question, split - 1, split, self.max_digits)
    right = self._operand(question, split + right_count, right_count, self.max_right_digits)
    if self.working:
      return self._working(left, right, split, right_count)
    if self.operation == "add":
      size = max(self.max_digits, self.max_right_digits)
      pad = lambda x: jnp.pad(x, (0, size - x.shape[0]))
      result = add_digits(pad(left), pad(right))
    else:
      result = multiply_digits(left, right)
    count = number_length(result)
    index = jnp.arange(self.max_answer_length)
    source = index if self.digit_order == "lsd" else count - 1 - index
    return jnp.where(index < count, result[jnp.clip(source, 0, result.shape[0] - 1)], PAD)

  def _working(self, left, right, left_count, right_count) -> jax.Array:
    """Long multiplication's working (module docstring): line j holds, for the columns
    j + i, i = 0..n, the digit and (for i < n) the carry it passes on."""
    n, m = self.max_digits, self.max_right_digits
    left = jnp.append(left, 0)  # a_n = 0: the top column holds the last carry alone
    total = jnp.zeros(n + m + 1, jnp.int32)  # the running total, lsd first
    digits, carries = [], []
    for j in range(m):
      carry, line_digits, line_carries = jnp.int32(0), [], []
      for i in range(n + 1):
        column = total[i + j] + left[i] * right[j] + carry
        digit, carry = column % 10, column // 10
        total = total.at[i + j].set(digit)
        line_digits.append(digit)
        line_carries.append(carry)
      digits.append(jnp.stack(line_digits))
      carries.append(jnp.stack(line_carries))
    digits, carries = jnp.stack(digits), jnp.stack(carries)  # [m, n + 1]
    line, token = self._working_layout(left_count)
    written = jnp.where(token % 2 == 1, carries[line, token // 2], digits[line, token // 2])
    inside = jnp.arange(self.max_answer_length) < right_count * (2 * left_count + 1)
    return jnp.where(inside, written, PAD).astype(jnp.int32)

  def _working_layout(self, left_count) -> tuple[jax.Array, jax.Array]:
    """For each answer position, its line and its token in the line (2i: column i's
    digit, 2i + 1: its carry), for an n = left_count digit left operand; clipped."""
    index = jnp.arange(self.max_answer_length)
    width = 2 * left_count + 1
    return (jnp.minimum(index // width, self.max_right_digits - 1),
            jnp.minimum(index % width, 2 * self.max_digits))

  def _working_product(self, question, *answers) -> list[jax.Array]:
    """The product each finished working writes, lsd first: [n + m] digits. Its low
    digits are each line's first; the rest, the last line's digits."""
    left_count, right_count = self._counts(question)
    width = 2 * left_count + 1
    place = jnp.arange(self.result_digits)
    last = right_count - 1
    index = jnp.where(place < last, place * width, last * width + 2 * (place - last))
    index = jnp.clip(index, 0, self.max_answer_length - 1)
    inside = (place < last) | (place - last <= left_count)
    return [jnp.where(inside, answer[index], 0) for answer in answers]

  def _operand(self, question, last, count, size: int) -> jax.Array:
    """Least-significant-first digits of the `count` tokens ending at `last`."""
    index = jnp.arange(size)
    digits = question[jnp.clip(last - index, 0, self.question_length - 1)]
    return jnp.where(index < count, digits, 0).astype(jnp.int32)

  def answer_rules(self, question, answer, length) -> tuple[jax.Array, jax.Array]:
    if self.working:  # the working's shape: m lines of 2n + 1 tokens
      left_count, right_count = self._counts(question)
      full = length == right_count * (2 * left_count + 1)
      return jnp.full(len(DIGITS), ~full), full
    if self.digit_order == "msd":  # nothing may follow a leading 0
      return jnp.full(len(DIGITS), (length != 1) | (answer[0] != 0)), length >= 1
    # lsd: the last digit written so far is the leading one if the answer ends now.
    last = answer[jnp.maximum(length - 1, 0)]
    return jnp.ones(len(DIGITS), bool), (length == 1) | ((length > 1) & (last != 0))

  def token_places(self, question, answer, length) -> jax.Array:
    """A digit's place value (0 for units), in either operand, and in an lsd answer (an msd
    answer's places depend on its length, which is not written yet): a digit of the
    answer finds the operand digits of its place without counting positions. With
    `working`, the right operand's places follow the left's, and each working token has
    its own (line, column, digit or carry): it finds a_i, b_j and the total above it."""
    n, m = self.max_digits, self.max_right_digits
    position = jnp.arange(self.question_length)
    split, right_count = self._counts(question)
    end = split + 1 + right_count
    right_offset = n if self.working else 0
    question_places = jnp.where(
        position < split, split - 1 - position,
        jnp.where((position > split) & (position < end), right_offset + end - 1 - position, -1))
    index = jnp.arange(self.max_answer_length)
    if self.working:
      line, token = self._working_layout(split)
      answer_places = jnp.where(index < length, n + m + line * 2 * (n + 1) + token, -1)
    else:
      answer_places = jnp.where((index < length) & (self.digit_order == "lsd"), index, -1)
    return jnp.concatenate([question_places, jnp.full(1, -1), answer_places]).astype(jnp.int32)

  def prefix_ok(self, question, reference, answer, length) -> jax.Array:
    # The digits written so far are the reference's first ones, in the answer's order.
    return jnp.all((answer == reference) | (jnp.arange(self.max_answer_length) >= length))

  def verify(self, question, reference, answer, length) -> jax.Array:
    if self.working:  # the product it ends on; the legal moves keep the working's shape
      written, right = self._working_product(question, answer, reference)
      return jnp.all(written == right)
    # Both hold PAD after their last digit, so equal arrays mean equal lengths too.
    return jnp.all(answer == reference)

  # --- host side ----------------------------------------------------------------------

  def question_text(self, question: list[int]) -> str:
    return "".join(DIGITS[t] if t < len(DIGITS) else f" {self.tokens[t]} " for t in question)

  def parse_question(self, text: str) -> list[int]:
    match = _QUESTION_RE.match(text)
    if not match:
      raise ProblemError(f"{text!r}: expected two whole numbers and an operator, "
                         f"as in '123 {OPERATORS[self.operation]} 45'")
    left, symbol, right = match.groups()
    symbol = "*" if symbol in "x×" else symbol
    if symbol != OPERATORS[self.operation]:
      raise ProblemError(f"{text!r}: this env does {self.operation} "
                         f"({OPERATORS[self.operation]}), not {symbol}")
    for digits, high in ((left, self.max_digits), (right, self.max_right_digits)):
      if len(digits) > high:
        raise ProblemError(f"{text!r}: {digits} has more than {high} digits")
      if len(digits) > 1 and digits[0] == "0":
        raise ProblemError(f"{text!r}: write {digits} without leading zeros")
    return [int(d) for d in left] + [self.operator_token] + [int(d) for d in right]

  def decode_answer(self, answer: list[int]) -> str:
    digits = "".join(DIGITS[t] for t in answer)
    return digits[::-1] if self.digit_order == "lsd" else digits

  def answer_text(self, state) -> str:
    if not self.working:
      return super().answer_text(state)
    question, answer, length = jax.device_get(
        (state.problem.question, state.answer, state.length))
    if not bool(self.answer_rules(question, answer, length)[1]):
      # Unfinished working: its tokens, never read as a product.
      return "working " + " ".join(DIGITS[t] for t in np.asarray(answer)[:int(length)])
    product = np.asarray(self._working_product(question, answer)[0])
    return str(int("".join(DIGITS[t] for t in product[::-1])))

  @staticmethod
  def reference_check(problem_text: str, answer_text: str) -> bool:
    """True when the answer is the exact result, written without leading zeros."""
    match = re.fullmatch(r"\s*(\d+)\s*([+*x×])\s*(\d+)\s*", problem_text)
    if not match:
      return False
    left, right = int(match.group(1)), int(match.group(3))
    result = left + right if match.group(2) == "+" else left * right
    return answer_text.strip() == str(result)
