"""jumanji's shipped 9x9 Sudoku databases, read from the installed package's files.

jumanji (PyPI `jumanji`, the `interop` extra) ships puzzle databases with its Sudoku
environment. They are read as files, without importing jumanji (which loads all its
environments), and checked by SHA-256: a database whose content changed is another
suite, so it is refused rather than served under the old name.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import io
import pathlib

import numpy as np

from alphareason.errors import UsageError
from alphareason.interop import INSTALL_HINT


@dataclasses.dataclass(frozen=True)
class JumanjiSpec:
  """A puzzle database that jumanji ships."""
  name: str
  file: str  # in jumanji/environments/logic/sudoku/data
  sha256: str  # of that file as jumanji 1.1 ships it: other content is another suite
  description: str


JUMANJI_SPECS = {
    "mixed": JumanjiSpec(
        "mixed", "10000_mixed_puzzles.npy",
        "15f286d3c9ecaf45f1865b9eed6f8ace7d8fede6677f24bf23f818b8455c51aa",
        "jumanji's 10,000 mixed 9x9 Sudoku puzzles, 25 to 77 clues"),
    "very-easy": JumanjiSpec(
        "very-easy", "1000_very_easy_puzzles.npy",
        "64d9607d056cf18d543d79db3a8bf24606280251e5b16b8916f3915ba619c269",
        "jumanji's 1,000 very easy 9x9 Sudoku puzzles, 46 to 80 clues"),
}
JUMANJI_DEFAULT = "mixed"


def jumanji_database(spec: JumanjiSpec) -> np.ndarray:
  """The database's puzzles, [count, 9, 9] int8 with 0 for empty."""
  try:
    distribution = importlib.metadata.distribution("jumanji")
  except importlib.metadata.PackageNotFoundError:
    raise UsageError(f"the jumanji suites read the puzzles jumanji ships; install it: "
                     f"{INSTALL_HINT}") from None
  path = distribution.locate_file(f"jumanji/environments/logic/sudoku/data/{spec.file}")
  try:
    content = pathlib.Path(path).read_bytes()
  except OSError as error:
    raise UsageError(f"jumanji {distribution.version} has no Sudoku database {spec.file} "
                     f"({error})") from None
  if hashlib.sha256(content).hexdigest() != spec.sha256:
    raise UsageError(f"jumanji {distribution.version}'s {spec.file} is not the database this "
                     "suite was made from (jumanji 1.1's); its content changed")
  return np.load(io.BytesIO(content))
