"""The environment contract: pure-functional, jittable, vmappable reasoning tasks.

An `Env` holds only static settings. Its array methods are pure functions of pytrees;
the public `init` and `step` wrap each env's `_init` and `_step` and enforce the rules
every env obeys, so an env author cannot get them wrong:

- stepping a finished (terminated or truncated) state changes nothing and pays nothing;
- an illegal action ends the episode as a failure (reward 0);
- a live state always has a legal action: a dead end is a terminal failure;
- the reward is the verified outcome, paid once, on the step that terminates;
- a finished state has an all-false legal mask.
"""

from __future__ import annotations

import abc
import copy
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from alphareason.errors import UsageError

Problem = Any  # a pytree of arrays, defined by each env


@struct.dataclass
class State:
  """What every env's state carries. Envs subclass it to add their own fields."""

  observation: jax.Array  # [*observation_shape] float32, what the network sees
  legal_action_mask: jax.Array  # [A] bool
  reward: jax.Array  # [] float32, the verified outcome, paid once at termination
  terminated: jax.Array  # [] bool, the episode ended by the rules
  truncated: jax.Array  # [] bool, the episode hit max_steps unfinished
  step_count: jax.Array  # [] int32
  problem: Problem  # the problem this episode solves, a pytree of arrays


def tree_select(pred: jax.Array, on_true: Any, on_false: Any) -> Any:
  """Chooses between two pytrees of the same structure by a scalar predicate."""
  return jax.tree.map(lambda a, b: jnp.where(pred, a, b), on_true, on_false)


