"""Writing files so that a crash never leaves half of one."""

from __future__ import annotations

import os
import pathlib
import tempfile


def atomic_write_text(path: pathlib.Path, text: str) -> None:
  """Writes via a temporary file and a rename, so a crash never leaves half a file."""
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as f:
    f.write(text)
  os.replace(f.name, path)
