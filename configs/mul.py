"""Token-level multiplication of 1 to 3 digit numbers, written digit by digit.

As configs/add.py (process supervision in training, the learned value alone at test
time), for products of up to 6 digits; a wider network, since a product's digit depends
on every pair of operand digits below it.
"""

import ml_collections

from configs import add


def get_config() -> ml_collections.ConfigDict:
  c = add.get_config()
  c.env_id = "mul-v0"
  c.env = ml_collections.ConfigDict(dict(
      min_digits=1,  # digits of each operand, at least
      max_digits=3,  # digits of each operand, at most
      digit_order="lsd",  # "msd" writes the most significant digit first
      places=True,  # the network sees each digit's place value beside its position
  ))
  c.holdout_suite = "mul"  # mul/d3: products of two 3-digit numbers
  c.network.width = 128
  c.network.depth = 3
  return c
