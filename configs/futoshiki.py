"""Futoshiki, 4x4 to 9x9 in one env (padded to 9x9: 729 actions), on one CPU core.

The 9x9 Sudoku recipe (configs/sudoku9.py) carried over, since the two share the board,
the action space and the shape of the constraints: a reverse curriculum from nearly
solved boards (`env.levels`), process supervision against the square a puzzle was made
from, the policy trained on the verifier's verdict on every legal move and the value on
its verdict on each state, a 2-layer grid transformer of width 64, 8 simulations a move.
The draw covers both of reasoning-gym's settings: boards 4..9, difficulty 0..3 (rg's
sign probabilities), 10% to 50% of the cells given (rg's puzzles give 12% to 47%).
52.5 minutes in its iterations on one core; greedy on rg:futoshiki (500, seed 0) 91.4%,
95.2%, 96.8%, 97.4% at iterations 25, 50, 75, 150, and dfs at 256 100% (docs/results.md).
"""

import ml_collections

from configs import sudoku9


def get_config() -> ml_collections.ConfigDict:
  c = sudoku9.get_config()
  c.env_module = "alphareason.puzzles.futoshiki"  # registers futoshiki-v0 and rg:futoshiki
  c.env_id = "futoshiki-v0"
  c.env = ml_collections.ConfigDict(dict(
      min_size=4, max_size=9,  # rg's board sizes, mixed in one env
      min_difficulty=0, max_difficulty=3,  # rg's scale: each sign with 0.03 + 0.07 * d
      min_fill=0.1, max_fill=0.5,  # share of the board given
      levels=8,  # level 0: nearly full boards; level 7: the range above
  ))
  c.holdout_suite = ""  # reasoning-gym's boards test it
  c.validation_size = 0
  c.network.family = "auto"  # the env's default: "grid"
  c.train.num_iterations = 150
  c.train.selfplay_batch_size = 64
  c.train.curriculum_threshold = 0.8
  c.train.curriculum_signal = "greedy"
  return c
