"""check_env on deliberately broken envs, and the `alphareason check` command."""

import sys

import pytest

import broken_envs
from alphareason import cli
from alphareason.checker import EnvContractError, check_env
from alphareason.cli import main

EPISODES = 8  # enough for every broken env to show its fault; compiling dominates anyway


def failures_by_check(report) -> dict[str, str]:
  """{check name: its failure message} for each failed check."""
  return dict(line.split(": ", 1) for line in report.failures)


def run(capsys, *argv):
  code = main(list(argv))
  out, err = capsys.readouterr()
  return code, out, err


def test_a_correct_env_passes_every_check():
  report = check_env(broken_envs.Climb(), episodes=EPISODES, strict=False)
  assert report.ok and not report.skipped, str(report)
  for name in ("step jits and vmaps", "step is pure", "live states have a legal action",
               "step output reward is float32[]", "observations and rewards are finite",
               "reward paid at most once", "finished states do not change",
               "an illegal action ends the episode unpaid",
               "reference_check accepts every solved episode"):
    assert name in report.passed
  check_env(broken_envs.Climb(), episodes=EPISODES)  # strict: raises on any failure


# (broken env, {failed check: words its message must hold}); no other check may fail.
BROKEN = [
    (broken_envs.BranchesOnTracer, {"step jits and vmaps":
                                    "step cannot be jitted: TracerBoolConversionError: "}),
    (broken_envs.CallsItem, {"step jits and vmaps":
                             "step cannot be jitted: ConcretizationTypeError: "}),
    (broken_envs.StepRaises, {"step jits and vmaps": "step raises ValueError: no way up"}),
    (broken_envs.ReadsGlobalCounter, {"step is pure": "step is impure: two separately jitted "
                                      "copies gave different observation"}),
    (broken_envs.ReadsNumpyRandom, {"step is pure": "step is impure"}),
    (broken_envs.ForgetsTheMask, {"live states have a legal action":
                                  "legal_action_mask is all false in live episode"}),
    (broken_envs.StartsWithoutMoves, {"initial states have a legal action":
                                      "legal_action_mask is all false in live episode"}),
    (broken_envs.IntObservation, {"init output observation is float32[2]": "got int32[2]"}),
    (broken_envs.VectorReward, {"step output reward is float32[]": "got float32[1]"}),
    (broken_envs.FloatStepCount, {"step output step_count is int32[]": "got float32[]"}),
    (broken_envs.NanObservation, {"observations and rewards are finite":
                                  "NaN in observation of episode"}),
    (broken_envs.InfiniteReward, {"observations and rewards are finite":
                                  "inf in reward of episode"}),
    (broken_envs.PaysTwice, {"reward paid at most once": "was paid more than once",
                             "reward paid only on the terminating step": "after it had finished"}),
    (broken_envs.MovesAfterTheEnd, {"finished states do not change":
                                    "changed position on step"}),
]


@pytest.mark.parametrize("env_class, expected", BROKEN, ids=[c.__name__ for c, _ in BROKEN])
def test_each_broken_env_fails_the_check_that_names_its_fault(env_class, expected):
  report = check_env(env_class(), episodes=EPISODES, strict=False)
  failures = failures_by_check(report)
  assert set(failures) == set(expected), str(report)
  for name, words in expected.items():
    assert words in failures[name], failures[name]
  # Messages stay one line, however long JAX's error is.
  assert all("\n" not in failure for failure in report.failures)


def test_checks_that_need_a_working_step_are_skipped_not_crashed():
  with pytest.raises(EnvContractError) as raised:
    check_env(broken_envs.BranchesOnTracer(), episodes=EPISODES)
  text = str(raised.value)
  assert "  FAIL  step jits and vmaps: step cannot be jitted" in text
  assert "  skip  random play" in text and "step is pure" not in text
  # The host side needs only problems, so it still runs.
  assert "  pass  problem_text and parse_problem round-trip" in text


# --- the command line ---------------------------------------------------------------

def test_check_passes_a_registered_env(capsys):
  code, out, err = run(capsys, "check", "game24-v0", "--episodes", "4", "--seed", "3")
  assert code == 0, out + err
  assert out.startswith("check_env(game24-v0): ok") and "FAIL" not in out
  assert "  pass  step is pure" in out and "  pass  reward paid at most once" in out


def test_check_fails_a_broken_env_with_status_1(capsys):
  code, out, err = run(capsys, "check", "broken_envs:PaysTwice", "--episodes", "4")
  assert code == 1 and not err
  assert "check_env(PaysTwice): FAILED 2 of" in out
  assert "  FAIL  reward paid at most once: episode " in out
  assert "  pass  step is pure" in out  # one line per check, passes included


@pytest.mark.parametrize("argv, message", [
    (["no_such_module_for_check:Env"], "no module named 'no_such_module_for_check'"),
    (["broken_envs:Nope"], "module 'broken_envs' has no attribute 'Nope'"),
    (["broken_envs:NOT_AN_ENV"], "NOT_AN_ENV is not an Env subclass, factory or instance"),
    (["broken_envs:State"], "not a subclass of alphareason.Env"),
    (["broken_envs:"], "expected a registered env id or module:attribute"),
    (["nope-v0"], "unknown env id 'nope-v0'"),
    (["game24-v0", "--episodes", "0"], "--episodes must be at least 1"),
    (["game24-v0", "--seed", "x"], "invalid int value: 'x'"),
])
def test_check_reports_a_bad_target_in_one_line(capsys, argv, message):
  code, out, err = run(capsys, "check", *argv)
  assert code == 2 and not out, out
  lines = err.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith("alphareason: error: "), err
  assert message in lines[0], lines[0]


def test_check_reports_a_module_that_fails_to_import_in_one_line(capsys, tmp_path, monkeypatch):
  (tmp_path / "check_syntax_error_module.py").write_text("def broken(:\n")
  monkeypatch.chdir(tmp_path)
  code, _, err = run(capsys, "check", "check_syntax_error_module:Env")
  assert code == 2 and len(err.strip().splitlines()) == 1
  assert "cannot import 'check_syntax_error_module': SyntaxError" in err


def test_check_imports_an_env_class_factory_or_instance():
  assert type(cli._load_env("broken_envs:Climb")) is broken_envs.Climb
  assert type(cli._load_env("broken_envs:make_climb")) is broken_envs.Climb
  assert cli._load_env("broken_envs:CLIMB") is broken_envs.CLIMB


def test_check_imports_from_the_current_directory(tmp_path, monkeypatch):
  (tmp_path / "check_cwd_module.py").write_text(
      "from broken_envs import Climb\n\nclass MyEnv(Climb):\n  pass\n")
  monkeypatch.chdir(tmp_path)
  path_before = list(sys.path)
  env = cli._load_env("check_cwd_module:MyEnv")
  assert type(env).__name__ == "MyEnv" and isinstance(env, broken_envs.Climb)
  assert sys.path == path_before  # the current directory was on the path only to import
