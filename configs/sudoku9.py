"""9x9 Sudoku (3x3 boxes, 22 to 35 clues): 729 actions and up to 59 moves; for an accelerator."""

import ml_collections

from configs import game24


def get_config() -> ml_collections.ConfigDict:
  c = game24.get_config()
  c.env_id = "sudoku9-v0"
  c.env = ml_collections.ConfigDict(dict(
      min_clues=22,  # clues per generated puzzle, at least (it may have several solutions)
      max_clues=35,  # clues per generated puzzle, at most
  ))
  c.holdout_suite = "sudoku9"  # sudoku9/c22-35: the mix sudoku9-v0 draws
  c.network.family = "auto"  # "grid" for Sudoku: a transformer over cells
  c.network.width = 128
  c.network.depth = 6  # constraint propagation takes several rounds of attention
  c.network.num_heads = 8
  c.network.dtype = "bfloat16"
  c.search.num_simulations = 64
  c.search.max_num_considered_actions = 16
  c.train.num_iterations = 2000
  c.train.selfplay_batch_size = 512
  c.train.replay_capacity = 2**18  # an iteration makes up to 82 rows an episode
  c.train.batch_size = 1024
  c.train.updates_per_iteration = 64
  c.train.learning_rate = 5e-4
  c.train.warmup_iterations = 20
  c.checkpoint_every = 100
  c.validate_every = 100
  c.validation_simulations = 64
  return c
