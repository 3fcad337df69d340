"""reasoning-gym interop: rg's entries become problems our envs parse, and our answers,
converted, get full marks from rg's own verifiers exactly when they are right."""

import json
import os
import subprocess
import sys

import pytest

import alphareason
from alphareason.suites import countdown_solver as solver
from alphareason.envs.countdown import Countdown
from alphareason.errors import UsageError
from alphareason.interop import reasoning_gym as interop

SEEDS = (0, 1, 2)
ARITHMETIC = ("countdown", "countdown/harder", "puzzle24", "puzzle24/harder")
SUDOKU = ("mini_sudoku", "mini_sudoku/harder", "sudoku")
NUMBERS = ("products", "basic_arithmetic/sums")
ENV_IDS = {"countdown": "countdown-v0", "puzzle24": "game24-v0", "mini_sudoku": "sudoku4-v0",
           "sudoku": "sudoku9-v0", "products": "mul-v0", "basic_arithmetic": "add-v0"}


@pytest.fixture(scope="module", autouse=True)
def reasoning_gym():
  return pytest.importorskip("reasoning_gym")


def load(spec, size, seed, **config):
  return interop.load_rg_problems(spec, size, seed, **config)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("spec", ARITHMETIC + SUDOKU + NUMBERS)
def test_entries_become_problems_their_env_parses(spec, seed):
  problems = load(spec, 6, seed)
  assert problems.env_id == ENV_IDS[spec.partition("/")[0]]
  assert len(problems) == len(problems.entries) == 6
  env = problems.make_env()
  problems.check_env(env)
  for text, entry in zip(problems.problem_texts, problems.entries):
    # Our canonical text, read back unchanged: the conversion writes the env's own format.
    assert env.problem_text(env.parse_problem(text)) == text
    meta = entry["metadata"]
    if problems.name in ("countdown", "puzzle24"):
      numbers, _, target = text.partition(" -> ")
      assert [int(x) for x in numbers.split()] == meta["numbers"]
      assert int(target) == meta.get("target", 24)
    elif problems.name in ("products", "basic_arithmetic"):
      assert text == meta["expression"] and entry["answer"] == str(eval(text))
    else:
      cells = [cell for row in meta["puzzle"] for cell in row]
      assert [int(ch) if ch != "." else 0 for ch in text] == cells


@pytest.mark.parametrize("spec", ("countdown", "puzzle24", "puzzle24/harder"))
def test_solver_answers_pass_our_check_and_get_rg_full_marks(spec):
  for seed in SEEDS[:2]:
    problems = load(spec, 3, seed)
    env = problems.make_env()
    for index, text in enumerate(problems.problem_texts):
      problem = env.parse_problem(text)
      answer = solver.solve(problem.numbers[:int(problem.count)].tolist(), int(problem.target))
      assert answer is not None, text  # rg's problems are solvable by construction
      assert Countdown.reference_check(text, answer)
      assert problems.score(index, answer) == 1.0


@pytest.mark.parametrize("spec", ARITHMETIC)
def test_wrong_arithmetic_answers_score_below_one(spec):
  problems = load(spec, 6, 0)
  for index, text in enumerate(problems.problem_texts):
    numbers, _, target = text.partition(" -> ")
    numbers = numbers.split()
    wrong = ["+".join(numbers), "*".join(numbers), "-".join(numbers)]
    # An unfinished episode's answer: its live expressions joined by " ; ".
    wrong.append(f"{numbers[0]}+{numbers[1]} ; {' ; '.join(numbers[2:])}")
    if problems.name == "countdown":
      wrong.append(target)  # the right value without the numbers; rg's puzzle24 does not check them
    for answer in wrong:
      if Countdown.reference_check(text, answer):
        continue  # by chance a right answer (such as 1+5+9+9 for 24)
      assert problems.score(index, answer) < 1.0, (text, answer)


