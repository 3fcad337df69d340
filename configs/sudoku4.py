"""4x4 Sudoku (2x2 boxes, 4 to 10 clues): small enough to train on a CPU."""

import ml_collections

from configs import game24


def get_config() -> ml_collections.ConfigDict:
  c = game24.get_config()
  c.env_id = "sudoku4-v0"
  c.env = ml_collections.ConfigDict(dict(
      min_clues=4,  # clues per generated puzzle, at least (it may have several solutions)
      max_clues=10,  # clues per generated puzzle, at most
  ))
  c.holdout_suite = "sudoku4"  # sudoku4/c4-10: the mix sudoku4-v0 draws
  c.network.family = "auto"  # "grid" for Sudoku: a transformer over cells
  c.network.width = 64
  c.network.depth = 2
  c.network.num_heads = 4
  # 64 actions, at most 12 moves: few simulations go a long way.
  c.search.num_simulations = 16
  c.search.max_num_considered_actions = 8
  c.train.revisit_share = 0.0  # measured without hard-example replay
  c.train.num_iterations = 200
  # Measured without the Game-of-24 default's process targets and off-track children,
  # and searched at test time with mctx's value scale.
  c.search.test_value_scale = 0.1
  c.train.process_targets = False
  c.train.process_target_spread = 0.0
  c.train.off_track_children = 0
  c.train.selfplay_batch_size = 128
  c.train.replay_capacity = 2**14
  c.validation_simulations = 16
  return c
