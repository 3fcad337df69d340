"""Flax policy-value networks: a shared trunk, a policy head and a value head.

Every network maps a batch of observations [B, *observation_shape] to
(policy_logits [B, A], value_logits [B]); the value is sigmoid(value_logits), the
predicted probability that the episode ends verified correct.

Families:
- "mlp": a residual MLP on the flattened observation, for any env.
- "set": a transformer encoder over slots without position embeddings, so it is
  permutation-equivariant; feature 0 of each slot marks it live. Its policy head scores
  ordered slot pairs for each of K operators (actions op * N * N + i * N + j), which is
  how Countdown's actions are laid out.
- "grid": a transformer encoder over the cells of an N x N grid of boxes (Sudoku), with
  learned row, column and box embeddings and, per head, a learned attention bias for
  each relation of two cells (same row, column, box, or a combination), so the rules'
  constraint graph is built in. Its policy head scores K choices per cell (actions
  cell * K + k, K = A / cells: a digit for Sudoku) and its value head reads the mean cell.
- "causal": a decoder-only transformer over a token sequence (alphareason.envs.text),
  with learned position embeddings and causal self-attention. The observation's last
  feature column marks the position to read (the last written token); the others are
  the token's features. Policy logits over the A actions and the value come from that
  position, so they depend on the sequence up to it and on nothing after.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import jax
import jax.numpy as jnp
import flax.linen as nn
import ml_collections
import numpy as np

from alphareason.env import Env


def _self_attention(x, *, num_heads: int, mask, dtype):
  """A pre-norm residual self-attention sublayer. Called from a compact module, so its
  layers are named in the caller's order."""
  y = nn.LayerNorm(dtype=dtype)(x)
  return x + nn.MultiHeadDotProductAttention(num_heads=num_heads, dtype=dtype)(y, y, mask=mask)


def _feed_forward(x, *, width: int, dtype):
  """A pre-norm residual feed-forward sublayer (width -> 2 width -> width)."""
  # One statement a layer: linen numbers layers as they are built (Dense_0, Dense_1, ...).
  y = nn.LayerNorm(dtype=dtype)(x)
  y = nn.Dense(2 * width, dtype=dtype)(y)
  return x + nn.Dense(width, dtype=dtype)(nn.gelu(y))


def _head(h, outputs: int, *, width: int, dtype):
  """A two-layer head: width hidden units, then `outputs` (logits or one value)."""
  h = nn.Dense(width, dtype=dtype)(h)
  return nn.Dense(outputs, dtype=dtype)(nn.gelu(h))


class ResidualMLP(nn.Module):
  num_actions: int
  width: int = 256
  depth: int = 3
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, observation):
    x = observation.reshape(observation.shape[0], -1).astype(self.dtype)
    x = nn.Dense(self.width, dtype=self.dtype)(x)
    for _ in range(self.depth):
      y = nn.LayerNorm(dtype=self.dtype)(x)
      y = nn.Dense(self.width, dtype=self.dtype)(nn.gelu(y))
      y = nn.Dense(self.width, dtype=self.dtype)(nn.gelu(y))
      x = x + y
    x = nn.gelu(nn.LayerNorm(dtype=self.dtype)(x))
    logits = nn.Dense(self.num_actions, dtype=self.dtype)(x)
    value = nn.Dense(1, dtype=self.dtype)(x)[:, 0]
    return logits.astype(jnp.float32), value.astype(jnp.float32)


class _Transformer(nn.Module):
  """The settings every transformer family takes (make_network passes them all)."""

  num_actions: int
  width: int = 128
  depth: int = 3
  num_heads: int = 4
  dtype: jnp.dtype = jnp.float32


