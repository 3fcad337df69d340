"""mctx glue, on problems whose answers are known."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

import alphareason
from alphareason.envs.countdown import OPERATORS
from alphareason.networks import make_network
from alphareason.search import SearchConfig, make_recurrent_fn, run_search

# Two numbers, one move: "3 8 -> 24" has exactly one solving action, 3*8.
ENV = alphareason.make("countdown-v0", min_numbers=2, max_numbers=2, target=24)
SOLVE = OPERATORS.index("*") * 4 + 0 * 2 + 1
NETWORK = make_network(ml_collections.ConfigDict(
    dict(family="set", width=16, depth=1, num_heads=2, dtype="float32")), ENV)
PARAMS = NETWORK.init(jax.random.PRNGKey(0))


def roots(text, batch=4):
  problem = ENV.parse_problem(text)
  return jax.vmap(ENV.init)(jax.tree.map(lambda x: np.stack([x] * batch), problem))


@pytest.mark.slow  # compiles a search of its own for each policy
@pytest.mark.parametrize("policy", ["gumbel", "puct"])
def test_search_with_the_oracle_finds_the_only_solution(policy):
  config = SearchConfig(num_simulations=16, policy=policy, gumbel_scale=0.0, temperature=0.0)
  out = run_search(ENV, NETWORK, PARAMS, jax.random.PRNGKey(1), roots("3 8"), config)
  np.testing.assert_array_equal(out.action, SOLVE)
  assert np.all(np.asarray(out.action_weights)[:, SOLVE] == np.max(out.action_weights, -1))


@pytest.mark.slow  # compiles a search for each value scale
def test_value_scale_sets_how_far_q_outweighs_the_prior():
  # The solving move's Q is 1 and every other's 0: the improved policy's weight on it
  # grows with the scale, to all of it at 1.0 ((50 + visits) * 1.0 logits ahead).
  def weight_on_the_solution(value_scale):
    config = SearchConfig(num_simulations=16, gumbel_scale=0.0, value_scale=value_scale)
    out = run_search(ENV, NETWORK, PARAMS, jax.random.PRNGKey(1), roots("3 8", batch=1), config)
    return float(out.action_weights[0, SOLVE])

  low, high = weight_on_the_solution(0.01), weight_on_the_solution(1.0)
  assert low < 0.9 < 0.999 < high


@pytest.mark.slow  # compiles a search of its own over many draws
def test_search_never_picks_an_illegal_action():
  config = SearchConfig(num_simulations=8)
  states = roots("3 8", batch=8)
  out = run_search(ENV, NETWORK, PARAMS, jax.random.PRNGKey(2), states, config)
  assert np.all(np.asarray(states.legal_action_mask)[np.arange(8), np.asarray(out.action)])
  assert np.all(np.asarray(out.action_weights)[~np.asarray(states.legal_action_mask)] == 0)


def test_without_the_oracle_the_verifier_pays_nothing_but_the_value_judges():
  states = roots("3 8", batch=1)
  action = jnp.array([SOLVE])
  with_oracle, _ = make_recurrent_fn(ENV, NETWORK, oracle=True)(PARAMS, None, action, states)
  hidden, after = make_recurrent_fn(ENV, NETWORK, oracle=False)(PARAMS, None, action, states)
  assert float(with_oracle.reward[0]) == 1.0
  _, value_logit = NETWORK.apply(PARAMS, after.observation)
  np.testing.assert_allclose(hidden.reward, jax.nn.sigmoid(value_logit), rtol=1e-6)
  assert float(hidden.discount[0]) == 0.0 and float(hidden.value[0]) == 0.0


def test_finished_states_have_discount_zero_and_masked_priors():
  states = roots("3 8", batch=1)
  finished = jax.vmap(ENV.step)(states, jnp.array([SOLVE]))
  out, again = make_recurrent_fn(ENV, NETWORK, oracle=True)(PARAMS, None, jnp.array([0]), finished)
  assert float(out.reward[0]) == 0.0 and float(out.discount[0]) == 0.0
  assert bool(again.terminated[0])


def test_interior_priors_mask_illegal_actions():
  # mctx masks only the root; recurrent_fn must mask every expanded node.
  env = alphareason.make("game24-v0")
  network = make_network(ml_collections.ConfigDict(
      dict(family="set", width=16, depth=1, num_heads=2, dtype="float32")), env)
  params = network.init(jax.random.PRNGKey(0))
  states = jax.vmap(env.init)(jax.tree.map(lambda x: x[None], env.parse_problem("1 2 3 4")))
  out, after = make_recurrent_fn(env, network, oracle=True)(params, None, jnp.array([1]), states)
  illegal = ~np.asarray(after.legal_action_mask)
  assert illegal.any() and (~illegal).any()
  assert np.all(np.asarray(out.prior_logits)[illegal] == np.finfo(np.float32).min)
  assert np.all(np.asarray(out.prior_logits)[~illegal] > np.finfo(np.float32).min)


@pytest.mark.slow  # compiles a search of its own (about 45 s on one core)
def test_mcts_keeps_a_solution_verified_in_its_tree():
  from alphareason.strategies import STRATEGIES, verified_in_tree
  states = roots("3 8", batch=2)
  out = run_search(ENV, NETWORK, PARAMS, jax.random.PRNGKey(3), states, SearchConfig(num_simulations=8))
  found, solved = verified_in_tree(out.search_tree)
  assert np.all(found) and np.all(np.asarray(solved.reward) == 1.0) and np.all(solved.terminated)
  assert ENV.answer_text(jax.tree.map(lambda x: x[0], solved)) == "3*8"
  # Without the oracle the tree holds no verified reward, so nothing is taken from it.
  outcome = STRATEGIES["mcts"].play(ENV, NETWORK, PARAMS, jax.random.PRNGKey(3), states, 8, oracle=True)
  assert np.all(outcome.solved) and np.all(np.asarray(outcome.nfe) == 9)