class Env(abc.ABC):
  """Base class of every alphareason environment."""

  # Static settings every env defines.
  num_actions: int
  observation_shape: tuple[int, ...]
  max_steps: int
  # True when the verifier needs only the problem (Countdown, Sudoku); False when it
  # checks against a hidden reference answer. Search at test time may use the verifier's
  # reward only when this is True, or when the user asks for the oracle explicitly.
  self_verifiable: ClassVar[bool]
  # The network family that suits this env's observations (see networks.py).
  default_network: ClassVar[str] = "mlp"
  # Difficulty levels a curriculum climbs (train.curriculum_threshold): level 0 is the
  # easiest and level num_levels - 1 the env's full range, which `sample_problem` draws.
  num_levels: int = 1
  # Sorted problem_keys the generator never returns (held-out problems); envs set it.
  excluded_keys: np.ndarray = np.zeros(0, np.uint32)
  # True when `on_track` can judge a partial answer against what a generated problem
  # hides (a reference answer, the solved grid): training's process supervision.
  judges_partial_answers: ClassVar[bool] = False
  # Set on the copy `supervised()` makes: a move off the track ends the episode, unpaid.
  _ends_off_track: bool = False

  # --- array side: pure functions, jittable and vmappable -------------------------

  @abc.abstractmethod
  def sample_problem(self, key: jax.Array) -> Problem:
    """Draws one problem; the key is consumed."""

  def sample_problem_at(self, key: jax.Array, level: jax.Array) -> Problem:
    """Draws one problem of difficulty `level` ([] int32 in [0, num_levels), traced)."""
    del level  # one level unless an env defines more
    return self.sample_problem(key)

  def init(self, problem: Problem) -> State:
    """The initial state of the episode that solves `problem`."""
    return self._finish_step(self._init(problem))

  def step(self, state: State, action: jax.Array) -> State:
    """Applies `action` ([] int) to `state`, enforcing the rules of the module docstring."""
    action = jnp.asarray(action, jnp.int32)
    finished = state.terminated | state.truncated
    legal = state.legal_action_mask[jnp.clip(action, 0, self.num_actions - 1)]
    legal &= (action >= 0) & (action < self.num_actions)
    # The env's own transition only ever sees legal actions; action 0 stands in otherwise
    # so `_step` need not guard against out-of-range indices.
    moved = self._step(state.replace(reward=jnp.float32(0)), jnp.where(legal, action, 0))
    moved = moved.replace(step_count=state.step_count + 1)
    if self._ends_off_track:  # a finished answer is judged by the verifier alone
      moved = moved.replace(terminated=moved.terminated | ~self.on_track(moved))
    failed = state.replace(
        reward=jnp.float32(0), terminated=jnp.bool_(True), step_count=state.step_count + 1)
    next_state = self._finish_step(tree_select(legal, moved, failed))
    return tree_select(finished, state.replace(reward=jnp.float32(0)), next_state)

  def _finish_step(self, state: State) -> State:
    """Turns a dead end into a failure, truncates at max_steps, and clears finished masks."""
    dead_end = ~state.terminated & ~jnp.any(state.legal_action_mask)
    terminated = state.terminated | dead_end
    reward = jnp.where(dead_end, 0.0, state.reward).astype(jnp.float32)
    truncated = ~terminated & (state.truncated | (state.step_count >= self.max_steps))
    mask = state.legal_action_mask & ~(terminated | truncated)
    return state.replace(
        reward=reward, terminated=terminated, truncated=truncated, legal_action_mask=mask)

  @abc.abstractmethod
  def _init(self, problem: Problem) -> State:
    """The env's initial state: legal mask set, reward 0, not finished, step 0."""

  @abc.abstractmethod
  def _step(self, state: State, action: jax.Array) -> State:
    """The env's transition for a legal action of a live state.

    It sets `terminated` and `reward` when the episode ends by the rules; the base class
    handles step counting, illegal actions, dead ends and truncation.
    """

  def on_track(self, state: State) -> jax.Array:
    """[] bool: whether the answer so far can still end correct, judged against what the
    problem hides from the agent (a reference answer, the grid a puzzle was made from).
    Envs that can judge set `judges_partial_answers`; a problem that hides nothing (one
    read from text) is always on track. Only training uses it: see `supervised`."""
    del state
    return jnp.bool_(True)

  def judges_state(self, state: State) -> jax.Array:
    """[] bool: whether `on_track` judges this state, rather than calling it on track
    because it cannot judge it yet (Countdown with more numbers left than it enumerates)."""
    del state
    return jnp.bool_(True)

  def on_track_moves(self, state: State) -> jax.Array:
    """[A] bool: the legal moves that keep the answer on track (`on_track`) and, where
    they end the episode, end it paid. Training's process targets judge every move with
    it, not only those search visited. This default steps every action; envs with a
    direct test (Sudoku: the digit is the solution's) override it."""
    moved = jax.vmap(self.step, in_axes=(None, 0))(state, jnp.arange(self.num_actions))
    ended_unpaid = (moved.terminated | moved.truncated) & (moved.reward <= 0)
    return state.legal_action_mask & jax.vmap(self.on_track)(moved) & ~ended_unpaid

  def judges_moves(self, state: State) -> jax.Array:
    """[] bool: whether `on_track_moves` tells this state's moves apart, rather than
    calling every legal move on track because it cannot judge them yet (Countdown with
    more numbers left than it enumerates). Where it does not, process targets keep the
    search's policy instead of an even spread over every legal move."""
    del state
    return jnp.bool_(True)

  def alternatives(self, state: State, action: jax.Array) -> jax.Array:
    """[A] bool: legal moves, `action` among them, that settle the same choice at `state`:
    every solution reachable from `state` starts with one of them. Depth-first search
    (`dfs`) branches over these alone, so that a state with no completion is given up
    after this choice's options, not after every legal move. The default, every legal
    move, is right for any env; Sudoku narrows it to one cell's digits or one digit's
    places in a unit, whichever are fewer."""
    del action
    return state.legal_action_mask

  def supervised(self) -> "Env":
    """This env with process supervision, for training only: a move that leaves the
    track (`on_track`) ends the episode as a failure, paid 0, so self-play and its search
    learn which step went wrong instead of only that the answer did."""
    if not self.judges_partial_answers:
      raise ValueError(f"{type(self).__name__} cannot judge partial answers")
    supervised = copy.copy(self)
    supervised._ends_off_track = True
    return supervised

  def _sample_accepted(self, key: jax.Array, draw) -> Problem:
    """Draws `draw(key) -> (problem, ok)` with fresh keys until a draw is ok and is not one
    of `excluded_keys` (the `problem_key`s of held-out problems); the key is consumed."""
    excluded = jnp.asarray(self.excluded_keys)

    def accepted(problem, ok):
      if excluded.size == 0:
        return ok
      key_ = self.problem_key(problem)
      return ok & (excluded[jnp.clip(jnp.searchsorted(excluded, key_), 0, excluded.size - 1)] != key_)

    def body(carry):
      key, _, _ = carry
      key, sub = jax.random.split(key)
      return (key, *draw(sub))

    key, sub = jax.random.split(key)
    _, problem, _ = jax.lax.while_loop(lambda carry: ~accepted(*carry[1:]), body,
                                       (key, *draw(sub)))
    return problem

  def problem_key(self, problem: Problem) -> jax.Array:
    """A canonical uint32 hash of a problem, equal for problems that are the same task.

    Training excludes the problems of held-out splits by this key.
    """
    leaves = [jnp.ravel(jnp.asarray(x)).astype(jnp.uint32) for x in jax.tree.leaves(problem)]
    return hash_uint32(jnp.concatenate(leaves))

  # --- host side: plain Python ------------------------------------------------------

  @abc.abstractmethod
  def parse_problem(self, text: str) -> Problem:
    """Parses a problem written as text; raises `ProblemError` with a clear message."""

  @abc.abstractmethod
  def problem_text(self, problem: Problem) -> str:
    """The canonical text of a problem, which `parse_problem` reads back."""

  @abc.abstractmethod
  def answer_text(self, state: State) -> str:
    """The answer an episode wrote, as text a person (and `reference_check`) can read."""

  def render(self, state: State) -> str:
    """A human-readable view of a state."""
    return self.answer_text(state)

  def observation_settings(self) -> dict:
    """Settings, beyond the shapes, that fix what an observation means to a trained
    network (a feature's scale, say). A checkpoint played in an env with other settings
    keeps these as trained unless they are given too. Default: none."""
    return {}

  def draw_settings(self) -> tuple[str, ...]:
    """Settings that only choose how `sample_problem` draws training problems. A
    checkpoint played in an env with other settings drops these to their defaults unless
    they are given too, since inference draws no problems. Default: none."""
    return ()

  @staticmethod
  @abc.abstractmethod
  def reference_check(problem_text: str, answer_text: str) -> bool:
    """An independent plain-Python verifier, sharing no code with the JAX rules."""


