"""The one error type the command line reports as a single line with exit status 2."""


class UsageError(Exception):
  """A user's mistake: bad input, config, checkpoint or problem. The message is the line shown."""


class TrainingError(Exception):
  """Training cannot go on (a non-finite loss, say); the message is the line shown, exit 1."""


def first_line(error: BaseException) -> str:
  """`Type: first line of the message`: enough to say what failed (JAX's messages go on
  for paragraphs)."""
  lines = str(error).strip().splitlines()
  return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__