class SetTransformer(_Transformer):

  @nn.compact
  def __call__(self, observation):
    batch, slots, _ = observation.shape
    num_ops, remainder = divmod(self.num_actions, slots * slots)
    if remainder:
      raise ValueError(f"set network needs num_actions = K * N * N, got {self.num_actions}, N={slots}")
    live = observation[..., 0] > 0  # [B, N]
    x = nn.Dense(self.width, dtype=self.dtype)(observation.astype(self.dtype))
    # A learned summary token so that a state with one live slot still attends to something.
    summary = self.param("summary", nn.initializers.normal(0.02), (1, 1, self.width))
    x = jnp.concatenate([jnp.broadcast_to(summary, (batch, 1, self.width)).astype(self.dtype), x], 1)
    token_mask = jnp.concatenate([jnp.ones((batch, 1), bool), live], 1)
    attention_mask = nn.make_attention_mask(token_mask, token_mask)
    for _ in range(self.depth):
      x = _self_attention(x, num_heads=self.num_heads, mask=attention_mask, dtype=self.dtype)
      x = _feed_forward(x, width=self.width, dtype=self.dtype)
    x = nn.LayerNorm(dtype=self.dtype)(x)
    pooled, h = x[:, 0], x[:, 1:]
    # Pair scores: an MLP of (h_i, h_j, pooled) for every ordered pair, K outputs each.
    left = nn.Dense(self.width, dtype=self.dtype)(h)[:, :, None, :]
    right = nn.Dense(self.width, dtype=self.dtype)(h)[:, None, :, :]
    context = nn.Dense(self.width, dtype=self.dtype)(pooled)[:, None, None, :]
    pair = nn.gelu(left + right + context)
    pair = nn.gelu(nn.Dense(self.width, dtype=self.dtype)(pair))
    pair_logits = nn.Dense(num_ops, dtype=self.dtype)(pair)  # [B, N, N, K]
    logits = jnp.moveaxis(pair_logits, -1, 1).reshape(batch, self.num_actions)
    value = _head(pooled, 1, width=self.width, dtype=self.dtype)[:, 0]
    return logits.astype(jnp.float32), value.astype(jnp.float32)


