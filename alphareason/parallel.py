"""Many devices and hosts: one data-parallel mesh, parameters replicated, batches sharded.

Every program runs under `jax.jit` with explicit shardings on a 1-D mesh whose axis
"data" spans all devices of all processes. Batches (self-play problems, learner batches,
eval problems) are split over "data"; parameters, optimizer state and the replay buffer
are replicated, so sampling the replay stays a local gather and only gradients and new
replay rows cross devices. Random bits come from partitionable threefry (JAX's default),
so a seed draws the same numbers on one device or many.

Several hosts join with `initialize(...)` before anything touches a device; each process
then runs the same program on its own devices and XLA's collectives (gloo on CPU, NCCL on
GPU) connect them.
"""

from __future__ import annotations

import functools

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from alphareason.errors import UsageError

DATA_AXIS = "data"


def initialize(coordinator: str | None, num_processes: int | None, process_id: int | None,
               *, auto: bool = False) -> None:
  """Joins a multi-process run: explicitly, or detected (SLURM, Open MPI, TPU, k8s) if `auto`."""
  explicit = (coordinator, num_processes, process_id)
  if all(x is None for x in explicit) and not auto:
    return
  if not auto and any(x is None for x in explicit):
    raise UsageError("a multi-process run needs --coordinator, --num-processes and --process-id "
                     "together (or --distributed to detect them from the cluster)")
  if num_processes is not None and num_processes < 1:
    raise UsageError(f"--num-processes must be at least 1, got {num_processes}")
  if process_id is not None and num_processes is not None and not 0 <= process_id < num_processes:
    raise UsageError(f"--process-id must be in [0, {num_processes}), got {process_id}")
  try:
    jax.distributed.initialize(coordinator, num_processes, process_id)
  except (RuntimeError, ValueError) as error:
    raise UsageError(f"cannot join the multi-process run: {error}") from None


def is_leader() -> bool:
  """The process that writes logs, reports and progress bars (all processes checkpoint)."""
  return jax.process_index() == 0


@functools.cache
def data_mesh() -> Mesh:
  return Mesh(np.asarray(jax.devices()), (DATA_AXIS,))


def replicated() -> NamedSharding:
  return NamedSharding(data_mesh(), PartitionSpec())


def batch_sharded() -> NamedSharding:
  """Splits the leading (batch) axis over all devices."""
  return NamedSharding(data_mesh(), PartitionSpec(DATA_AXIS))


def constrain_batch(tree):
  """Inside jit: lay out every leaf's leading axis over the devices."""
  return jax.lax.with_sharding_constraint(tree, batch_sharded())


def put_batch(tree):
  """Host arrays [B, ...] (the same on every process) -> global arrays split over devices.

  B must divide over the devices; each process copies in only its devices' rows.
  """
  sharding = batch_sharded()

  def put(x):
    x = np.asarray(x)
    return jax.make_array_from_callback(x.shape, sharding, lambda index: x[index])

  return jax.tree.map(put, tree)


def to_host(tree):
  """Global arrays -> numpy on every process (a sharded array is gathered across hosts)."""
  if jax.process_count() == 1:
    return jax.device_get(tree)
  return multihost_utils.process_allgather(tree, tiled=True)


def padded_size(size: int) -> int:
  """The smallest batch of at least `size` rows that divides over the devices."""
  devices = jax.device_count()
  return -(-size // devices) * devices
