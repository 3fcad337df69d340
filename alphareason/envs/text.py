"""Token environments: a text task as a decision process, from a generator and a verifier.

The question is a fixed-length token sequence; each action writes the next answer token,
one of the task's `vocabulary`, or ends the answer (action `V`, V = len(vocabulary)).
The episode ends at the end-of-answer token or when the answer reaches
`max_answer_length` tokens, and pays 1 when the task's verifier accepts the finished
answer against the problem's hidden reference, else 0. Since the verifier reads a
reference the agent never sees, such tasks are not self-verifiable: search at test time
judges answers with the learned value unless the oracle is asked for.

A task subclasses `TokenEnv`, passes its sizes and tokens to `__init__`, and defines:

- `generate(key) -> (question, reference)`: a random problem in JAX; `question` is
  int32 [question_length], token ids, `PAD` (-1) after the question's end; `reference`
  any pytree of arrays of fixed shapes.
- `solve(question) -> reference`: the reference of a question, in JAX, so that a
  problem can be read back from its text.
- the verifier, one of:
  - `verify(question, reference, answer, length) -> bool` in JAX (fast): `answer` is
    int32 [max_answer_length], the written tokens then `PAD`, `length` how many;
  - `verify_on_host(question, reference, answer) -> bool` in plain Python, for
    prototyping: token lists (padding dropped) and the reference as numpy arrays. It
    runs through `jax.pure_callback`, only for episodes that end, but every call leaves
    the accelerator for the host, so it is much slower than a JAX verifier.
- `reference_check(problem_text, answer_text)`: the static, independent plain-Python
  verifier every env has (see alphareason.env).
- optionally `answer_rules(question, answer, length) -> (writable [V] bool, can_end
  bool)`: the format an answer must keep (numbers without leading zeros, say, or working
  whose shape the question sets), as the legal mask of the next token; by default any
  token may come next and the answer may end once it has `min_answer_length` tokens.
- optionally `num_places` (to `__init__`) and `token_places(question, answer, length)`:
  a place for each position (a digit's place value), shown to the network beside the
  token, where position alone would make it work out where a token stands.
- optionally `prefix_ok(question, reference, answer, length) -> bool` in JAX: whether
  an unfinished answer can still be completed correctly. Training may then stop an
  episode at its first wrong token (process supervision, `Env.supervised`); search at
  test time never sees it.

Token ids: vocabulary tokens 0..V-1 (what answers write), `V` the end of answer, then
`question_vocabulary`, tokens only questions use; `token_ids` maps each string to its
id. Text conversions default to joining token strings with `separator` and reading a
question back by longest-match tokenizing; override `question_text`, `parse_question`
and `decode_answer` for other formats.

Observation: float32 [question_length + 1 + max_answer_length, T + P + 1]: the
question, a start-of-answer marker, then the answer, one-hot over the T token kinds
(padding is all zeros), one-hot over the P = num_places places (none by default), and a
last column that marks the position of the last written token (the start marker before
any), where a causal network reads its policy and value.
"""

from __future__ import annotations

import abc
import functools
from typing import Any, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from alphareason.env import Env, ProblemError, State

PAD = -1  # token id of an empty position, in questions and answers


@struct.dataclass
class TokenProblem:
  question: jax.Array  # [Q] int32 token ids, PAD after the question's end
  reference: Any  # pytree of arrays, the hidden reference the verifier compares with


@struct.dataclass
class TokenState(State):
  answer: jax.Array  # [M] int32 vocabulary ids written so far, PAD after them
  length: jax.Array  # [] int32, how many answer tokens are written
  ended: jax.Array  # [] bool, the end-of-answer token was written


