"""Benchmark suites as TFDS builders: fixed content, certificates, determinism, errors."""

import collections
import dataclasses
import hashlib
import importlib.util
import shutil
import sys

import pytest

from alphareason import make, suites
from alphareason.cli import main
from alphareason.envs.countdown import Countdown
from alphareason.errors import UsageError
from alphareason.interop import jumanji
from alphareason.suites import countdown_solver, generate


def digest(problems):
  return hashlib.sha256("\n".join(problems).encode()).hexdigest()


# The splits of the pre-TFDS implementation: held-out problems of earlier runs must stay
# held out, so these never change.
GAME24_TEST_HEAD = ("1 6 9 13 -> 24", "5 7 11 13 -> 24", "3 3 11 12 -> 24",
                    "9 10 12 13 -> 24", "3 8 11 11 -> 24")
GAME24_DIGESTS = dict(
    train="08e934b6580806c8bd089bc9efa1c15b7342b7150b84112560bb86c12c7c69f2",
    validation="bd5c0b01bb2dc0a15968d67546be10fec1e2d18736f3a687bd31946dae9eb1b5",
    test="75cde517f7d1a43b70b55d4229848ec169cfb62e4f472948ee672e1215b8a926")
# countdown/n5 v1.0.0: a change to how problems are drawn must come with a new version.
COUNTDOWN_N5_HELD_OUT = "ca2fcc0b9b10acef5ba59d9ca2813ea1c490f2afd5f570019e86870e9bba1062"
ADD_D8_HELD_OUT = "ddc38e374dd502a12b882200d3fcf2bc31bb22e9bad6db5d8821a921b15c64e1"  # add/d8 v1.0.0


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
  return tmp_path_factory.mktemp("tfds")


@pytest.fixture(scope="module")
def game24(data_dir):
  return suites.load_suite("game24", data_dir=data_dir)


def test_game24_splits_are_unchanged(game24):
  assert (game24.name, game24.version, game24.env_id) == ("game24", "1.0.0", "game24-v0")
  assert {s: len(p) for s, p in game24.splits.items()} == dict(train=762, validation=100, test=500)
  assert game24.split("test")[:5] == GAME24_TEST_HEAD
  assert {s: digest(p) for s, p in game24.splits.items()} == GAME24_DIGESTS
  assert game24.held_out == game24.splits["validation"] + game24.splits["test"]
  assert len(set(game24.splits["train"] + game24.held_out)) == 1362
  assert "tensorflow" not in sys.modules  # TFDS wrote and read it without TensorFlow


def test_game24_examples_carry_certificates_and_tiers(game24):
  env = make("game24-v0")
  tiers = collections.Counter()
  for split, problems in game24.splits.items():
    assert [e["problem"] for e in game24.examples[split]] == list(problems)
    for e in game24.examples[split]:
      assert env.problem_text(env.parse_problem(e["problem"])) == e["problem"]
      assert e["target"] == 24 and e["problem"] == generate.problem_text(e["numbers"], 24)
      assert Countdown.reference_check(e["problem"], e["solution"])
      assert e["tier"] == generate.game24_tier(e["num_solutions"])
      tiers[e["tier"]] += 1
  assert tiers == dict(hard=412, medium=484, easy=466)  # roughly thirds


@pytest.mark.parametrize("numbers, target, count", [
    ((4, 4, 10, 10), 24, 1),  # only (10*10-4)/4
    ((3, 3, 8, 8), 24, 1),  # only 8/(3-8/3)
    ((1, 1, 1, 1), 24, 0),
    ((2, 2), 4, 2),  # 2+2 and 2*2; 2+2 written either way is one
    ((1, 2), 3, 1),
])
def test_count_solutions_up_to_commutativity(numbers, target, count):
  assert countdown_solver.count_solutions(numbers, target) == count


@pytest.mark.slow  # builds a suite twice
def test_loading_is_deterministic(data_dir, game24, tmp_path):
  again = suites.load_suite("game24", data_dir=data_dir)
  assert again.splits == game24.splits and again.examples == game24.examples
  fresh = suites.load_suite("game24", data_dir=tmp_path / "fresh")  # built anew
  assert fresh.splits == game24.splits and fresh.examples == game24.examples
  first = suites.load_suite("countdown/n5", data_dir=tmp_path / "a")
  second = suites.load_suite("countdown/n5", data_dir=tmp_path / "b")
  assert first == second and first.examples == second.examples
  assert digest(first.held_out) == COUNTDOWN_N5_HELD_OUT


