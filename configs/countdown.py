"""Countdown at reasoning-gym's default settings: 4 to 6 numbers in 1..100, target 100..999."""

import ml_collections

from configs import game24


def get_config() -> ml_collections.ConfigDict:
  c = game24.get_config()
  c.env_id = "countdown-v0"
  c.env = ml_collections.ConfigDict(dict(
      min_numbers=4,  # numbers per problem, at least
      max_numbers=6,  # numbers per problem, at most (up to 9)
      min_value=1,  # smallest number
      max_value=100,  # largest number
      min_target=100,  # smallest target
      max_target=999,  # largest target
  ))
  c.holdout_suite = "countdown"  # countdown/n4-6: the mix countdown-v0 draws
  c.network.width = 192
  c.network.depth = 3
  c.search.num_simulations = 64
  c.train.num_iterations = 2000
  c.validation_simulations = 64
  return c