def test_the_harder_countdown_keeps_rgs_own_answers_full_marks():
  # rg's certificates pass through the expression conversion unchanged; the solver is too
  # slow for 9 numbers to use here.
  problems = load("countdown/harder", 20, 0)
  assert any(len(text.split(" -> ")[0].split()) > 6 for text in problems.problem_texts)
  for index, entry in enumerate(problems.entries):
    assert problems.to_rg_answer(entry["answer"]) == entry["answer"]
    assert problems.score(index, entry["answer"]) == 1.0


@pytest.mark.parametrize("spec", NUMBERS)
def test_arithmetic_answers_get_rg_full_marks_exactly_when_right(spec):
  from alphareason.envs.arithmetic import Arithmetic

  problems = load(spec, 20, 0)
  env = problems.make_env()
  assert {len(t.split()[0]) for t in problems.problem_texts} == set(range(1, 6 if spec == "products" else 5))
  for index, text in enumerate(problems.problem_texts):
    problem = env.parse_problem(text)
    # The env's hidden reference, written out as its own answer text, gets full marks.
    answer = env.decode_answer([t for t in problem.reference.tolist() if t >= 0])
    assert Arithmetic.reference_check(text, answer)
    assert problems.score(index, answer) == 1.0
    assert problems.score(index, f" {answer}\n") == 1.0  # our stray spaces never cost a mark
    for wrong in (answer + "1", str(int(answer) + 1), ""):
      assert not Arithmetic.reference_check(text, wrong)
      assert problems.score(index, wrong) < 1.0
    # rg's products reads numbers leniently and takes "0042" for 42, which our check
    # refuses; the env's legal moves never write a leading zero, so the two cannot differ.
    padded = problems.score(index, "00" + answer)
    assert padded == 1.0 if spec == "products" else padded < 1.0


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("spec", SUDOKU)
def test_rg_sudoku_solution_round_trips_through_our_answer_format(spec, seed):
  problems = load(spec, 4, seed)
  for index, (text, entry) in enumerate(zip(problems.problem_texts, problems.entries)):
    answer = interop.grid_text(entry["metadata"]["solution"])  # our one-line answer format
    assert len(answer) == len(text) and "." not in answer
    assert all(p in (".", a) for p, a in zip(text, answer))  # it keeps every clue
    assert problems.to_rg_answer(answer) == entry["answer"]
    assert problems.score(index, answer) == 1.0


@pytest.mark.parametrize("spec", SUDOKU)
def test_wrong_or_unfinished_sudoku_answers_score_below_one(spec):
  problems = load(spec, 3, 0)
  for index, entry in enumerate(problems.entries):
    answer = interop.grid_text(entry["metadata"]["solution"])
    swapped = answer[1] + answer[0] + answer[2:]  # two cells of the first row exchanged
    empty = problems.problem_texts[index].index(".")
    unfinished = answer[:empty] + "." + answer[empty + 1:]
    for wrong in (swapped, unfinished, problems.problem_texts[index]):
      assert problems.score(index, wrong) < 1.0
    assert "_" in problems.to_rg_answer(unfinished)  # rg's mark for an empty cell


@pytest.mark.parametrize("spec", SUDOKU)
def test_rg_sudoku_solutions_pass_our_reference_check(spec):
  from alphareason.envs.sudoku import Sudoku

  problems = load(spec, 3, 1)
  for text, entry in zip(problems.problem_texts, problems.entries):
    answer = interop.grid_text(entry["metadata"]["solution"])
    assert Sudoku.reference_check(text, answer)
    assert not Sudoku.reference_check(text, answer[1] + answer[0] + answer[2:])