@pytest.mark.parametrize("name, counts", [("countdown/n5", {5}), ("countdown", {4, 5, 6})])
def test_countdown_configs(data_dir, name, counts):
  suite = suites.load_suite(name, data_dir=data_dir)
  assert suite.env_id == "countdown-v0" and suite.version == "1.0.0"
  assert suite.name == ("countdown/n4-6" if name == "countdown" else name)
  assert {s: len(p) for s, p in suite.splits.items()} == dict(validation=100, test=500)
  env = make("countdown-v0", min_numbers=min(counts), max_numbers=max(counts))
  seen = set()
  for e in suite.examples["validation"] + suite.examples["test"]:
    assert len(e["numbers"]) in counts and all(1 <= x <= 100 for x in e["numbers"])
    assert 100 <= e["target"] <= 999
    assert env.problem_text(env.parse_problem(e["problem"])) == e["problem"]
    assert Countdown.reference_check(e["problem"], e["solution"])
    seen.add((tuple(sorted(e["numbers"])), e["target"]))
  assert len(seen) == 600  # no problem twice, so validation and test are disjoint
  assert {len(e["numbers"]) for e in suite.examples["test"]} == counts


@pytest.mark.parametrize("name, canonical, env_id, digits", [
    ("add", "add/d8", "add-v0", 8), ("add/d3", "add/d3", "add-v0", 3),
    ("mul", "mul/d3", "mul-v0", 3), ("mul/d2", "mul/d2", "mul-v0", 2)])
def test_arithmetic_configs(data_dir, name, canonical, env_id, digits):
  from alphareason.envs.arithmetic import Arithmetic

  suite = suites.load_suite(name, data_dir=data_dir)
  assert (suite.name, suite.env_id, suite.version) == (canonical, env_id, "1.0.0")
  assert {s: len(p) for s, p in suite.splits.items()} == dict(validation=100, test=500)
  env = make(env_id)  # as registered: up to 8 digits (add), 3 (mul)
  symbol = "+" if env_id == "add-v0" else "*"
  for e in suite.examples["validation"] + suite.examples["test"]:
    left, op, right = e["problem"].split()
    assert (len(left), op, len(right), e["digits"]) == (digits, symbol, digits, digits)
    assert left[0] != "0" and right[0] != "0"
    assert env.problem_text(env.parse_problem(e["problem"])) == e["problem"]
    assert Arithmetic.reference_check(e["problem"], e["solution"])
    assert not Arithmetic.reference_check(e["problem"], str(int(e["solution"]) + 1))
  assert len(set(suite.held_out)) == 600
  if canonical == "add/d8":
    assert digest(suite.held_out) == ADD_D8_HELD_OUT


def test_arithmetic_training_never_draws_the_held_out_problems(data_dir):
  import jax
  import numpy as np

  from alphareason import parts as parts_lib
  from alphareason.config import load_config
  from conftest import ROOT

  # 2x2-digit products: 8,100 problems, of which mul/d2 holds out 600 (7.4%).
  config = load_config(ROOT / "configs" / "mul.py", [
      "env.min_digits=2", "env.max_digits=2", "holdout_suite=mul/d2"])
  parts = parts_lib.build(config, data_dir=data_dir)
  assert parts.holdout.name == "mul/d2" and len(parts.env.excluded_keys) == 600
  plain = make("mul-v0", min_digits=2, max_digits=2)

  def drawn_keys(env):
    keys = jax.random.split(jax.random.PRNGKey(0), 4096)
    return np.asarray(jax.jit(jax.vmap(lambda k: env.problem_key(env.sample_problem(k))))(keys))

  held_out = parts.env.excluded_keys
  assert np.isin(drawn_keys(plain), held_out).sum() > 200  # about 300 expected
  assert not np.isin(drawn_keys(parts.env), held_out).any()


def test_jumanjis_mixed_database_is_an_external_suite(data_dir):
  pytest.importorskip("jumanji")
  from alphareason.envs.sudoku import Sudoku

  suite = suites.load_suite("jumanji_sudoku", data_dir=data_dir)
  assert (suite.name, suite.env_id, list(suite.splits)) == ("jumanji_sudoku/mixed", "sudoku9-v0", ["test"])
  assert len(suite.held_out) == len(set(suite.held_out)) == 10_000
  clue_counts = collections.Counter(e["num_clues"] for e in suite.examples["test"])
  assert (min(clue_counts), max(clue_counts)) == (25, 77)
  env = make("sudoku9-v0")
  for e in suite.examples["test"][::50]:
    assert env.problem_text(env.parse_problem(e["problem"])) == e["problem"]
  assert all(e["num_solutions"] == 1 and Sudoku.reference_check(e["problem"], e["solution"])
             for e in suite.examples["test"])


