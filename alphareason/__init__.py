"""alphareason: AlphaZero-style reasoning in pure JAX.

Verifiable reasoning tasks as pure-functional environments, searched in batches with
mctx, training one Flax policy-value network by self-play.

The package is layered: a module imports only from layers below its own (and from its
own subpackage), never upward, so each layer can be read, tested and reused without
those above it. From the bottom (tests/test_architecture.py holds the order):

  0  errors, files, faults          one-line errors, atomic writes, fault injection
  1  env                            the environment contract
  2  envs, registry, checker        the environments, their ids, the contract checker
  3  networks, parallel             Flax policy-value networks; the data mesh
  4  search                         mctx glue: the env as the model
  5  config, strategies             configs; test-time strategies (greedy ... MCTS)
  6  play, checkpoint, interop      batched play; orbax checkpoints; bridges to other libraries
  7  suites                         benchmark suites (TFDS builders), every suite name resolved
  8  parts                          an experiment's env, network and held-out suite
  9  agent                          trained agents for inference: workdirs, shipped agents
  10 train, eval                    self-play training; evaluation and reports (never each other)
  11 api, bench                     the library API; throughput benchmarks
  12 cli                            the command: parses, calls the API, prints
  13 puzzles                        puzzles added as a user adds one: the public surface only

This module is the public surface; the library API is loaded when first used, so
`import alphareason` stays light.
"""

from alphareason.checker import check_env
from alphareason.env import Env, ProblemError, State, fewest_options
from alphareason.errors import UsageError
from alphareason.registry import make, register, registered_envs

__version__ = "0.1.0"

# The library API (alphareason.api), imported on first use: it pulls in training,
# evaluation and TensorFlow Datasets, which `import alphareason` should not.
_API = ("evaluate", "export_agent", "load_agent", "load_config", "shipped_agents", "solve",
        "train_agent")

__all__ = (
    "Env",
    "ProblemError",
    "State",
    "UsageError",
    "check_env",
    "evaluate",
    "export_agent",
    "fewest_options",
    "load_agent",
    "load_config",
    "make",
    "register",
    "register_rg_task",
    "registered_envs",
    "shipped_agents",
    "solve",
    "train_agent",
)


def __getattr__(name: str):
  if name in _API:
    from alphareason import api
    return getattr(api, name)
  if name == "register_rg_task":  # reasoning-gym interop: its module imports the envs
    from alphareason.interop.reasoning_gym import register_rg_task
    return register_rg_task
  raise AttributeError(f"module 'alphareason' has no attribute {name!r}")
