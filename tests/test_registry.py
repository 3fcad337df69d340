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


def install_plugin(folder, module_source: str, entry_point: str = "plugin_envs"):
  """A distribution on sys.path declaring `entry_point` under alphareason.envs, as pip
  installs one: a dist-info folder with its metadata and entry_points.txt."""
  (folder / "plugin_envs.py").write_text(module_source)
  info = folder / "alphareason_test_plugin-0.1.dist-info"
  info.mkdir()
  (info / "METADATA").write_text("Metadata-Version: 2.1\nName: alphareason-test-plugin\nVersion: 0.1\n")
  (info / "entry_points.txt").write_text(f"[alphareason.envs]\nplugin = {entry_point}\n")


# A plug-in registering plugin-v0 as countdown of two numbers.
PLUGIN_MODULE = ('import alphareason\nalphareason.register("plugin-v0", '
                 '"alphareason.envs.countdown:Countdown", min_numbers=2, max_numbers=2)\n')


@pytest.fixture
def plugin_path(tmp_path, monkeypatch):
  monkeypatch.syspath_prepend(str(tmp_path))
  monkeypatch.setattr(registry, "_plugins_loaded", False)
  yield tmp_path
  registry._REGISTRY.pop("plugin-v0", None)
  registry._plugin_ids.discard("plugin-v0")
  sys.modules.pop("plugin_envs", None)


def test_an_installed_plugin_registers_its_envs_when_an_id_is_first_missed(plugin_path):
  install_plugin(plugin_path, PLUGIN_MODULE)
  assert "plugin_envs" not in sys.modules  # nothing loads before an id is looked up
  env = alphareason.make("plugin-v0")
  assert env.max_numbers == 2 and "plugin_envs" in sys.modules
  assert "plugin-v0" in [spec.env_id for spec in registry.registered_envs()]


def test_a_module_imported_first_shadows_a_plugins_id(plugin_path):
  registry.register("plugin-v0", "alphareason.envs.countdown:Countdown", min_numbers=3,
                    max_numbers=3)
  install_plugin(plugin_path, PLUGIN_MODULE)
  registry.load_plugins()
  assert "plugin_envs" in sys.modules  # loaded, and its registration gave way
  assert alphareason.make("plugin-v0").max_numbers == 3


def test_a_module_imported_later_replaces_a_plugins_id_once(plugin_path):
  install_plugin(plugin_path, PLUGIN_MODULE)
  assert alphareason.make("plugin-v0").max_numbers == 2
  registry.register("plugin-v0", "alphareason.envs.countdown:Countdown", min_numbers=3,
                    max_numbers=3)
  assert alphareason.make("plugin-v0").max_numbers == 3
  with pytest.raises(ValueError, match="already registered"):  # two of the user's: an error
    registry.register("plugin-v0", "alphareason.envs.countdown:Countdown")


def test_a_plugin_cannot_take_a_built_in_id(plugin_path):
  install_plugin(plugin_path, PLUGIN_MODULE.replace("plugin-v0", "game24-v0"))
  registry.load_plugins()
  assert alphareason.make("game24-v0").max_numbers == 4


def test_a_plugin_that_fails_to_load_is_one_line_naming_it(plugin_path):
  install_plugin(plugin_path, "raise RuntimeError('half written')\n")
  with pytest.raises(alphareason.UsageError,
                     match=r"plugin 'plugin' \(plugin_envs\) fails to load: RuntimeError: half written"):
    alphareason.make("plugin-v0")


def test_env_module_lists_modules_separated_by_commas():
  assert registry.module_names(" a, b.c ,,") == ["a", "b.c"]
  assert registry.module_names("") == []
