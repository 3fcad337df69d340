"""Countdown, 3 to 9 numbers in 1..100 and a target in 100..999, on a CPU.

One agent for reasoning-gym's default settings (4 to 6 numbers) and its harder ones (3 to
9): the Game-of-24 set network, whose parameters do not depend on how many numbers there
are, trained on the whole range with hard-example replay (docs/results.md). On an
accelerator, a wider trunk (192), more simulations (64) and more episodes per iteration
(256) are worth trying.
"""

import ml_collections

from configs import game24


def get_config() -> ml_collections.ConfigDict:
  c = game24.get_config()
  c.env_id = "countdown-v0"
  c.env = ml_collections.ConfigDict(dict(
      min_numbers=3,  # numbers per problem, at least
      max_numbers=9,  # numbers per problem, at most
      min_value=1,  # smallest number
      max_value=100,  # largest number
      min_target=100,  # smallest target
      max_target=999,  # largest target
  ))
  c.holdout_suite = "countdown"  # countdown/n4-6: the mix of reasoning-gym's defaults
  c.network.width = 128
  c.network.depth = 3
  c.search.num_simulations = 32
  c.train.selfplay_batch_size = 128
  c.train.num_iterations = 800
  # Measured without the Game-of-24 default's process targets and off-track children,
  # and searched at test time with mctx's value scale.
  c.search.test_value_scale = 0.1
  c.train.process_targets = False
  c.train.process_target_spread = 0.0
  c.train.off_track_children = 0
  c.validation_simulations = 64
  return c
