"""The command line: results, and one clear line with exit status 2 for every bad input."""

import json
import os
import subprocess
import sys
import types

import pytest

from alphareason.cli import main
from alphareason.envs.countdown import Countdown
from conftest import ROOT

TINY = str(ROOT / "configs" / "tiny.py")


def run(capsys, *argv):
  code = main(list(argv))
  out, err = capsys.readouterr()
  return code, out, err


def assert_usage_error(result, message):
  code, out, err = result
  assert code == 2, (out, err)
  lines = err.strip().splitlines()
  assert len(lines) == 1 and "Traceback" not in err, err
  assert lines[0].startswith("alphareason: error: ") and message in lines[0], lines[0]


def test_envs_lists_the_registered_ids(capsys):
  code, out, _ = run(capsys, "envs")
  assert code == 0 and "game24-v0" in out and "countdown-v0" in out


@pytest.mark.parametrize("override, message", [
    ("--config.env_id=nope-v0", "unknown env id 'nope-v0'"),
    ("--config.no_such_key=1", "unknown config key 'no_such_key'"),
    ("--config.search.num_simulations=-1", "search.num_simulations must be at least 1"),
    ("--config.train.learning_rate=0", "train.learning_rate must be above 0"),
    ("--config.train.batch_size=abc", "bad value for train.batch_size"),
    ("--config.network.family=resnet", "network.family"),
    ("--config.train.replay_capacity=8", "replay_capacity must hold at least one batch"),
    ("--config.train.num_iterations=1", "warmup_iterations=1 must be less than train.num_iterations=1"),
    ("--config.env_module=no_such_module", "no module named 'no_such_module'"),
    ("--config.search.test_value_scale=0", "search.test_value_scale must be above 0"),
])
def test_train_rejects_bad_configs(capsys, tmp_path, override, message):
  assert_usage_error(run(capsys, "train", "--config", TINY, "--workdir", str(tmp_path), override),
                     message)
  assert not (tmp_path / "checkpoints").exists()  # rejected before any work


@pytest.mark.parametrize("command", ["envs", "check game24-v0", "suites", "solve --agent game24 1"])
def test_every_command_imports_env_modules_first(capsys, command):
  assert_usage_error(run(capsys, *command.split(), "--env-module", "no_such_module"),
                     "no module named 'no_such_module'")


def test_train_records_its_env_modules_in_the_config(capsys, tmp_path, monkeypatch):
  from alphareason import api
  (tmp_path / "my_envs.py").write_text("")  # registers nothing: game24-v0 is the package's
  monkeypatch.chdir(tmp_path)
  trained = []
  monkeypatch.setattr(api, "train_agent", lambda config, workdir, **_: trained.append(config)
                      or types.SimpleNamespace(iteration=0))
  code, _, err = run(capsys, "train", "--config", TINY, "--workdir", "w", "--env-module",
                     "my_envs", "--config.env_module=my_envs,json")
  assert code == 0, err
  # The checkpoints keep the config: eval and solve of the run import both modules.
  assert trained[0].env_module == "my_envs,json"


def test_eval_and_solve_need_a_checkpoint(capsys, tmp_path):
  assert_usage_error(run(capsys, "eval", "--workdir", str(tmp_path)), "no checkpoint")
  assert_usage_error(run(capsys, "solve", "--workdir", str(tmp_path), "4 9 10 13"), "no checkpoint")


@pytest.mark.parametrize("puzzle, message", [
    ("4 9 x", "expected whole numbers"),
    ("4 9 10", "expected 4 numbers, got 3"),
])
def test_solve_rejects_malformed_puzzles(capsys, trained_workdir, puzzle, message):
  assert_usage_error(run(capsys, "solve", "--workdir", str(trained_workdir), puzzle), message)


@pytest.mark.parametrize("args, message", [
    (("--suite", "nope"), "unknown suite 'nope'"),
    (("--budgets", "0,4"), "budgets must be at least 1"),
    (("--strategies", "greedy,telepathy"), "unknown strategy 'telepathy'"),
    (("--suite-version", "9.9.9"), "is version 1.0.0, not 9.9.9"),
    (("--steps", "5"), "no checkpoint at step 5 in"),
    (("--steps", "x"), "--steps must be latest, all"),
    (("--config.network.width=8",), "only env settings can change at test time"),
    (("--config.env.max_numbers=99",), "bad env settings for game24-v0"),
])
def test_eval_rejects_bad_arguments(capsys, trained_workdir, args, message):
  assert_usage_error(run(capsys, "eval", "--workdir", str(trained_workdir), *args), message)


