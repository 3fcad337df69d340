"""The training iteration, host loop, checkpoints, resume, and the held-out exclusion."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import alphareason
from alphareason import parts as parts_lib
from alphareason.agent import TrainedRun, load_agent
from alphareason.errors import UsageError
from alphareason.networks import make_network
from alphareason.checkpoint import Checkpoints
from alphareason.train.loop import train
from alphareason.train.replay import Positions, ReplayBuffer
from conftest import tiny_config


def records(workdir):
  return [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]


def test_training_logs_throughput_losses_and_validation(trained_workdir):
  rows = records(trained_workdir)
  assert rows[0]["iteration"] == 1 and rows[0]["compile_seconds"] > 0
  steps = rows
  assert [r["iteration"] for r in steps] == [1, 2, 3, 4, 5, 6]
  for r in steps:
    assert r["moves"] == 16 * 3 and r["simulations"] == 16 * 3 * 4
    assert r["moves_per_second"] > 0 and r["simulations_per_second"] == pytest.approx(
        4 * r["moves_per_second"])
    assert np.isfinite(r["policy_loss"]) and np.isfinite(r["value_loss"]) and 0 <= r["solved"] <= 1
  assert {"validation_mcts_solved", "validation_greedy_solved"} <= steps[2].keys()
  assert (trained_workdir / "tensorboard").is_dir()
  assert Checkpoints(trained_workdir, create=False).all_steps() == [2, 4, 6]


def test_a_checkpoint_rebuilds_the_experiment(trained_workdir):
  agent = load_agent(trained_workdir)
  assert agent.step == 6 and agent.config.env_id == "game24-v0" and agent.config.network.width == 32
  older = load_agent(trained_workdir, step=4)
  assert older.step == 4 and older.source == str(trained_workdir)
  differs = jax.tree.map(lambda a, b: bool(jnp.any(a != b)), agent.params, older.params)
  assert any(jax.tree.leaves(differs))


@pytest.mark.slow  # compiles play of the checkpoint at other settings
def test_a_checkpoint_plays_an_env_with_other_settings_where_its_parameters_fit(trained_workdir):
  params = load_agent(trained_workdir).params
  # The set network's parameters do not depend on how many numbers there are.
  larger = load_agent(trained_workdir, env_overrides=["env.max_numbers=6"])
  parts, same = larger.parts, larger.params
  assert larger.env_overrides == ("env.max_numbers=6",)
  assert parts.env.max_numbers == 6 and parts.env.num_actions == 4 * 6 * 6
  # How training drew its problems (each solvable 4-number puzzle) does not bind play.
  assert load_agent(trained_workdir).env.draw == "solvable" and parts.env.draw == "ordered"
  # Observations mean what they meant in training (3 moves at most), unless overridden.
  assert parts.env.moves_scale == 3 and alphareason.make("game24-v0", max_numbers=6).moves_scale == 5
  rescaled = load_agent(trained_workdir, env_overrides=["env.max_numbers=6", "env.moves_scale=5"])
  assert rescaled.env.moves_scale == 5
  assert jax.tree.all(jax.tree.map(lambda a, b: bool(jnp.all(a == b)), params, same))
  # Parameters of other shapes are refused, never padded or cut to fit.
  wider = parts.config.network.copy_and_resolve_references()
  wider.width = 64
  like = make_network(wider, parts.env).init(jax.random.PRNGKey(0))
  with pytest.raises(UsageError, match=r"does not fit this config: .* is float32\[.*expected float32"):
    Checkpoints(trained_workdir, create=False).restore_params(6, like)
  with pytest.raises(UsageError, match="only env settings can change at test time"):
    load_agent(trained_workdir, env_overrides=["network.width=64"])
  with pytest.raises(UsageError, match="bad env settings for game24-v0"):
    load_agent(trained_workdir, env_overrides=["env.max_numbers=12"])


@pytest.mark.slow  # a training run of its own, then its resumption
def test_training_resumes_from_the_latest_checkpoint(tmp_path):
  train(tiny_config("train.num_iterations=4", "validation_size=0"), tmp_path, progress=False)
  state = train(tiny_config("train.num_iterations=6", "validation_size=0"), tmp_path, progress=False)
  assert int(state.iteration) == 6
  iterations = [r["iteration"] for r in records(tmp_path) if "policy_loss" in r]
  assert iterations == [1, 2, 3, 4, 5, 6]  # 5 and 6 came from the resumed run


@pytest.mark.slow  # a training run of its own, then a refused resumption
def test_resuming_with_another_network_is_refused(tmp_path):
  train(tiny_config("train.num_iterations=2", "validation_size=0"), tmp_path, progress=False)
  with pytest.raises(UsageError, match="network"):
    train(tiny_config("network.width=64", "validation_size=0"), tmp_path, progress=False)


def test_fine_tuning_restores_an_agents_parameters_and_observations(trained_workdir):
  agent = load_agent(trained_workdir)
  five = tiny_config("env.max_numbers=5", "env.draw=ordered", "holdout_suite=")
  with TrainedRun(trained_workdir) as tuning:
    assert tuning.steps[-1] == 6
    # Into the shapes of a network built for 5 numbers: the set network's fit.
    like = parts_lib.build(five, with_holdout=False).network.init(jax.random.PRNGKey(1))
    same = tuning.params(6, like=like)
    # On more numbers, the features keep their meaning: 3 moves at most, as trained, not
    # the 4 of 5 numbers.
    assert tuning.observing_as_trained(five).env.moves_scale == 3
  assert jax.tree.all(jax.tree.map(lambda a, b: bool(jnp.all(a == b)), same, agent.params))
  with pytest.raises(UsageError, match="no checkpoint in"):
    TrainedRun(trained_workdir / "nowhere")


@pytest.mark.slow  # a training run of its own
def test_training_starts_from_an_agents_parameters_with_init_from(trained_workdir, tmp_path):
  # The tiny config's own program (compiled for the fixture) from the fixture's last
  # parameters: its first iteration's parameters are near those, not near a fresh start.
  train(tiny_config(f"train.init_from={trained_workdir}"), tmp_path / "tuned", progress=False)
  norms = lambda workdir: [r["param_norm"] for r in records(workdir)]
  scratch, tuned = norms(trained_workdir), norms(tmp_path / "tuned")
  assert abs(tuned[0] - scratch[-1]) < abs(tuned[0] - scratch[0]) / 4
  with pytest.raises(UsageError, match="does not fit this config"):
    train(tiny_config(f"train.init_from={trained_workdir}", "network.width=64"),
          tmp_path / "wider", progress=False)


def test_training_never_samples_a_held_out_problem():
  config = tiny_config()
  env = parts_lib.build(config).env
  plain = alphareason.make(config.env_id)
  held_out = set(env.excluded_keys.tolist())
  assert len(held_out) == 600

  def keys(env):
    problems = jax.jit(jax.vmap(env.sample_problem))(jax.random.split(jax.random.PRNGKey(0), 20000))
    return set(np.asarray(jax.jit(jax.vmap(env.problem_key))(problems)).tolist())

  assert keys(plain) & held_out, "without the exclusion held-out problems do come up"
  assert not keys(env) & held_out


def test_replay_buffer_wraps_around_and_samples_only_filled_rows():
  buffer = ReplayBuffer.create(5, (2,), 3)

  def rows(values):
    n = len(values)
    return Positions(observation=jnp.tile(jnp.asarray(values, jnp.float32)[:, None], (1, 2)),
                     legal_action_mask=jnp.ones((n, 3), bool), policy_target=jnp.ones((n, 3)) / 3,
                     value_target=jnp.asarray(values, jnp.float32), policy_weight=jnp.ones(n),
                     value_weight=jnp.ones(n))

  buffer = buffer.add(rows([1, 2, 3]))
  assert int(buffer.size) == 3
  assert set(np.asarray(buffer.sample(jax.random.PRNGKey(0), 64).value_target).tolist()) == {1, 2, 3}
  buffer = buffer.add(rows([4, 5, 6, 7]))
  assert int(buffer.size) == 5 and int(buffer.position) == 2
  np.testing.assert_array_equal(buffer.rows.value_target, [6, 7, 3, 4, 5])
  # Rows without weight (moves an episode never played) take no room.
  padded = rows([8, 0, 9, 0])
  padded = padded.replace(policy_weight=jnp.asarray([1.0, 0, 0, 0]),
                          value_weight=jnp.asarray([1.0, 0, 1, 0]))
  buffer = buffer.add(padded)
  assert int(buffer.position) == 4
  np.testing.assert_array_equal(buffer.rows.value_target, [6, 7, 8, 9, 5])
