"""Training clears the bar on the Game of 24: the demo's claim, as a test. Slow (minutes)."""

import numpy as np
import pytest

from alphareason.agent import load_agent
from alphareason.play import Player, stack_problems
from alphareason.suites import load_suite
from alphareason.train.loop import train
from conftest import ROOT
from alphareason.config import load_config


@pytest.mark.slow
def test_game24_agent_solves_95_percent_of_held_out_puzzles(tmp_path):
  config = load_config(ROOT / "configs" / "game24.py")
  train(config, tmp_path, progress=False)
  agent = load_agent(tmp_path)
  test = load_suite(agent.config.holdout_suite).split("test")
  outcome = Player.for_agent(agent).play(
      "mcts", 64, stack_problems(agent.env, test), oracle=True)
  assert np.mean(outcome.solved) >= 0.95