def test_solve_prints_only_checked_answers(capsys, trained_workdir):
  puzzles = ["1 1 3 8", "1 1 1 1", "4 9 10 13"]
  code, out, _ = run(capsys, "solve", "--workdir", str(trained_workdir), "--json",
                     "--simulations", "48", *puzzles)
  assert code == 0
  records = json.loads(out)
  assert [r["problem"] for r in records] == [f"{p} -> 24" for p in puzzles]
  assert not records[1]["solved"] and records[1]["answer"] is None  # 1 1 1 1 has no solution
  for r in records:
    if r["solved"]:
      assert Countdown.reference_check(r["problem"], r["answer"])
  code, out, _ = run(capsys, "solve", "--workdir", str(trained_workdir), "1 1 1 1")
  assert code == 0 and out.strip() == "no solution found"


def test_solve_plays_more_numbers_than_the_checkpoint_was_trained_on(capsys, trained_workdir):
  args = ("solve", "--workdir", str(trained_workdir), "--json", "1 1 1 1 24")
  assert_usage_error(run(capsys, *args), "expected 4 numbers, got 5")
  code, out, _ = run(capsys, *args, "--config.env.max_numbers=5")
  record = json.loads(out)
  assert code == 0 and record["problem"] == "1 1 1 1 24 -> 24"
  assert not record["solved"] or Countdown.reference_check(record["problem"], record["answer"])