class ProblemError(UsageError, ValueError):
  """A problem text that cannot be read; its message is shown to the user as is."""


def hash_uint32(values: jax.Array) -> jax.Array:
  """FNV-1a over 32-bit words: order-sensitive, identical on host and device."""
  values = jnp.asarray(values, jnp.uint32)

  def mix(h, word):
    for shift in (0, 8, 16, 24):
      h = (h ^ ((word >> shift) & jnp.uint32(0xFF))) * jnp.uint32(16777619)
    return h, None

  h, _ = jax.lax.scan(mix, jnp.uint32(2166136261), values)
  return h


def fewest_options(candidates: jax.Array, cell: jax.Array, digit: jax.Array,
                   units: jax.Array) -> jax.Array:
  """The smallest complete set of options around writing `digit` into `cell`.

  For a puzzle that fills cells with digits, each once per unit (Sudoku's rows, columns
  and boxes; a Latin square's rows and columns): every solution says which digit `cell`
  holds and where `digit` goes in each of `cell`'s units, so the cell's candidates and
  the digit's places in each unit are each a complete set of options, and the smallest
  branches least (a hidden single's unit leaves one option where its cell may have
  several). An env's `alternatives` for depth-first search.

  candidates: [cells, digits] bool; units: [U, unit size] the cells of `cell`'s units.
  Returns a [cells, digits] bool mask, True on the options of the smallest set.
  """
  unit_options = candidates[units, digit]  # [U, unit size]
  counts = jnp.concatenate([jnp.sum(candidates[cell])[None], jnp.sum(unit_options, axis=1)])
  fewest = jnp.argmin(counts)
  by_cell = jnp.zeros_like(candidates).at[cell].set(candidates[cell])
  unit = units[jnp.maximum(fewest - 1, 0)]
  by_unit = jnp.zeros_like(candidates).at[unit, digit].set(candidates[unit, digit])
  return jnp.where(fewest == 0, by_cell, by_unit)
