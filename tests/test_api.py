"""The library API, as the README's tour uses it: load, solve, evaluate, export, train."""

import json

import jax
import numpy as np
import pytest

import alphareason as ar
from alphareason.envs.countdown import Countdown
from alphareason.errors import UsageError


def test_the_tour_in_five_lines(trained_workdir, tmp_path):
  agent = ar.load_agent(trained_workdir)
  solution, = ar.solve(agent, "4 9 10 13")
  evaluation = ar.evaluate(agent, "game24", ["greedy", "mcts"], [4], limit=16)
  paths = evaluation.write_report(tmp_path / "eval")
  assert agent.step == 6 and agent.env.env_id == "game24-v0"
  assert solution.problem == "4 9 10 13 -> 24" and solution.nfe > 0
  assert solution.solved == (solution.answer is not None)
  if solution.solved:
    assert Countdown.reference_check(solution.problem, solution.answer)
  assert [(r["strategy"], r["budget"], r["problems"]) for r in evaluation.runs] == [
      ("greedy", 1, 16), ("mcts", 4, 16)]
  assert json.loads(paths["results"].read_text()) == evaluation.summary
  assert evaluation.defects() == []


def test_evaluate_takes_a_workdir_and_its_steps(trained_workdir):
  evaluation = ar.evaluate(trained_workdir, None, ["greedy"], [1], steps="all", limit=8)
  assert evaluation.summary["checkpoint"] == dict(workdir=str(trained_workdir), steps=[2, 4, 6])
  assert evaluation.summary["suite"]["name"] == "game24"  # the suite training held out
  assert [r["step"] for r in evaluation.runs] == [2, 4, 6]
  with pytest.raises(UsageError, match="unknown strategy 'x'"):
    ar.evaluate(trained_workdir, None, ["x"], [1])
  with pytest.raises(UsageError, match="an Agent is one checkpoint"):
    ar.evaluate(ar.load_agent(trained_workdir), None, ["greedy"], [1], steps="all")


def test_solve_returns_only_checked_answers(trained_workdir):
  agent = ar.load_agent(trained_workdir)
  solutions = ar.solve(agent, ["1 1 1 1", "6 6 6 6"], simulations=8)
  assert [s.problem for s in solutions] == ["1 1 1 1 -> 24", "6 6 6 6 -> 24"]
  assert not solutions[0].solved and solutions[0].answer is None  # no solution exists
  with pytest.raises(UsageError, match="expected 4 numbers"):
    ar.solve(agent, ["1 2 3"])


def test_an_exported_agent_loads_and_plays_as_its_workdir(trained_workdir, tmp_path):
  where = ar.export_agent(trained_workdir, tmp_path / "agent", step=4)
  assert where == tmp_path / "agent" / "checkpoints" / "4"
  exported, original = ar.load_agent(tmp_path / "agent"), ar.load_agent(trained_workdir, step=4)
  assert exported.step == 4 and exported.config.to_dict() == original.config.to_dict()
  assert jax.tree.all(jax.tree.map(np.array_equal, exported.params, original.params))
  # Parameters and config only: a fraction of the training checkpoint.
  size = lambda folder: sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
  assert size(tmp_path / "agent") < size(trained_workdir / "checkpoints" / "4") / 2
  with pytest.raises(UsageError, match="already holds checkpoints"):
    ar.export_agent(trained_workdir, tmp_path / "agent")


def test_an_agent_exported_for_another_env_plays_it_by_default(trained_workdir, tmp_path):
  ar.export_agent(trained_workdir, tmp_path / "agent", env_overrides=["env.max_numbers=5"])
  exported, trained = ar.load_agent(tmp_path / "agent"), ar.load_agent(trained_workdir)
  assert exported.env.max_numbers == 5 and exported.env.moves_scale == 3  # features as trained
  assert jax.tree.all(jax.tree.map(np.array_equal, exported.params, trained.params))
  assert ar.solve(exported, "1 2 3 4 5", simulations=4)[0].problem == "1 2 3 4 5 -> 24"
  with pytest.raises(UsageError, match="expected 4 numbers"):
    ar.solve(trained, "1 2 3 4 5", simulations=4)
  with pytest.raises(UsageError, match="only env settings"):
    ar.export_agent(trained_workdir, tmp_path / "other", env_overrides=["network.width=64"])