class TokenEnv(Env):
  """A token-by-token answering task; see the module docstring for what to define."""

  self_verifiable = False
  default_network = "causal"

  def __init__(self, *, vocabulary: Sequence[str], question_length: int, max_answer_length: int,
               question_vocabulary: Sequence[str] = (), min_answer_length: int = 1,
               separator: str = "", num_places: int = 0, exclude=()):
    tokens = [*vocabulary, "<end>", *question_vocabulary, "<answer>"]
    if not vocabulary or len(set(tokens)) != len(tokens) or not all(tokens):
      raise ValueError(f"tokens must be distinct non-empty strings, none of '<end>' and "
                       f"'<answer>'; got {list(vocabulary)} and {list(question_vocabulary)}")
    if question_length < 1 or max_answer_length < 1:
      raise ValueError(f"need question_length and max_answer_length >= 1, got "
                       f"{question_length}, {max_answer_length}")
    if not 0 <= min_answer_length <= max_answer_length:
      raise ValueError(f"need 0 <= min_answer_length <= max_answer_length, got "
                       f"{min_answer_length}, {max_answer_length}")
    jax_verifier = type(self).verify is not TokenEnv.verify
    host_verifier = type(self).verify_on_host is not TokenEnv.verify_on_host
    if jax_verifier == host_verifier:
      raise TypeError(f"{type(self).__name__} must define exactly one of verify (JAX) and "
                      f"verify_on_host (plain Python)")
    self.vocabulary = tuple(vocabulary)
    self.question_vocabulary = tuple(question_vocabulary)
    self.tokens = tuple(tokens)  # id -> string; the last one marks the answer's start
    self.token_ids = {token: i for i, token in enumerate(self.tokens)}
    self.end_of_answer = len(self.vocabulary)
    self.question_length = question_length
    self.max_answer_length = max_answer_length
    self.min_answer_length = min_answer_length
    self.separator = separator
    self.uses_host_verifier = host_verifier
    self.excluded_keys = np.unique(np.asarray(exclude, np.uint32))
    self.num_actions = len(self.vocabulary) + 1
    self.max_steps = max_answer_length
    self.judges_partial_answers = type(self).prefix_ok is not TokenEnv.prefix_ok
    # One column per token kind, one per place (`token_places`), then the read-here marker.
    self.num_places = num_places
    self.observation_shape = (question_length + 1 + max_answer_length,
                              len(self.tokens) + num_places + 1)

  # --- what a task defines ------------------------------------------------------------

  @abc.abstractmethod
  def generate(self, key: jax.Array) -> tuple[jax.Array, Any]:
    """A random (question [Q] int32, reference) in JAX; the key is consumed."""

  def generate_at(self, key: jax.Array, level: jax.Array) -> tuple[jax.Array, Any]:
    """`generate` at difficulty `level` (traced), for a task with `num_levels` > 1."""
    del level
    return self.generate(key)

  @abc.abstractmethod
  def solve(self, question: jax.Array) -> Any:
    """The reference of a question ([Q] int32), in JAX."""

  def verify(self, question: jax.Array, reference: Any, answer: jax.Array,
             length: jax.Array) -> jax.Array:
    """Whether the finished answer is correct ([] bool), in JAX."""
    raise NotImplementedError(f"{type(self).__name__} verifies with verify_on_host")

  def verify_on_host(self, question: list[int], reference: Any, answer: list[int]) -> bool:
    """Whether the finished answer is correct, in plain Python (through pure_callback)."""
    raise NotImplementedError(f"{type(self).__name__} verifies with verify (JAX)")

  def token_places(self, question: jax.Array, answer: jax.Array, length: jax.Array) -> jax.Array:
    """Each position's place, 0..num_places-1, or -1 for none ([Q + 1 + M] int32): what a
    task with `num_places` > 0 says about where a token stands, beyond its position (a
    digit's place value, say), shown to the network as one more one-hot."""
    raise NotImplementedError(f"{type(self).__name__} gives num_places but no token_places")

  def prefix_ok(self, question: jax.Array, reference: Any, answer: jax.Array,
                length: jax.Array) -> jax.Array:
    """Whether the unfinished answer (`length` tokens, then PAD) can still be completed
    correctly ([] bool), in JAX; a task that defines it judges partial answers."""
    raise NotImplementedError(f"{type(self).__name__} cannot judge partial answers")

  def answer_rules(self, question: jax.Array, answer: jax.Array,
                   length: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Which vocabulary tokens may be written next ([V] bool) and whether the answer may
    end now ([] bool), given the question and the answer so far; a full answer ends
    regardless."""
    del question, answer
    return jnp.ones(len(self.vocabulary), bool), length >= self.min_answer_length

  def question_text(self, question: list[int]) -> str:
    """The text of a question's tokens (padding dropped)."""
    return self.separator.join(self.tokens[t] for t in question)

  def parse_question(self, text: str) -> list[int]:
    """A question's tokens from its text; raises ProblemError."""
    return self._tokenize(text)

  def decode_answer(self, answer: list[int]) -> str:
    """The text of an answer's tokens."""
    return self.separator.join(self.tokens[t] for t in answer)

  # --- array side ---------------------------------------------------------------------

  def sample_problem(self, key: jax.Array) -> TokenProblem:
    return self.sample_problem_at(key, jnp.int32(self.num_levels - 1))

  def sample_problem_at(self, key: jax.Array, level: jax.Array) -> TokenProblem:
    def draw(key):
      question, reference = self.generate_at(key, level)
      return TokenProblem(jnp.asarray(question, jnp.int32), reference), jnp.bool_(True)

    return self._sample_accepted(key, draw)

  def problem_key(self, problem: TokenProblem) -> jax.Array:
    # The reference follows from the question: the question alone names the task.
    return super().problem_key(jnp.asarray(problem.question, jnp.int32))

  def _init(self, problem: TokenProblem) -> TokenState:
    state = TokenState(
        observation=jnp.zeros(self.observation_shape, jnp.float32),
        legal_action_mask=jnp.zeros(self.num_actions, bool),
        reward=jnp.float32(0), terminated=jnp.bool_(False), truncated=jnp.bool_(False),
        step_count=jnp.int32(0), problem=problem,
        answer=jnp.full(self.max_answer_length, PAD, jnp.int32), length=jnp.int32(0),
        ended=jnp.bool_(False))
    return self._with_derived(state)

  def _step(self, state: TokenState, action: jax.Array) -> TokenState:
    ends = action == self.end_of_answer
    answer = jnp.where(ends, state.answer, state.answer.at[state.length].set(action))
    length = state.length + jnp.where(ends, 0, 1)
    done = ends | (length >= self.max_answer_length)
    correct = self._verify_finished(state.problem, answer, length, done)
    return self._with_derived(state.replace(
        answer=answer, length=length, ended=ends, terminated=done,
        reward=(done & correct).astype(jnp.float32)))

  def on_track(self, state: TokenState) -> jax.Array:
    if not self.judges_partial_answers:
      return jnp.bool_(True)
    return jnp.asarray(self.prefix_ok(state.problem.question, state.problem.reference,
                                      state.answer, state.length), bool)

  def _verify_finished(self, problem: TokenProblem, answer, length, done) -> jax.Array:
    if not self.uses_host_verifier:
      return jnp.asarray(self.verify(problem.question, problem.reference, answer, length), bool)

    def on_host():
      # Under vmap, "broadcast_all" hands the callback whole batches (the cond becomes a
      # select there), so it verifies in one host call, skipping episodes still live.
      return jax.pure_callback(self._host_batch, jax.ShapeDtypeStruct((), jnp.bool_),
                               problem.question, problem.reference, answer, length, done,
                               vmap_method="broadcast_all")

    # Unbatched, cond skips the host round trip for a live episode altogether.
    return jax.lax.cond(done, on_host, lambda: jnp.bool_(False))

  def _host_batch(self, question, reference, answer, length, done) -> np.ndarray:
    done = np.asarray(done)
    batch = done.shape  # the leading axes vmap added; () when unbatched
    flat = lambda x: np.asarray(x).reshape(-1, *np.shape(x)[len(batch):])
    question, answer, length = flat(question), flat(answer), flat(length)
    reference = jax.tree.map(flat, reference)
    out = np.zeros(done.size, bool)
    for i in np.flatnonzero(done.reshape(-1)):
      out[i] = bool(self.verify_on_host(
          [int(t) for t in question[i] if t != PAD], jax.tree.map(lambda x: x[i], reference),
          [int(t) for t in answer[i, :length[i]]]))
    return out.reshape(batch)

  def _with_derived(self, state: TokenState) -> TokenState:
    """The legal mask and observation from the answer written so far."""
    writable, can_end = self.answer_rules(state.problem.question, state.answer, state.length)
    writable = writable & (state.length < self.max_answer_length)
    legal = jnp.concatenate([writable, jnp.asarray(can_end, bool)[None]]) & ~state.terminated
    return state.replace(legal_action_mask=legal, observation=self._observe(state))

  def _observe(self, state: TokenState) -> jax.Array:
    start = jnp.int32(self.token_ids["<answer>"])
    # The end-of-answer token shows in a finished answer, so the value head can judge it.
    shown = jnp.where(state.ended, state.answer.at[state.length].set(self.end_of_answer,
                                                                     mode="drop"), state.answer)
    sequence = jnp.concatenate([state.problem.question, start[None], shown])
    tokens = jax.nn.one_hot(sequence, len(self.tokens), dtype=jnp.float32)  # PAD: all zero
    cursor = self.question_length + state.length + state.ended.astype(jnp.int32)
    marker = jax.nn.one_hot(cursor, len(sequence), dtype=jnp.float32)
    columns = [tokens, marker[:, None]]
    if self.num_places:  # -1, no place: all zero
      places = self.token_places(state.problem.question, state.answer, state.length)
      columns.insert(1, jax.nn.one_hot(places, self.num_places, dtype=jnp.float32))
    return jnp.concatenate(columns, axis=1)

  # --- host side ----------------------------------------------------------------------

  def _tokenize(self, text: str) -> list[int]:
    """Longest-match tokenizing over the question's tokens, whitespace between ignored."""
    candidates = sorted(((t, i) for i, t in enumerate(self.tokens)
                         if t not in ("<end>", "<answer>")), key=lambda p: -len(p[0]))
    out, position = [], 0
    while position < len(text):
      if text[position].isspace():
        position += 1
        continue
      match = next(((t, i) for t, i in candidates if text.startswith(t, position)), None)
      if match is None:
        raise ProblemError(f"{text!r}: no token matches at {text[position:position + 10]!r}")
      out.append(match[1])
      position += len(match[0])
    return out

  def parse_problem(self, text: str) -> TokenProblem:
    tokens = self.parse_question(text)
    if not 1 <= len(tokens) <= self.question_length:
      raise ProblemError(f"{text!r}: a question has 1 to {self.question_length} tokens, "
                         f"got {len(tokens)}")
    if not all(0 <= t < len(self.tokens) - 1 and t != self.end_of_answer for t in tokens):
      raise ProblemError(f"{text!r}: a question token id is out of range: {tokens}")
    question = np.full(self.question_length, PAD, np.int32)
    question[:len(tokens)] = tokens
    reference = jax.device_get(self._solve_compiled(question))
    return TokenProblem(question=question, reference=reference)

  def problem_text(self, problem: TokenProblem) -> str:
    return self.question_text([int(t) for t in np.asarray(problem.question) if t != PAD])

  def answer_text(self, state: TokenState) -> str:
    answer, length = jax.device_get((state.answer, state.length))
    return self.decode_answer([int(t) for t in np.asarray(answer)[:int(length)]])

  @functools.cached_property
  def _solve_compiled(self):
    # Compiled once per env: reading a suite's problems would otherwise retrace each time.
    return jax.jit(self.solve)

  def render(self, state: TokenState) -> str:
    return f"{self.problem_text(state.problem)} => {self.answer_text(state)}"