def test_env_overrides_reproduce_rgs_ranges():
  assert load("countdown", 1, 0).env_overrides == {}  # rg's defaults are countdown-v0's
  assert load("countdown/harder", 1, 0).env_overrides == dict(min_numbers=3, max_numbers=9)
  assert load("puzzle24/harder", 1, 0).env_overrides == dict(max_value=6)
  assert load("mini_sudoku", 1, 0).env_overrides == dict(max_clues=8)  # 8..12 empty of 16
  assert load("sudoku", 1, 0).env_overrides == dict(min_clues=31, max_clues=51)
  assert load("products", 1, 0).env_overrides == dict(max_digits=5)
  assert load("products/d3", 1, 0).env_overrides == {}  # mul-v0's own 1 to 3 digits
  assert load("basic_arithmetic/sums", 1, 0).env_overrides == dict(max_digits=4)
  env = load("countdown/harder", 1, 0).make_env()
  assert (env.min_numbers, env.max_numbers, env.min_value, env.max_target) == (3, 9, 1, 999)


def test_check_env_names_the_settings_a_checkpoint_lacks():
  harder = load("countdown/harder", 20, 0)
  with pytest.raises(UsageError, match=r"rg:countdown/harder problem \d+ does not fit this "
                     r"countdown-v0 .*expected 4 to 6 numbers.*it needs countdown-v0 with "
                     r"--config.env.min_numbers=3 --config.env.max_numbers=9"):
    harder.check_env(alphareason.make("countdown-v0"))
  with pytest.raises(UsageError,
                     match="rg:countdown is played by countdown-v0; this env is game24-v0"):
    load("countdown", 2, 0).check_env(alphareason.make("game24-v0"))
  # A game24-v0 env as registered (values up to 13) plays rg's puzzle24 (up to 10).
  load("puzzle24", 10, 0).check_env(alphareason.make("game24-v0"))


@pytest.mark.parametrize("spec, config, message", [
    ("countdown", dict(max_numbers=12), r"countdown with max_numbers=12 does not fit "
                                        r"countdown-v0: need .* max_numbers <= 9"),
    ("countdown", dict(max_numbers=3), "reasoning-gym rejects countdown with max_numbers=3: "
                                       "max_numbers must be >= min_numbers"),
    ("countdown", dict(numbers=5),
     "countdown has no config field numbers; its fields: min_numbers"),
    ("puzzle24", dict(operators=("+", "*")), r"puzzle24 with operators \('\+', '\*'\) is not "
                                             "supported: game24-v0 always allows"),
    ("puzzle24", dict(max_value=13), "reasoning-gym rejects puzzle24 with max_value=13"),
    ("mini_sudoku", dict(min_empty=0), "needs at least one empty cell"),
    ("sudoku/harder", {}, "reasoning-gym sudoku has no preset 'harder'; it has default"),
    ("basic_arithmetic", {}, "basic_arithmetic with its defaults is not supported: add-v0 adds "
                             "two whole numbers; rg:basic_arithmetic/sums is that part"),
    ("basic_arithmetic/sums", dict(operators=("+", "-")),
     r"basic_arithmetic with .*operators=\('\+', '-'\).* is not supported"),
    ("products", dict(max_terms=3), "products with max_terms=3 is not supported: mul-v0 "
                                    "multiplies two whole numbers"),
    ("products", dict(max_digits=2000), "products with max_digits=2000 does not fit mul-v0"),
    ("chess", {}, "unknown reasoning-gym dataset 'chess'; supported: countdown, puzzle24"),
])
def test_what_our_envs_cannot_hold_is_a_one_line_usage_error(spec, config, message):
  with pytest.raises(UsageError, match=message) as error:
    load(spec, 2, 0, **config)
  assert "\n" not in str(error.value)


