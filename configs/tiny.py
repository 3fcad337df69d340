"""A run of a few seconds for tests: a small network, few simulations, few iterations."""

import ml_collections

from configs import game24


def get_config() -> ml_collections.ConfigDict:
  c = game24.get_config()
  c.network.width = 32
  c.network.depth = 1
  c.search.num_simulations = 4
  c.search.max_num_considered_actions = 4
  c.search.test_budget = 4  # what solve and eval play unless told
  c.train.num_iterations = 6
  c.train.selfplay_batch_size = 16
  c.train.replay_capacity = 512
  c.train.batch_size = 32
  c.train.updates_per_iteration = 2
  c.train.warmup_iterations = 1
  c.checkpoint_every = 2
  c.validate_every = 3
  c.validation_size = 8
  c.validation_simulations = 4
  return c
