import atexit
import os
import pathlib
import shutil
import tempfile

import pytest

from alphareason.config import load_config
from alphareason.train.loop import train

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Suites are built under the cache directory: the tests use their own, never the user's.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="alphareason-test-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], True)


def tiny_config(*overrides):
  return load_config(ROOT / "configs" / "tiny.py", overrides)


@pytest.fixture(scope="session")
def trained_workdir(tmp_path_factory):
  """A workdir with the tiny config trained to the end (6 iterations, 3 checkpoints)."""
  workdir = tmp_path_factory.mktemp("tiny")
  train(tiny_config(), workdir, progress=False)
  return workdir