def test_configs_are_rgs_defaults_and_the_reported_presets(reasoning_gym):
  assert interop.rg_config("countdown") == dict(
      min_numbers=4, max_numbers=6, min_value=1, max_value=100, min_target=100, max_target=999,
      operators=("+", "-", "*", "/"), shuffle=True)
  assert interop.rg_config("puzzle24")["max_value"] == 10
  assert interop.rg_config("mini_sudoku") == dict(min_empty=8, max_empty=12)
  assert interop.rg_config("countdown", "harder")["min_numbers"] == 3
  assert interop.rg_config("rg:puzzle24/harder") == dict(
      operators=("+", "-", "*", "/"), min_value=1, max_value=6)
  # The presets' fields reach rg's generator.
  entries = load("countdown/harder", 30, 0).entries
  assert {len(e["metadata"]["numbers"]) for e in entries} <= set(range(3, 10))
  assert max(len(e["metadata"]["numbers"]) for e in entries) > 6
  numbers = [x for e in load("puzzle24/harder", 20, 0).entries for x in e["metadata"]["numbers"]]
  assert max(numbers) <= 6
  empty = [e["metadata"]["num_empty"] for e in load("mini_sudoku/harder", 20, 0).entries]
  assert all(6 <= n <= 10 for n in empty)
  # Explicit fields go on top of the preset's.
  problems = load("countdown/harder", 5, 0, max_numbers=4)
  assert (problems.config["min_numbers"], problems.config["max_numbers"]) == (3, 4)
  assert all(len(t.split(" -> ")[0].split()) in (3, 4) for t in problems.problem_texts)


def test_same_size_and_seed_give_the_same_problems():
  first, again, other = load("countdown", 5, 7), load("countdown", 5, 7), load("countdown", 5, 8)
  assert first.problem_texts == again.problem_texts != other.problem_texts
  assert first.rg_version.count(".") >= 2 and first.rg_version in first.description


def test_score_run_adds_rgs_verdict_to_evaluator_rows():
  problems = load("puzzle24", 4, 3)
  rows = []
  for index, text in enumerate(problems.problem_texts):
    numbers = [int(x) for x in text.split(" -> ")[0].split()]
    answer = solver.solve(numbers, 24) if index % 2 == 0 else "+".join(map(str, numbers))
    checked = Countdown.reference_check(text, answer)
    rows.append(dict(problem=text, solved=checked, nfe=1, answer=answer, reference_check=checked))
  run = problems.score_run(dict(strategy="mcts", budget=8, results=rows[:3]))  # as with --limit 3
  assert [r["rg_score"] >= 1.0 for r in run["results"]] == [r["reference_check"] for r in rows[:3]]
  assert run["rg_solved"] == sum(r["reference_check"] for r in rows[:3])
  assert run["rg_disagreements"] == 0 and run["strategy"] == "mcts"
  assert run["rg_accuracy"] == run["rg_solved"] / 3
  with pytest.raises(ValueError, match="row 0 is"):
    problems.score_run(dict(results=rows[1:]))


def test_rg_suites_serve_the_problems_as_a_test_split():
  from alphareason import suites

  problems = load("mini_sudoku/harder", 5, 0)
  suite = suites.load_suite("rg:mini_sudoku/harder", rg_size=5, rg_seed=0)
  assert suite.external.problem_texts == problems.problem_texts
  assert (suite.name, suite.env_id, suite.version) == (
      "rg:mini_sudoku/harder", "sudoku4-v0", problems.rg_version)
  assert suite.split("test") == problems.problem_texts
  assert suite.examples["test"][0]["metadata"] == problems.entries[0]["metadata"]


def test_without_the_extra_the_module_imports_and_says_how_to_install():
  # A fresh interpreter where reasoning_gym cannot be imported, as without the extra.
  code = ("import sys; sys.modules['reasoning_gym'] = None\n"
          "from alphareason.interop import reasoning_gym as interop\n"
          "from alphareason.errors import UsageError\n"
          "try:\n  interop.load_rg_problems('countdown', 2, 0)\n"
          "except UsageError as error:\n  print(error)\n")
  env = dict(os.environ, JAX_PLATFORMS="cpu")
  result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=True, timeout=120)
  assert "needs the reasoning-gym package" in result.stdout
  assert "pip install 'alphareason[interop]'" in result.stdout


