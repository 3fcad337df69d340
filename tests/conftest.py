import atexit
import os
import pathlib
import shutil
import tempfile

import filelock
import jax
import pytest

from alphareason.config import load_config
from alphareason.train.loop import train

# Suites are built under the cache directory: the tests use their own, never the user's.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="alphareason-test-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], True)
# Compiled programs, though, are shared by every test, worker and subprocess of the run:
# most tests train or search the same small programs, and compiling them is most of the
# suite's time. The first process here (pytest-xdist's controller, which outlives its
# workers) makes the folder; workers and subprocesses inherit it through the environment,
# and this process, whose JAX is imported already, is told directly.
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
  os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="alphareason-test-xla-")
  atexit.register(shutil.rmtree, os.environ["JAX_COMPILATION_CACHE_DIR"], True)
os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
jax.config.update("jax_compilation_cache_dir", os.environ["JAX_COMPILATION_CACHE_DIR"])
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)

ROOT = pathlib.Path(__file__).resolve().parent.parent


def tiny_config(*overrides):
  return load_config(ROOT / "configs" / "tiny.py", overrides)


@pytest.fixture(scope="session")
def trained_workdir(tmp_path_factory):
  """A workdir with the tiny config trained to the end (6 iterations, 3 checkpoints),
  trained once for the whole run: pytest-xdist's workers share the run's base folder, and
  the first to arrive trains while the others wait on the lock. Tests only read it."""
  base = tmp_path_factory.getbasetemp()
  if os.environ.get("PYTEST_XDIST_WORKER"):
    base = base.parent  # the run's folder, beside each worker's own
  workdir, done = base / "tiny-trained", base / "tiny-trained.done"
  with filelock.FileLock(str(base / "tiny-trained.lock")):
    if not done.exists():
      train(tiny_config(), workdir, progress=False)
      done.touch()
  return workdir