def test_eval_writes_results_report_and_plot(capsys, trained_workdir, tmp_path):
  code, out, _ = run(capsys, "eval", "--workdir", str(trained_workdir), "--limit", "12",
                     "--strategies", "greedy,mcts", "--budgets", "2,4", "--out", str(tmp_path),
                     "--no-progress")
  assert code == 0
  summary = json.loads((tmp_path / "results.json").read_text())
  assert summary["suite"] == {"name": "game24", "version": "1.0.0", "split": "test"}
  assert summary["checkpoint"]["steps"] == [6] and summary["oracle_modes"] == [True]
  assert [(r["step"], r["oracle"], r["strategy"], r["budget"]) for r in summary["runs"]] == [
      (6, True, "greedy", 1), (6, True, "mcts", 2), (6, True, "mcts", 4)]
  for r in summary["runs"]:
    assert len(r["results"]) == 12 and r["disagreements"] == 0
    expected_nfe = 3 * (1 if r["strategy"] == "greedy" else r["budget"] + 1)
    assert all(p["nfe"] == expected_nfe for p in r["results"])  # 3 moves per puzzle, counted exactly
    assert r["accuracy"] == sum(p["reference_check"] for p in r["results"]) / 12
  assert "| mcts |" in (tmp_path / "report.md").read_text()
  assert (tmp_path / "scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_console_command_reports_one_line(tmp_path):
  result = subprocess.run(
      [sys.executable, "-m", "alphareason.cli", "train", "--config", TINY, "--workdir",
       str(tmp_path), "--config.train.num_iterations=-3"], capture_output=True, text=True)
  assert result.returncode == 2
  assert result.stderr.strip().splitlines() == [
      "alphareason: error: bad config: train.num_iterations must be at least 1, got -3"]


def test_solve_reads_a_problems_file(capsys, trained_workdir, tmp_path):
  path = tmp_path / "puzzles.txt"
  path.write_text("1 1 1 1\n\n2 2 2 2\n")
  code, out, _ = run(capsys, "solve", "--workdir", str(trained_workdir), "--problems", str(path))
  assert code == 0
  assert out.splitlines() == ["1 1 1 1 -> 24: no solution found", "2 2 2 2 -> 24: no solution found"]
  assert_usage_error(run(capsys, "solve", "--workdir", str(trained_workdir), "--problems",
                         str(tmp_path / "missing.txt")), "problems file not found")


@pytest.mark.slow  # evaluates each checkpoint twice
def test_eval_of_several_checkpoints_with_and_without_the_oracle(capsys, trained_workdir, tmp_path):
  code, out, _ = run(capsys, "eval", "--workdir", str(trained_workdir), "--limit", "6",
                     "--strategies", "bestofn", "--budgets", "2,4", "--steps", "all",
                     "--compare-oracle", "--out", str(tmp_path), "--no-progress")
  assert code == 0
  summary = json.loads((tmp_path / "results.json").read_text())
  assert summary["checkpoint"]["steps"] == [2, 4, 6] and summary["oracle_modes"] == [True, False]
  keys = {(r["step"], r["oracle"], r["strategy"], r["budget"]) for r in summary["runs"]}
  assert len(keys) == len(summary["runs"]) == 3 * 2 * 2  # steps, oracle modes, budgets
  by = {(r["step"], r["oracle"], r["strategy"], r["budget"]): r for r in summary["runs"]}
  # Hiding the verifier costs best-of-N one value judgement per sample.
  assert by[(6, False, "bestofn", 4)]["mean_nfe"] == by[(6, True, "bestofn", 4)]["mean_nfe"] + 4
  report = (tmp_path / "report.md").read_text()
  assert "## Step 2, verifier in search (oracle)" in report
  assert "## Step 6, verifier hidden: the learned value judges" in report
  assert (tmp_path / "iso_accuracy.png").read_bytes()[:4] == b"\x89PNG"


def test_eval_and_solve_search_at_the_value_scale_given(capsys, trained_workdir, tmp_path):
  code, _, _ = run(capsys, "eval", "--workdir", str(trained_workdir), "--limit", "2",
                   "--strategies", "mcts", "--budgets", "2", "--value-scale", "0.05",
                   "--out", str(tmp_path), "--no-progress")
  assert code == 0 and json.loads((tmp_path / "results.json").read_text())["value_scale"] == 0.05
  assert "at value scale 0.05." in (tmp_path / "report.md").read_text()
  for command in (["eval"], ["solve", "1 5 5 5"]):
    assert_usage_error(run(capsys, *command, "--workdir", str(trained_workdir),
                           "--value-scale", "0"), "the value scale must be above 0, got 0.0")


@pytest.mark.slow  # compiles restarted searches
def test_eval_restarts_up_to_the_count_given(capsys, trained_workdir, tmp_path):
  code, _, _ = run(capsys, "eval", "--workdir", str(trained_workdir), "--limit", "2",
                   "--strategies", "mcts-restarts", "--budgets", "2", "--restarts", "7",
                   "--root-noise", "3", "--oracle", "--out", str(tmp_path), "--no-progress")
  summary = json.loads((tmp_path / "results.json").read_text())
  assert code == 0 and (summary["restarts"], summary["root_noise"]) == (7, 3.0)
  unsolved = [r for r in summary["runs"][0]["results"] if not r["solved"]]
  assert unsolved and all(r["nfe"] >= 7 * 3 for r in unsolved)  # 7 searches of a move or more
  assert ("mcts-restarts searches a problem up to 7 times, with root noise of scale 3."
          in (tmp_path / "report.md").read_text())
  assert_usage_error(run(capsys, "eval", "--workdir", str(trained_workdir), "--restarts", "0"),
                     "restarts must be at least 1, got 0")
  assert_usage_error(run(capsys, "eval", "--workdir", str(trained_workdir), "--root-noise", "-1"),
                     "the root noise must be at least 0, got -1.0")


def test_a_batch_that_does_not_divide_over_the_devices_is_refused(tmp_path):
  # Four forced CPU devices in a fresh process: a self-play batch of 18 cannot be split.
  result = subprocess.run(
      [sys.executable, "-m", "alphareason.cli", "train", "--config", TINY, "--workdir",
       str(tmp_path), "--config.train.selfplay_batch_size=18"], capture_output=True, text=True,
      env={**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
           "JAX_PLATFORMS": "cpu"})
  assert result.returncode == 2
  assert result.stderr.strip().splitlines() == [
      "alphareason: error: bad config: train.selfplay_batch_size=18 must divide evenly over "
      "the 4 devices"]


def test_compiled_programs_are_kept_in_the_user_cache_unless_the_user_chose_one(
    monkeypatch, tmp_path):
  import jax

  from alphareason.cli import use_compilation_cache
  chosen = jax.config.jax_compilation_cache_dir  # the test run's own (conftest.py)
  monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
  try:
    use_compilation_cache()
    assert jax.config.jax_compilation_cache_dir == chosen
    jax.config.update("jax_compilation_cache_dir", None)
    use_compilation_cache()
    assert jax.config.jax_compilation_cache_dir == str(tmp_path / "alphareason" / "xla")
  finally:
    jax.config.update("jax_compilation_cache_dir", chosen)
