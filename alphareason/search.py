"""mctx glue: the environment itself is the model, the network gives priors and values.

Single-agent, AlphaZero style: the search embedding is the env `State`, and
`recurrent_fn` is `env.step` plus one network call on the new observation. Discount is 1,
and 0 once a state is finished, whose value is then 0.

With the oracle (`oracle=True`), the verifier's reward is paid on the terminating step.
Without it, search never sees the verifier: a terminating step is paid the value head's
estimate for the final state (the learned verifier), so tasks checked against a hidden
reference can be searched honestly at test time.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import mctx

from alphareason.env import Env, State
from alphareason.networks import Network, masked_logits


class SearchConfig(NamedTuple):
  """Static search settings (hashable, so they can be jit static arguments)."""

  num_simulations: int
  policy: str = "gumbel"  # "gumbel" (Gumbel MuZero) or "puct" (MuZero with PUCT)
  oracle: bool = True
  max_num_considered_actions: int = 16  # gumbel only
  gumbel_scale: float = 1.0  # gumbel only; 0 makes the root choice deterministic
  # gumbel only: how far a child's Q outweighs its prior, (50 + most visits) * value_scale
  # logits for the best Q against the worst (mctx's completed-Q transform and default).
  value_scale: float = 0.1
  dirichlet_fraction: float = 0.0  # puct only: root exploration noise
  dirichlet_alpha: float = 0.3  # puct only
  temperature: float = 0.0  # puct only: 0 takes the most visited action

  @classmethod
  def from_config(cls, config, **overrides) -> "SearchConfig":
    fields = {k: config[k] for k in cls._fields if k in config}
    return cls(**{**fields, **overrides})


SEARCH_POLICIES = ("gumbel", "puct")

# mctx's default: what test-time Gumbel MCTS uses unless the agent's config or the caller
# says otherwise (`search.test_value_scale`, `--value-scale`).
DEFAULT_VALUE_SCALE = SearchConfig._field_defaults["value_scale"]


def configured_value_scale(config) -> float:
  """A config's test-time value scale: `search.test_value_scale`, or the default for
  configs (and checkpoints) older than it."""
  return float(config.search.get("test_value_scale", DEFAULT_VALUE_SCALE))


def predict(network: Network, params, states: State) -> tuple[jax.Array, jax.Array]:
  """One batched network call: (masked policy logits [B, A], value in [0, 1] [B])."""
  logits, value_logits = network.apply(params, states.observation)
  return masked_logits(logits, states.legal_action_mask), jax.nn.sigmoid(value_logits)


def make_recurrent_fn(env: Env, network: Network, oracle: bool) -> mctx.RecurrentFn:
  def recurrent_fn(params, rng_key, action, states):
    del rng_key  # the environments are deterministic
    next_states = jax.vmap(env.step)(states, action)
    logits, value = predict(network, params, next_states)
    was_finished = states.terminated | states.truncated
    finished = next_states.terminated | next_states.truncated
    if oracle:
      reward = next_states.reward
    else:
      reward = jnp.where(finished & ~was_finished, value, 0.0)
    output = mctx.RecurrentFnOutput(
        reward=reward,
        discount=jnp.where(finished, 0.0, 1.0),
        prior_logits=logits,
        value=jnp.where(finished, 0.0, value))
    return output, next_states

  return recurrent_fn


def run_search(env: Env, network: Network, params, rng_key: jax.Array, states: State,
               config: SearchConfig) -> mctx.PolicyOutput:
  """Searches from each of the B root `states`; the key is consumed.

  Returns mctx's PolicyOutput: `action` [B] to play, `action_weights` [B, A] the improved
  policy (the training target), and the search tree.
  """
  logits, value = predict(network, params, states)
  root = mctx.RootFnOutput(prior_logits=logits, value=value, embedding=states)
  recurrent_fn = make_recurrent_fn(env, network, config.oracle)
  invalid_actions = ~states.legal_action_mask
  if config.policy == "gumbel":
    return mctx.gumbel_muzero_policy(
        params, rng_key, root, recurrent_fn, config.num_simulations,
        invalid_actions=invalid_actions, max_depth=env.max_steps,
        max_num_considered_actions=config.max_num_considered_actions,
        gumbel_scale=config.gumbel_scale,
        qtransform=functools.partial(mctx.qtransform_completed_by_mix_value,
                                     value_scale=config.value_scale))
  if config.policy == "puct":
    return mctx.muzero_policy(
        params, rng_key, root, recurrent_fn, config.num_simulations,
        invalid_actions=invalid_actions, max_depth=env.max_steps,
        dirichlet_fraction=config.dirichlet_fraction,
        dirichlet_alpha=config.dirichlet_alpha,
        temperature=config.temperature,
        qtransform=functools.partial(mctx.qtransform_by_min_max, min_value=0.0, max_value=1.0))
  raise ValueError(f"unknown search policy {config.policy!r}; choose from {SEARCH_POLICIES}")
