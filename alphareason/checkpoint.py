"""Orbax checkpoints: the whole train state plus the config as JSON, per step.

A checkpoint alone rebuilds the experiment: the config says which env and network, the
state holds parameters, optimizer state, replay buffer, RNG key and iteration. Orbax
writes each step to a temporary directory and renames it when complete, so a crash
mid-save leaves the previous checkpoint as the latest.
"""

from __future__ import annotations

import json
import pathlib

import jax
import ml_collections
import numpy as np
import orbax.checkpoint as ocp

from alphareason.config import config_from_json
from alphareason.errors import UsageError
from alphareason import faults


class Checkpoints:
  def __init__(self, workdir: str | pathlib.Path, *, keep: int = 3, create: bool = True):
    self.directory = pathlib.Path(workdir).resolve() / "checkpoints"
    if not create and not self.directory.is_dir():
      raise UsageError(f"no checkpoint in {workdir}: train there first")
    self._manager = ocp.CheckpointManager(
        self.directory,
        options=ocp.CheckpointManagerOptions(
            max_to_keep=keep, create=create,
            # A save killed midway leaves a temporary directory, never a step: remove it.
            cleanup_tmp_directories=create,
            temporary_path_class=faults.temporary_path_class()),
        item_names=("state", "config"))

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def all_steps(self) -> list[int]:
    return list(self._manager.all_steps())

  def save(self, step: int, state, config: ml_collections.ConfigDict) -> None:
    """Starts saving in the background; `wait()` blocks until it is on disk."""
    # A host copy: the next training iteration donates the device buffers that an
    # asynchronous save would otherwise still be reading.
    self._manager.save(step, args=ocp.args.Composite(
        state=ocp.args.StandardSave(jax.device_get(state)),
        config=ocp.args.JsonSave(json.loads(config.to_json()))))

  def read_config(self, step: int) -> ml_collections.ConfigDict:
    try:
      restored = self._manager.restore(step, args=ocp.args.Composite(config=ocp.args.JsonRestore()))
      return config_from_json(json.dumps(restored.config))
    except Exception as error:
      raise UsageError(f"cannot read the config of checkpoint {self.directory}/{step}: "
                       f"{type(error).__name__}") from None

  def restore(self, step: int, like):
    """Restores step `step` into the structure, shapes and dtypes of `like`."""
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, like)
    where = f"{self.directory}/{step}"
    # The saved tree is in orbax's serialized form (dicts and lists), as is this.
    _check_shapes(self._saved_layout(step), ocp.tree.serialize_tree(abstract, keep_empty_nodes=True),
                  where)
    try:
      restored = self._manager.restore(
          step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract)))
    except Exception as error:
      raise UsageError(f"checkpoint {where} is damaged ({type(error).__name__})") from None
    return restored.state

  def restore_params(self, step: int, like_params):
    """Restores only step `step`'s network parameters, into the shapes and shardings of
    `like_params`: what inference needs. It reads neither the replay buffer nor the
    optimizer state, so it is fast, and it lets a network whose parameters do not depend
    on the env's size play a larger env than it was trained in."""
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, like_params)
    where = f"{self.directory}/{step}"
    saved = self._saved_layout(step)
    _check_shapes(saved["params"] if "params" in saved else {}, abstract, where)
    try:
      restored = self._manager.restore(step, args=ocp.args.Composite(state=ocp.args.PyTreeRestore(
          item={"params": abstract}, partial_restore=True,
          restore_args={"params": ocp.checkpoint_utils.construct_restore_args(abstract)})))
    except Exception as error:
      raise UsageError(f"checkpoint {where} is damaged ({type(error).__name__})") from None
    return restored.state["params"]

  def _saved_layout(self, step: int):
    """The shapes and dtypes step `step` saved, read from its metadata alone.

    Restores compare them first: a failed orbax restore leaves its event loop's callbacks
    to fail noisily at exit, orbax may pad or cut an array to fit, and the metadata names
    the leaf that differs.
    """
    try:
      return ocp.PyTreeCheckpointHandler().metadata(self.directory / str(step) / "state")
    except Exception as error:
      raise UsageError(f"cannot read checkpoint {self.directory}/{step} "
                       f"({type(error).__name__})") from None

  def wait(self) -> None:
    self._manager.wait_until_finished()

  def close(self) -> None:
    self._manager.close()


def _check_shapes(found, abstract, where: str) -> None:
  """A checkpoint must fit exactly: the same leaves, shapes and dtypes."""
  def leaves(tree):
    return {jax.tree_util.keystr(path): leaf for path, leaf in jax.tree_util.tree_leaves_with_path(tree)}

  found, wanted = leaves(found), leaves(abstract)
  for name in sorted(found.keys() | wanted.keys()):
    if name not in found or name not in wanted:
      raise UsageError(f"checkpoint {where} does not fit this config: it "
                       f"{'lacks' if name in wanted else 'has an extra'} {name}")
    got, want = found[name], wanted[name]
    if tuple(got.shape) != tuple(want.shape) or np.dtype(got.dtype) != np.dtype(want.dtype):
      raise UsageError(f"checkpoint {where} does not fit this config: {name} is "
                       f"{np.dtype(got.dtype)}{list(got.shape)}, expected "
                       f"{np.dtype(want.dtype)}{list(want.shape)}")