def grid_geometry(cells: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """Row, column and box of each cell of an N x N grid (cells = N*N), with the usual
  boxes: as square as N allows, wider than tall (9: 3x3, 6: 2x3)."""
  size = math.isqrt(cells)
  if size * size != cells:
    raise ValueError(f"grid network needs N*N cells, got {cells}")
  box_rows = max(r for r in range(1, math.isqrt(size) + 1) if size % r == 0)
  box_cols = size // box_rows
  row, col = np.divmod(np.arange(cells), size)
  return row, col, (row // box_rows) * box_rows + col // box_cols


class GridTransformer(_Transformer):

  @nn.compact
  def __call__(self, observation):
    batch, cells, _ = observation.shape
    choices, remainder = divmod(self.num_actions, cells)
    if remainder or self.width % self.num_heads:
      raise ValueError(f"grid network needs num_actions = cells * K and width divisible by "
                       f"num_heads, got {self.num_actions}, {cells} cells, width {self.width}, "
                       f"{self.num_heads} heads")
    row, col, box = grid_geometry(cells)
    size = math.isqrt(cells)
    embed = lambda name: self.param(name, nn.initializers.normal(0.02), (size, self.width))
    position = embed("row_embedding")[row] + embed("col_embedding")[col] + embed("box_embedding")[box]
    x = nn.Dense(self.width, dtype=self.dtype)(observation.astype(self.dtype))
    x = x + position.astype(self.dtype)[None]
    # Relation of each pair of cells: bit 0 same row, bit 1 same column, bit 2 same box.
    relation = ((row[:, None] == row[None]) + 2 * (col[:, None] == col[None])
                + 4 * (box[:, None] == box[None]))
    head_dim = self.width // self.num_heads
    for layer in range(self.depth):
      table = self.param(f"relation_bias_{layer}", nn.initializers.zeros, (8, self.num_heads))
      bias = jnp.moveaxis(table[relation], -1, 0)[None].astype(self.dtype)  # [1, H, L, L]
      y = nn.LayerNorm(dtype=self.dtype)(x)
      q, k, v = (nn.DenseGeneral((self.num_heads, head_dim), dtype=self.dtype)(y)
                 for _ in range(3))
      attended = nn.dot_product_attention(q, k, v, bias=bias, dtype=self.dtype,
                                          force_fp32_for_softmax=True)
      x = x + nn.DenseGeneral(self.width, axis=(-2, -1), dtype=self.dtype)(attended)
      x = _feed_forward(x, width=self.width, dtype=self.dtype)
    x = nn.LayerNorm(dtype=self.dtype)(x)
    cell_logits = _head(x, choices, width=self.width, dtype=self.dtype)  # [B, cells, K]
    logits = cell_logits.reshape(batch, self.num_actions)
    value = _head(jnp.mean(x, axis=1), 1, width=self.width, dtype=self.dtype)[:, 0]
    return logits.astype(jnp.float32), value.astype(jnp.float32)


class CausalTransformer(_Transformer):

  @nn.compact
  def __call__(self, observation):
    batch, length, _ = observation.shape
    # The read-here column stays out of the token embeddings: a position's hidden state is
    # then a function of the tokens up to it alone, whichever position is read.
    tokens, read_here = observation[..., :-1], observation[..., -1]
    position = self.param("position_embedding", nn.initializers.normal(0.02),
                          (length, self.width))
    x = nn.Dense(self.width, dtype=self.dtype)(tokens.astype(self.dtype))
    x = x + position.astype(self.dtype)[None]
    causal_mask = nn.make_causal_mask(jnp.ones((batch, length), bool))
    for _ in range(self.depth):
      x = _self_attention(x, num_heads=self.num_heads, mask=causal_mask, dtype=self.dtype)
      x = _feed_forward(x, width=self.width, dtype=self.dtype)
    x = nn.LayerNorm(dtype=self.dtype)(x)
    read = jnp.argmax(read_here, axis=-1)  # [B]
    h = jnp.take_along_axis(x, read[:, None, None], axis=1)[:, 0]  # [B, width]
    logits = _head(h, self.num_actions, width=self.width, dtype=self.dtype)
    value = _head(h, 1, width=self.width, dtype=self.dtype)[:, 0]
    return logits.astype(jnp.float32), value.astype(jnp.float32)


_FAMILIES: dict[str, Callable[..., nn.Module]] = {
    "mlp": ResidualMLP,
    "set": SetTransformer,
    "grid": GridTransformer,
    "causal": CausalTransformer,
}
NETWORK_FAMILIES = tuple(_FAMILIES)


@dataclasses.dataclass(frozen=True)
class Network:
  """A module bound to an env's shapes, with pure init and apply functions."""

  module: nn.Module
  observation_shape: tuple[int, ...]

  def init(self, key: jax.Array):
    """Fresh parameters; the key is consumed."""
    dummy = jnp.zeros((1, *self.observation_shape), jnp.float32)
    return self.module.init(key, dummy)["params"]

  def apply(self, params, observation: jax.Array) -> tuple[jax.Array, jax.Array]:
    """[B, *obs] -> (policy logits [B, A], value logits [B])."""
    return self.module.apply({"params": params}, observation)


def make_network(config: ml_collections.ConfigDict, env: Env) -> Network:
  """Builds the network named by `config.family` ("auto": the env's default)."""
  family = env.default_network if config.family == "auto" else config.family
  kwargs = {k: v for k, v in config.items() if k not in ("family", "dtype")}
  if family == "mlp":
    kwargs.pop("num_heads", None)
  dtype = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}[config.dtype]
  module = _FAMILIES[family](num_actions=env.num_actions, dtype=dtype, **kwargs)
  return Network(module, tuple(env.observation_shape))


def masked_logits(logits: jax.Array, legal_action_mask: jax.Array) -> jax.Array:
  """Logits with illegal actions at the dtype's minimum (finite, so softmax stays NaN-free)."""
  logits = logits - jnp.max(logits, axis=-1, keepdims=True)
  return jnp.where(legal_action_mask, logits, jnp.finfo(logits.dtype).min)