@pytest.mark.slow  # compiles a search for each value scale
def test_an_agent_searches_at_its_own_value_scale_unless_told(trained_workdir, tmp_path):
  from alphareason.search import DEFAULT_VALUE_SCALE, configured_value_scale
  from conftest import tiny_config
  ar.export_agent(trained_workdir, tmp_path / "agent", value_scale=0.02)
  trained, exported = ar.load_agent(trained_workdir), ar.load_agent(tmp_path / "agent")
  assert trained.test_value_scale == tiny_config().search.test_value_scale != 0.02
  assert exported.test_value_scale == 0.02
  summary = lambda **kw: ar.evaluate(exported, "game24", ["mcts"], [2], limit=2, **kw).summary
  assert summary()["value_scale"] == 0.02 and summary(value_scale=0.5)["value_scale"] == 0.5
  assert DEFAULT_VALUE_SCALE != trained.test_value_scale  # so the fallback below is seen
  del trained.config.search.test_value_scale  # as in checkpoints older than the setting
  assert configured_value_scale(trained.config) == DEFAULT_VALUE_SCALE
  for bad in (0.0, -1.0):
    with pytest.raises(UsageError, match="value scale must be above 0"):
      ar.solve(exported, "1 5 5 5", value_scale=bad)
    with pytest.raises(UsageError, match="value scale must be above 0"):
      ar.export_agent(trained_workdir, tmp_path / "other", value_scale=bad)
  assert not (tmp_path / "other").exists()


def test_train_agent_trains_a_config_in_a_workdir(tmp_path):
  from conftest import ROOT
  config = ar.load_config(ROOT / "configs" / "tiny.py", ["train.num_iterations=2", "validation_size=0"])
  state = ar.train_agent(config, tmp_path, progress=False)
  assert int(state.iteration) == 2 and ar.load_agent(tmp_path).step == 2


@pytest.mark.slow  # compiles each strategy an agent may carry
def test_an_agent_plays_its_own_search_unless_told(trained_workdir, tmp_path, monkeypatch):
  from alphareason.play import Player
  from alphareason.strategies import AgentSearch
  ar.export_agent(trained_workdir, tmp_path / "agent", strategy="mcts-restarts", budget=3,
                  restarts=5, root_noise=2.0, score="game24 test: 12%")
  exported = ar.load_agent(tmp_path / "agent")
  assert exported.search == AgentSearch("mcts-restarts", 3, 5, 2.0, exported.test_value_scale,
                                        "game24 test: 12%")
  played = []
  real_play = Player.play
  def spy(self, strategy, budget, problems, **kw):
    played.append((strategy, budget, self.restarts, self.root_noise))
    return real_play(self, strategy, budget, problems, **kw)
  monkeypatch.setattr(Player, "play", spy)
  ar.solve(exported, "1 5 5 5")
  ar.solve(exported, "1 5 5 5", strategy="mcts", simulations=2, restarts=1, root_noise=0.0)
  assert played == [("mcts-restarts", 3, 5, 2.0), ("mcts", 2, 1, 0.0)]
  summary = ar.evaluate(exported, "game24", limit=2).summary
  assert [(r["strategy"], r["budget"]) for r in summary["runs"]] == [("mcts-restarts", 3)]
  assert (summary["restarts"], summary["root_noise"]) == (5, 2.0)
  with pytest.raises(UsageError, match="unknown strategy 'telepathy'"):
    ar.export_agent(trained_workdir, tmp_path / "other", strategy="telepathy")
  with pytest.raises(UsageError, match="restarts must be at least 1"):
    ar.export_agent(trained_workdir, tmp_path / "other", restarts=0)
  assert not (tmp_path / "other").exists()
