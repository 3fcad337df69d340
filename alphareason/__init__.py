"""alphareason: AlphaZero-style reasoning in pure JAX.

Verifiable reasoning tasks as pure-functional environments, searched in batches with
mctx, training one Flax policy-value network by self-play.
"""

from alphareason.checker import check_env
from alphareason.env import Env, ProblemError, State
from alphareason.errors import UsageError
from alphareason.registry import make, register, registered_envs

__version__ = "0.1.0"

__all__ = (
    "Env",
    "ProblemError",
    "State",
    "UsageError",
    "check_env",
    "make",
    "register",
    "registered_envs",
)
