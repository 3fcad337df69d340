import subprocess
import sys

import pytest

import alphareason
from alphareason import registry


def test_make_applies_overrides():
  env = alphareason.make("countdown-v0", max_numbers=9)
  assert env.max_numbers == 9 and env.num_actions == 4 * 81 and env.env_id == "countdown-v0"


def test_unknown_id_names_the_known_ones():
  with pytest.raises(registry.UnknownEnvError, match="unknown env id 'nope-v0'.*game24-v0"):
    alphareason.make("nope-v0")


def test_registering_an_id_twice_is_an_error():
  with pytest.raises(ValueError, match="already registered"):
    registry.register("game24-v0", "alphareason.envs.countdown:Countdown")


def test_ids_carry_a_version():
  with pytest.raises(ValueError, match="name-v0"):
    registry.register("unversioned", "alphareason.envs.countdown:Countdown")


def test_importing_the_package_imports_no_env():
  code = "import sys, alphareason; print('alphareason.envs.countdown' in sys.modules)"
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
  assert out.stdout.strip() == "False"
