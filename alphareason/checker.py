"""check_env(): verifies the environment contract on any env.

Runs random legal play, jitted and vmapped, and checks shapes, dtypes, finiteness, the
rules of alphareason.env (rewards paid once at termination, finished states frozen,
illegal actions fail, live states have a legal action), determinism, that nothing
recompiles, and that the host side (problem text round trip, reference checker) agrees
with the arrays.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from alphareason.env import Env, State


@dataclasses.dataclass
class CheckReport:
  env_name: str
  passed: list[str] = dataclasses.field(default_factory=list)
  failures: list[str] = dataclasses.field(default_factory=list)

  @property
  def ok(self) -> bool:
    return not self.failures

  def __str__(self) -> str:
    lines = [f"check_env({self.env_name}): {'ok' if self.ok else 'FAILED'}"]
    lines += [f"  pass  {p}" for p in self.passed]
    lines += [f"  FAIL  {f}" for f in self.failures]
    return "\n".join(lines)


class EnvContractError(AssertionError):
  pass


def _random_actions(key, states: State) -> jax.Array:
  logits = jnp.where(states.legal_action_mask, 0.0, -jnp.inf)
  # A finished state has no legal action; any action then must be a no-op.
  logits = jnp.where(jnp.any(states.legal_action_mask, -1, keepdims=True), logits, 0.0)
  return jax.random.categorical(key, logits)


def check_env(env: Env, *, episodes: int = 64, seed: int = 0, strict: bool = True) -> CheckReport:
  """Checks `env` against the contract; raises EnvContractError on failure if `strict`."""
  report = CheckReport(getattr(env, "env_id", type(env).__name__))

  def check(name: str, ok, detail: str = ""):
    ok = bool(ok)
    (report.passed if ok else report.failures).append(name if ok else f"{name}: {detail}".rstrip(": "))
    return ok

  a = env.num_actions
  check("static sizes", isinstance(a, int) and a > 0 and env.max_steps >= 1
        and all(isinstance(d, int) and d > 0 for d in env.observation_shape),
        f"num_actions={a!r}, max_steps={env.max_steps!r}, observation_shape={env.observation_shape!r}")

  traces = {"step": 0}

  def counted_step(states, actions):
    traces["step"] += 1
    return jax.vmap(env.step)(states, actions)

  key = jax.random.PRNGKey(seed)
  problem_key, play_key = jax.random.split(key)
  try:
    problems = jax.jit(jax.vmap(env.sample_problem))(jax.random.split(problem_key, episodes))
    states = jax.jit(jax.vmap(env.init))(problems)
  except Exception as error:  # report, don't crash: this is a diagnostic tool
    check("sample_problem and init jit and vmap", False, f"{type(error).__name__}: {error}")
    return _finish(report, strict)
  check("sample_problem and init jit and vmap", True)

  expected = dict(observation=((episodes, *env.observation_shape), jnp.float32),
                  legal_action_mask=((episodes, a), jnp.bool_),
                  reward=((episodes,), jnp.float32), terminated=((episodes,), jnp.bool_),
                  truncated=((episodes,), jnp.bool_), step_count=((episodes,), jnp.int32))
  for field, (shape, dtype) in expected.items():
    value = getattr(states, field)
    check(f"init {field} is {jnp.dtype(dtype).name}{list(shape)}",
          value.shape == shape and value.dtype == dtype, f"got {value.dtype}{list(value.shape)}")
  check("initial states are live with a legal action",
        jnp.all(~states.terminated & ~states.truncated & jnp.any(states.legal_action_mask, -1)))

  step = jax.jit(counted_step)
  returns = jnp.zeros(episodes)
  rules = dict(finite=True, reward_range=True, paid_at_termination=True, frozen=True,
               live_has_action=True, deterministic=True)
  solved_states = []
  for key in jax.random.split(play_key, env.max_steps + 1):
    actions = _random_actions(key, states)
    nxt = step(states, actions)
    again = step(states, actions)
    finished = states.terminated | states.truncated
    newly_terminal = nxt.terminated & ~finished
    rules["finite"] &= bool(jnp.all(jnp.isfinite(nxt.observation)) & jnp.all(jnp.isfinite(nxt.reward)))
    rules["reward_range"] &= bool(jnp.all((nxt.reward >= 0) & (nxt.reward <= 1)))
    rules["paid_at_termination"] &= bool(jnp.all(jnp.where(newly_terminal, True, nxt.reward == 0)))
    same = jax.tree.map(lambda x, y: jnp.all((x == y).reshape(episodes, -1), -1),
                        nxt.replace(reward=jnp.zeros_like(nxt.reward)),
                        states.replace(reward=jnp.zeros_like(states.reward)))
    rules["frozen"] &= bool(jnp.all(jnp.where(finished, jax.tree.reduce(jnp.logical_and, same), True)))
    live = ~(nxt.terminated | nxt.truncated)
    rules["live_has_action"] &= bool(jnp.all(jnp.where(live, jnp.any(nxt.legal_action_mask, -1), True)))
    rules["deterministic"] &= all(bool(jnp.array_equal(x, y)) for x, y in
                                  zip(jax.tree.leaves(nxt), jax.tree.leaves(again)))
    returns = returns + nxt.reward
    solved_states.append((newly_terminal & (nxt.reward > 0), nxt))
    states = nxt
  check("values stay finite", rules["finite"])
  check("rewards lie in [0, 1]", rules["reward_range"])
  check("reward paid only on the terminating step", rules["paid_at_termination"])
  check("reward paid at most once", jnp.all(returns <= 1.0), f"returns up to {float(returns.max())}")
  check("finished states do not change", rules["frozen"])
  check("live states have a legal action", rules["live_has_action"])
  check("step is deterministic", rules["deterministic"])
  check("episodes end within max_steps", jnp.all(states.terminated | states.truncated))
  check("step compiles once", traces["step"] == 1, f"traced {traces['step']} times")

  # An illegal action ends a live episode as a failure.
  fresh = jax.vmap(env.init)(problems)
  illegal = jnp.argmin(fresh.legal_action_mask, axis=-1)
  has_illegal = ~jnp.all(fresh.legal_action_mask, -1)
  after = step(fresh, illegal)
  check("an illegal action ends the episode unpaid",
        jnp.all(jnp.where(has_illegal, after.terminated & (after.reward == 0), True)))

  # Host side: problem text round trip and the independent checker on solved episodes.
  problems_host = jax.device_get(problems)
  round_trip = True
  for i in range(min(episodes, 16)):
    problem = jax.tree.map(lambda x: x[i], problems_host)
    text = env.problem_text(problem)
    again = env.parse_problem(text)
    round_trip &= env.problem_text(again) == text
  check("problem_text and parse_problem round-trip", round_trip)
  agree = True
  for solved, batch in solved_states:
    for i in np.flatnonzero(np.asarray(solved)):
      state = jax.tree.map(lambda x: x[i], jax.device_get(batch))
      agree &= env.reference_check(env.problem_text(state.problem), env.answer_text(state))
  check("reference_check accepts every solved episode", agree)
  return _finish(report, strict)


def _finish(report: CheckReport, strict: bool) -> CheckReport:
  if strict and not report.ok:
    raise EnvContractError(str(report))
  return report
