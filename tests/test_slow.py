"""Training clears the bar on the Game of 24: the demo's claim, as a test. Slow (minutes)."""

import numpy as np
import pytest

from alphareason import experiment
from alphareason.eval.evaluate import Evaluator, stack_problems
from alphareason.train.loop import train
from conftest import ROOT
from alphareason.config import load_config


@pytest.mark.slow
def test_game24_agent_solves_95_percent_of_held_out_puzzles(tmp_path):
  config = load_config(ROOT / "configs" / "game24.py")
  train(config, tmp_path, progress=False)
  parts, params, _ = experiment.load_trained(tmp_path)
  test = parts.holdout.split("test")
  outcome = Evaluator(parts.env, parts.network, params).play(
      "mcts", 64, stack_problems(parts.env, test), oracle=True)
  assert np.mean(outcome.solved) >= 0.95
