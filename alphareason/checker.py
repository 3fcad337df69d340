"""check_env(): verifies the environment contract on any env.

Runs random legal play, jitted and vmapped, and checks shapes, dtypes, finiteness, the
rules of alphareason.env (rewards paid once at termination, finished states frozen,
illegal actions fail, live states have a legal action), purity, that nothing recompiles,
and that the host side (problem text round trip, reference checker) agrees with the
arrays.

The checker is a diagnostic tool for envs that may break any rule, including envs that
override the public `init` or `step` and so skip the base class's enforcement: whatever
an env does, each problem becomes a failed check with a message naming it, never a
traceback. When a failure leaves later checks nothing to run on (a step that cannot be
jitted, say), those checks are reported as skipped.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from alphareason.env import Env, State
from alphareason.errors import first_line


@dataclasses.dataclass
class CheckReport:
  env_name: str
  passed: list[str] = dataclasses.field(default_factory=list)
  failures: list[str] = dataclasses.field(default_factory=list)
  skipped: list[str] = dataclasses.field(default_factory=list)
  # Every line in the order the checks ran, so a report reads top to bottom.
  lines: list[str] = dataclasses.field(default_factory=list)

  @property
  def ok(self) -> bool:
    return not self.failures

  def __str__(self) -> str:
    if self.ok:
      summary = f"ok, {len(self.passed)} checks passed"
    else:
      summary = f"FAILED {len(self.failures)} of {len(self.passed) + len(self.failures)} checks"
    return "\n".join([f"check_env({self.env_name}): {summary}", *self.lines])


class EnvContractError(AssertionError):
  pass


# The rules random play checks, in the order the report lists them.
_PLAY_RULES = ("step is pure", "observations and rewards are finite", "rewards lie in [0, 1]",
               "reward paid only on the terminating step", "reward paid at most once",
               "finished states do not change", "finished states have an all-false legal mask",
               "live states have a legal action", "step_count advances by one a step",
               "episodes end within max_steps")


def check_env(env: Env, *, episodes: int = 64, seed: int = 0, strict: bool = True) -> CheckReport:
  """Checks `env` against the contract; raises EnvContractError on failure if `strict`."""
  if episodes < 1:
    raise ValueError(f"episodes must be at least 1, got {episodes}")
  report = _EnvCheck(env, episodes, seed).run()
  if strict and not report.ok:
    raise EnvContractError(str(report))
  return report


def _random_actions(key, states: State) -> jax.Array:
  logits = jnp.where(states.legal_action_mask, 0.0, -jnp.inf)
  # A finished state has no legal action; any action then must be a no-op.
  logits = jnp.where(jnp.any(states.legal_action_mask, -1, keepdims=True), logits, 0.0)
  return jax.random.categorical(key, logits).astype(jnp.int32)


def _describe(value: Any) -> str:
  """`float32[4]`, the per-episode dtype and shape of a batched value."""
  if not hasattr(value, "shape") or not hasattr(value, "dtype"):
    return type(value).__name__
  return f"{np.dtype(value.dtype).name}{list(value.shape[1:])}"


def _named_leaves(tree: Any) -> list[tuple[str, Any]]:
  """(field name, leaf) pairs, such as ('observation', x) or ('problem.numbers', y)."""
  leaves, _ = jax.tree_util.tree_flatten_with_path(tree)
  return [(jax.tree_util.keystr(path).lstrip("."), leaf) for path, leaf in leaves]


def _rows_equal(x: np.ndarray, y: np.ndarray) -> np.ndarray:
  """[B] bool: whether episode i of x equals episode i of y, a NaN equal to a NaN."""
  x, y = np.asarray(x), np.asarray(y)
  x, y = x.reshape(len(x), -1), y.reshape(len(y), -1)
  same = x == y
  if np.issubdtype(x.dtype, np.inexact):
    same |= np.isnan(x) & np.isnan(y)
  return same.all(-1)


def _first(flags: np.ndarray) -> int | None:
  """The index of the first true flag, or None."""
  indices = np.flatnonzero(flags)
  return int(indices[0]) if indices.size else None


def _close(x: np.ndarray, y: np.ndarray) -> bool:
  """Equal, up to float noise: separately compiled copies of a program may round apart."""
  x, y = np.asarray(x), np.asarray(y)
  if x.shape != y.shape or x.dtype != y.dtype:
    return False
  if np.issubdtype(x.dtype, np.inexact):
    return bool(np.allclose(x, y, rtol=1e-6, atol=1e-7, equal_nan=True))
  return bool(np.array_equal(x, y))


def _first_difference(a: Any, b: Any) -> str | None:
  """The first field where two outputs of the same structure differ, or None."""
  for (name, x), y in zip(_named_leaves(a), jax.tree.leaves(b)):
    if not _close(x, y):
      return name or "the output"
  return None


class _EnvCheck:
  """One run of the checks on one env; `run` returns the report."""

  def __init__(self, env: Env, episodes: int, seed: int):
    self.env = env
    self.episodes = episodes
    self.seed = seed
    self.report = CheckReport(getattr(env, "env_id", type(env).__name__))
    self.step_traces = 0

    def counted_step(states, actions):
      self.step_traces += 1  # runs once per trace: a second trace means a recompile
      return jax.vmap(env.step)(states, actions)

    self.step = jax.jit(counted_step)

  def check(self, name: str, ok: Any, detail: str = "") -> bool:
    ok = bool(ok)
    line = name if ok or not detail else f"{name}: {detail}"
    (self.report.passed if ok else self.report.failures).append(line)
    self.report.lines.append(f"  {'pass' if ok else 'FAIL'}  {line}")
    return ok

  def skip(self, what: str, reason: str) -> None:
    self.report.skipped.append(what)
    self.report.lines.append(f"  skip  {what} ({reason})")

  def run(self) -> CheckReport:
    if not self.static_sizes():
      self.skip("every other check", "they need valid sizes")
      return self.report
    problem_key, play_key = jax.random.split(jax.random.PRNGKey(self.seed))
    problems = self.sample_problems(problem_key)
    if problems is None:
      self.skip("every other check", "they need problems")
      return self.report
    states = self.initial_states(problems)
    if states is None:
      self.skip("step, play and illegal action checks", "they need well-formed initial states")
    else:
      solved = self.play(states, play_key)
      if solved is not None:
        self.illegal_actions(states)
        self.reference_check(solved)
    # The host side needs only problems, so it runs whatever broke above.
    self.round_trip(problems)
    return self.report

  # --- the array side -----------------------------------------------------------

  def static_sizes(self) -> bool:
    def whole(x, low):
      return isinstance(x, (int, np.integer)) and not isinstance(x, bool) and x >= low

    num_actions = getattr(self.env, "num_actions", None)
    max_steps = getattr(self.env, "max_steps", None)
    shape = getattr(self.env, "observation_shape", None)
    ok = (whole(num_actions, 1) and whole(max_steps, 1) and isinstance(shape, tuple)
          and all(whole(d, 1) for d in shape))
    return self.check("static sizes", ok, f"num_actions={num_actions!r}, max_steps={max_steps!r}, "
                      f"observation_shape={shape!r}; want positive ints and a tuple of them")

  def traced(self, what: str, fn: Callable, batched: Callable, *batched_args) -> Any:
    """`batched(*batched_args)`, reporting why it fails: `fn` broken, unjittable or unvmappable."""
    single_args = jax.tree.map(lambda x: x[0], batched_args)
    try:
      jax.eval_shape(fn, *single_args)  # traces as jit does, without compiling
    except Exception as trace_error:
      # Tell "cannot be jitted" from "fails anyway" by running it eagerly, only now:
      # eager JAX compiles op by op, which takes seconds for a real env.
      try:
        fn(*single_args)
      except Exception as error:
        self.check(f"{what} jits and vmaps", False, f"{what} raises {first_line(error)}")
        return None
      self.check(f"{what} jits and vmaps", False,
                 f"{what} cannot be jitted: {first_line(trace_error)}")
      return None
    try:
      out = jax.block_until_ready(batched(*batched_args))
    except Exception as error:
      self.check(f"{what} jits and vmaps", False, f"{what} cannot be vmapped: {first_line(error)}")
      return None
    self.check(f"{what} jits and vmaps", True)
    return out

  def purity(self, what: str, fn: Callable, out: Any, *batched_args) -> None:
    """Compares `out` with a separately traced copy: Python side effects (a global
    counter, numpy's random state) run once per trace, so they show only across traces."""
    try:
      again = jax.jit(lambda *args: jax.vmap(fn)(*args))(*batched_args)
    except Exception as error:
      self.check(f"{what} is pure", False, f"{what} fails when traced again: {first_line(error)}")
      return
    same_structure = jax.tree.structure(again) == jax.tree.structure(out)
    field = None if not same_structure else _first_difference(out, again)
    self.check(f"{what} is pure", same_structure and field is None,
               f"{what} is impure: two separately jitted copies gave different "
               f"{field or 'structures'} for the same input")

  def sample_problems(self, key: jax.Array) -> Any:
    keys = jax.random.split(key, self.episodes)
    sample = self.env.sample_problem
    problems = self.traced("sample_problem", sample, jax.jit(jax.vmap(sample)), keys)
    if problems is not None:
      self.purity("sample_problem", sample, problems, keys)
    return problems

  def state_fields(self, what: str, states: Any) -> bool:
    """Checks the contract fields of a batch of states; True if all are as they must be."""
    if not self.check(f"{what} is a State", isinstance(states, State),
                      f"got {type(states).__name__}"):
      return False
    # Every state's fields, with their per-episode shapes and dtypes (see env.State).
    expected = dict(observation=(tuple(self.env.observation_shape), np.float32),
                    legal_action_mask=((self.env.num_actions,), np.bool_),
                    reward=((), np.float32), terminated=((), np.bool_), truncated=((), np.bool_),
                    step_count=((), np.int32))
    all_ok = True
    for field, (shape, dtype) in expected.items():
      value = getattr(states, field)
      ok = (hasattr(value, "shape") and value.shape == (self.episodes, *shape)
            and value.dtype == dtype)
      all_ok &= self.check(f"{what} {field} is {np.dtype(dtype).name}{list(shape)}", ok,
                           f"got {_describe(value)}")
    return all_ok

  def initial_states(self, problems: Any) -> State | None:
    """The jitted initial states, or None when later checks cannot use them."""
    init = self.env.init
    states = self.traced("init", init, jax.jit(jax.vmap(init)), problems)
    if states is None or not self.state_fields("init output", states):
      return None
    self.purity("init", init, states, problems)
    host = jax.device_get(states)
    finite = self.finite_values(host, "at init")
    self.check("initial observations and rewards are finite", finite is None, finite or "")
    finished = host.terminated | host.truncated
    i = _first(finished)
    self.check("initial states are live", i is None, f"episode {i} starts finished")
    i = _first(~finished & ~host.legal_action_mask.any(-1))
    self.check("initial states have a legal action", i is None,
               f"legal_action_mask is all false in live episode {i} at init")
    i = _first(host.reward != 0)
    self.check("initial reward is 0", i is None,
               f"episode {i} starts with reward {host.reward[i or 0]:g}")
    return states

  def finite_values(self, host: State, when: str) -> str | None:
    """Where an observation or reward is NaN or infinite, or None."""
    for field in ("observation", "reward"):
      values = np.asarray(getattr(host, field)).reshape(self.episodes, -1)
      for kind, bad in (("NaN", np.isnan(values)), ("inf", np.isinf(values))):
        i = _first(bad.any(-1))
        if i is not None:
          return f"{kind} in {field} of episode {i} {when}"
    return None

  def play(self, states: State, key: jax.Array) -> list[tuple[np.ndarray, State]] | None:
    """Random legal play to the end; returns the (solved episodes, states) of each step."""
    env = self.env
    # A separately traced copy: comparing the two each step shows an impure step.
    twin = jax.jit(lambda states, actions: jax.vmap(env.step)(states, actions))
    keys = jax.random.split(key, env.max_steps + 1)
    actions = _random_actions(keys[0], states)
    nxt = self.traced("step", env.step, self.step, states, actions)
    if nxt is None or not self.step_output(states, nxt):
      self.skip("random play, illegal action and reference_check checks",
                "they need a step that jits and keeps the state well-formed")
      return None

    violations: dict[str, str] = {}  # rule -> its first violation, the failure's message
    payments = np.zeros(self.episodes, np.int32)
    paid = np.zeros(self.episodes, np.float64)
    solved = []
    prev = jax.device_get(states)
    try:
      for t in range(env.max_steps + 1):
        if t > 0:
          actions = _random_actions(keys[t], states)
          nxt = self.step(states, actions)
        cur = jax.device_get(nxt)
        again = jax.device_get(twin(states, actions))
        for rule, detail in self.step_rules(t + 1, prev, cur, again):
          violations.setdefault(rule, detail)
        newly_terminal = cur.terminated & ~(prev.terminated | prev.truncated)
        payments += cur.reward != 0
        paid += np.where(np.isfinite(cur.reward), cur.reward, 0)
        solved.append((np.flatnonzero(newly_terminal & (cur.reward > 0)), cur))
        states, prev = nxt, cur
    except Exception as error:  # an env can break in ways no rule foresees: report it
      self.check("random play runs", False, f"step {t + 1} raised {first_line(error)}")
      self.skip("the rules of random play", "play did not finish")
      return None

    i = _first(payments > 1)
    if i is not None:
      violations["reward paid at most once"] = (
          f"episode {i} was paid more than once: {payments[i]} payments, {paid[i]:g} in all")
    for rule in _PLAY_RULES:
      self.check(rule, rule not in violations, violations.get(rule, ""))
    self.check("step compiles once", self.step_traces == 1, f"traced {self.step_traces} times")
    return solved

  def step_rules(self, t: int, prev: State, cur: State, again: State) -> list[tuple[str, str]]:
    """(rule, message) for each rule that the t-th step of play, prev -> cur, breaks.

    `again` is the same step from a separately jitted copy of `step`.
    """
    broken = []
    field = _first_difference(cur, again)
    if field is not None:
      broken.append(("step is pure", f"step is impure: two separately jitted copies gave "
                     f"different {field} for the same state and action (step {t})"))
    problem = self.finite_values(cur, f"after step {t}")
    if problem:
      broken.append(("observations and rewards are finite", problem))
    reward = cur.reward
    i = _first(np.isfinite(reward) & ((reward < 0) | (reward > 1)))
    if i is not None:
      broken.append(("rewards lie in [0, 1]", f"episode {i} was paid {reward[i]:g} on step {t}"))
    finished = prev.terminated | prev.truncated
    ended = cur.terminated | cur.truncated
    i = _first((reward != 0) & ~(cur.terminated & ~finished))
    if i is not None:
      when = "after it had finished" if finished[i] else "which did not end it"
      broken.append(("reward paid only on the terminating step",
                     f"episode {i} was paid {reward[i]:g} on step {t}, {when}"))
    # Frozen: every field but the reward (a finished state's step pays 0) stays put.
    for (name, before), after in zip(_named_leaves(prev), jax.tree.leaves(cur)):
      i = _first(finished & ~_rows_equal(before, after))
      if name != "reward" and i is not None:
        broken.append(("finished states do not change",
                       f"episode {i} changed {name} on step {t}, after it had finished"))
        break
    i = _first(ended & cur.legal_action_mask.any(-1))
    if i is not None:
      broken.append(("finished states have an all-false legal mask",
                     f"episode {i} is finished but has legal actions after step {t}"))
    i = _first(~ended & ~cur.legal_action_mask.any(-1))
    if i is not None:
      broken.append(("live states have a legal action",
                     f"legal_action_mask is all false in live episode {i} after step {t}"))
    i = _first(~finished & (cur.step_count != prev.step_count + 1))
    if i is not None:
      broken.append(("step_count advances by one a step", f"episode {i} went from step_count "
                     f"{prev.step_count[i]} to {cur.step_count[i]} on step {t}"))
    i = _first(~ended) if t == self.env.max_steps else None
    if i is not None:
      broken.append(("episodes end within max_steps",
                     f"episode {i} is live after max_steps={self.env.max_steps} steps"))
    return broken

  def step_output(self, states: State, out: Any) -> bool:
    """Checks the first step's output; False if play cannot feed it back into step."""
    if not self.state_fields("step output", out):
      return False
    name = "step keeps the state's fields, shapes and dtypes"
    if jax.tree.structure(states) != jax.tree.structure(out):
      return self.check(name, False, f"its output's fields differ from its input's "
                        f"({type(states).__name__} in, {type(out).__name__} out)")
    changed = [f"{field}: {_describe(x)} -> {_describe(y)}" for (field, x), y in
               zip(_named_leaves(states), jax.tree.leaves(out))
               if x.shape != y.shape or x.dtype != y.dtype]
    return self.check(name, not changed, "; ".join(changed))

  def illegal_actions(self, states: State) -> None:
    """An illegal action, in range or not, ends a live episode as an unpaid failure."""
    host = jax.device_get(states)
    mask = host.legal_action_mask
    has_illegal = ~mask.all(-1)
    candidates = [(np.argmin(mask, -1), has_illegal),
                  (np.full(self.episodes, self.env.num_actions), np.ones(self.episodes, bool)),
                  (np.full(self.episodes, -1), np.ones(self.episodes, bool))]
    problem = None
    try:
      for actions, applies in candidates:
        after = jax.device_get(self.step(states, jnp.asarray(actions, jnp.int32)))
        i = _first(applies & ~(after.terminated & (after.reward == 0)))
        if i is not None:
          outcome = "left it live" if not after.terminated[i] else f"paid {after.reward[i]:g}"
          problem = f"illegal action {actions[i]} in episode {i} {outcome}"
          break
    except Exception as error:
      problem = f"step raised {first_line(error)}"
    self.check("an illegal action ends the episode unpaid", problem is None, problem or "")

  # --- the host side --------------------------------------------------------------

  def round_trip(self, problems: Any) -> None:
    problems_host = jax.device_get(problems)
    problem = None
    try:
      for i in range(min(self.episodes, 16)):
        text = self.env.problem_text(jax.tree.map(lambda x: x[i], problems_host))
        back = self.env.problem_text(self.env.parse_problem(text))
        if back != text:
          problem = f"problem {text!r} reads back as {back!r}"
          break
    except Exception as error:
      problem = f"raised {first_line(error)}"
    self.check("problem_text and parse_problem round-trip", problem is None, problem or "")

  def reference_check(self, solved: list[tuple[np.ndarray, State]]) -> None:
    problem = None
    try:
      for episodes, batch in solved:
        for i in episodes:
          state = jax.tree.map(lambda x: x[i], batch)
          problem_text, answer = self.env.problem_text(state.problem), self.env.answer_text(state)
          if not self.env.reference_check(problem_text, answer):
            problem = f"it rejects the answer {answer!r} to {problem_text!r}, which the env paid"
            break
        if problem:
          break
    except Exception as error:
      problem = f"raised {first_line(error)}"
    self.check("reference_check accepts every solved episode", problem is None, problem or "")
