"""Fault injection for the reliability tests, set by environment variables.

Inert unless a variable is set. Each one makes a real fault happen inside a real run,
so tests can check what a user would see after it:

- ALPHAREASON_FAULT_KILL_AFTER=N: SIGKILL the process right after iteration N is logged.
- ALPHAREASON_FAULT_BLOCK_SAVE=N: the save of step N blocks inside orbax, after its
  files are written to the temporary directory and before the rename that commits it.
- ALPHAREASON_FAULT_NAN_AT=N: parameters turn NaN just before iteration N.
"""

from __future__ import annotations

import asyncio
import os
import signal

import jax
import jax.numpy as jnp
import orbax.checkpoint as ocp


def _step(name: str) -> int | None:
  value = os.environ.get(name)
  return int(value) if value else None


def kill_after(iteration: int) -> None:
  if _step("ALPHAREASON_FAULT_KILL_AFTER") == iteration:
    os.kill(os.getpid(), signal.SIGKILL)


def poison_before(iteration: int, state):
  if _step("ALPHAREASON_FAULT_NAN_AT") != iteration:
    return state
  return state.replace(params=jax.tree.map(lambda x: x * jnp.nan, state.params))


class _BlockingRename(ocp.path.atomicity.AtomicRenameTemporaryPath):
  async def finalize(self):
    if self.get_final().name == os.environ.get("ALPHAREASON_FAULT_BLOCK_SAVE"):
      print(f"fault: blocking the save of {self.get_final()}", flush=True)
      while True:
        await asyncio.sleep(3600)
    await super().finalize()


def temporary_path_class():
  """The orbax temporary-path class for this process (None: orbax's own)."""
  return _BlockingRename if os.environ.get("ALPHAREASON_FAULT_BLOCK_SAVE") else None