def test_jumanji_suites_need_jumanji_and_its_exact_database(data_dir, monkeypatch):
  import importlib.metadata

  spec = jumanji.JUMANJI_SPECS["very-easy"]
  if importlib.util.find_spec("jumanji") is not None:
    with pytest.raises(UsageError, match="very_easy_puzzles.npy is not the database this suite"):
      jumanji.jumanji_database(dataclasses.replace(spec, sha256="0" * 64))

  def missing(name):
    raise importlib.metadata.PackageNotFoundError(name)

  monkeypatch.setattr(importlib.metadata, "distribution", missing)
  with pytest.raises(UsageError, match=r"install it: pip install 'alphareason\[interop\]'"):
    suites.load_suite("jumanji_sudoku/very-easy", data_dir=data_dir)


def test_unknown_suites_and_splits_are_usage_errors(data_dir):
  with pytest.raises(UsageError, match=r"unknown suite 'x'; known: game24, countdown/n3"):
    suites.load_suite("x")
  with pytest.raises(UsageError, match="unknown suite 'countdown/n10'"):
    suites.load_suite("countdown/n10")
  with pytest.raises(UsageError, match="has no split 'train'; it has validation, test"):
    suites.load_suite("countdown/n3", data_dir=data_dir).split("train")


@pytest.mark.parametrize("damage", ["truncate", "empty", "bad_info"])
def test_a_damaged_suite_is_a_usage_error_naming_the_path(data_dir, game24, tmp_path, damage):
  copy = tmp_path / "copy"
  shutil.copytree(data_dir / "game24", copy / "game24")
  folder = copy / "game24" / "1.0.0"
  if damage == "bad_info":
    (folder / "dataset_info.json").write_text("{")
    path = folder
  else:
    path = next(folder.glob("game24-test.array_record-*"))
    with open(path, "r+b") as f:
      f.truncate(0 if damage == "empty" else path.stat().st_size // 2)
  with pytest.raises(UsageError, match="damaged|cannot read") as error:
    suites.load_suite("game24", data_dir=copy)
  assert str(path) in str(error.value) and "rebuild" in str(error.value)


def test_a_suite_another_process_is_building_is_waited_for_and_read(data_dir, game24, tmp_path,
                                                                     monkeypatch, capsys):
  import threading

  import filelock
  (tmp_path / "game24").mkdir()
  other = filelock.FileLock(tmp_path / "game24" / "1.0.0.lock")  # the other process's build
  other.acquire()
  builds, loaded = [], {}
  monkeypatch.setattr(suites, "_build", lambda builder, name: builds.append(name))
  waiter = threading.Thread(
      target=lambda: loaded.update(suite=suites.load_suite("game24", data_dir=tmp_path)))
  waiter.start()
  waiter.join(timeout=3)
  assert waiter.is_alive() and not loaded  # waits for the build under way
  shutil.copytree(data_dir / "game24" / "1.0.0", tmp_path / "game24" / "1.0.0")
  other.release()
  waiter.join(timeout=60)
  assert not builds and loaded["suite"].splits == game24.splits  # read, not built again
  assert "waiting for another process to build suite game24" in capsys.readouterr().err


def test_suites_command_lists_versions_env_ids_and_sizes(capsys, monkeypatch, data_dir, game24):
  import importlib.metadata

  monkeypatch.setattr(suites, "SUITE_NAMES", ("game24", "jumanji_sudoku/very-easy", "countdown/n3"))

  def missing(name):
    raise importlib.metadata.PackageNotFoundError(name)

  monkeypatch.setattr(importlib.metadata, "distribution", missing)
  assert main(["suites", "--data-dir", str(data_dir)]) == 0
  out = capsys.readouterr().out.splitlines()
  assert out[0].split()[:6] == ["game24", "v1.0.0", "game24-v0", "train", "762,", "validation"]
  # A suite whose package is missing says so in its line; the listing goes on.
  assert out[1].split()[:2] == ["jumanji_sudoku/very-easy", "unavailable:"]
  assert "pip install 'alphareason[interop]'" in out[1]
  assert out[2].split()[:7] == ["countdown/n3", "v1.0.0", "countdown-v0", "validation", "100,",
                                "test", "500"]


def test_the_default_data_dir_is_the_user_cache(monkeypatch, tmp_path):
  monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
  assert suites.default_data_dir() == tmp_path / "alphareason" / "tensorflow_datasets"
  monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
  assert suites.default_data_dir().parts[-3:] == (".cache", "alphareason", "tensorflow_datasets")