def test_rgs_puzzle24_verifier_is_more_lenient_than_our_check():
  # Why rg_disagreements can be nonzero on puzzle24: rg checks four numbers in its value
  # range and int(value) == 24, not the problem's numbers nor an exact 24.
  problems = load("puzzle24", 1, 0)
  text = problems.problem_texts[0]
  assert text == "1 3 5 9 -> 24"
  for answer in ("6*4*1*1", "7*7/2*1"):  # other numbers; 24.5
    assert not Countdown.reference_check(text, answer)
    assert problems.score(0, answer) == 1.0


def test_eval_scores_rg_problems_with_rgs_verifier_beside_ours(trained_workdir, tmp_path, capsys):
  from alphareason.cli import main
  status = main(["eval", "--workdir", str(trained_workdir), "--suite", "rg:puzzle24",
                 "--rg-size", "12", "--rg-seed", "3", "--strategies", "greedy,mcts",
                 "--budgets", "8", "--out", str(tmp_path), "--no-progress"])
  printed = capsys.readouterr()
  assert status == 0, printed.err
  assert "reasoning-gym" in printed.out
  summary = json.loads((tmp_path / "results.json").read_text())
  assert summary["suite"]["name"] == "rg:puzzle24"
  assert summary["suite"]["reasoning_gym"]["size"] == 12
  expected = load("puzzle24", 12, 3)
  for run in summary["runs"]:
    assert [row["problem"] for row in run["results"]] == list(expected.problem_texts)
    for index, row in enumerate(run["results"]):
      assert row["rg_score"] == expected.score(index, row["answer"])
      assert (row["rg_score"] >= 1.0) == row["reference_check"]
    assert run["rg_solved"] == run["solved"] and run["rg_disagreements"] == 0


def test_eval_refuses_rg_problems_the_checkpoint_cannot_play(trained_workdir, capsys):
  from alphareason.cli import main
  status = main(["eval", "--workdir", str(trained_workdir), "--suite", "rg:countdown",
                 "--rg-size", "4", "--no-progress"])
  assert status == 2
  error = capsys.readouterr().err.strip()
  assert len(error.splitlines()) == 1 and "countdown-v0" in error


def test_a_dataset_is_registered_once_and_default_names_rgs_own_config():
  with pytest.raises(ValueError, match="'countdown' is already registered .*countdown-v0"):
    alphareason.register_rg_task("countdown", "countdown-v0", problem_text=str)
  with pytest.raises(ValueError, match="'default' is rg's own config"):
    alphareason.register_rg_task("knight_swap", "game24-v0", problem_text=str,
                                 presets=dict(default=dict(n=4)))
  assert "knight_swap" not in interop.supported()


def test_a_plugins_dataset_gives_way_to_any_other_registration(monkeypatch):
  from alphareason import registry
  from alphareason.interop import reasoning_gym
  monkeypatch.setattr(reasoning_gym, "_TASKS", dict(reasoning_gym._TASKS))
  monkeypatch.setattr(reasoning_gym, "_plugin_tasks", set())
  monkeypatch.setattr(registry, "_loading_plugin", True)  # as load_plugins sets it
  alphareason.register_rg_task("countdown", "game24-v0", problem_text=str)
  alphareason.register_rg_task("plugin_dataset", "mul-v0", problem_text=str)
  monkeypatch.setattr(registry, "_loading_plugin", False)
  assert reasoning_gym.rg_task("countdown").env_id == "countdown-v0"  # built in: kept
  alphareason.register_rg_task("plugin_dataset", "add-v0", problem_text=str)  # replaces the plug-in's
  assert reasoning_gym.rg_task("plugin_dataset").env_id == "add-v0"
  with pytest.raises(ValueError, match="'plugin_dataset' is already registered .*add-v0"):
    alphareason.register_rg_task("plugin_dataset", "add-v0", problem_text=str)
