"""The agents shipped with the package load by name and solve, without training."""

import pytest

import alphareason as ar

# A problem each shipped agent solves with its default search, answers re-checked below.
PROBLEMS = {
    "add": "12345678+87654329",
    "countdown": "10 20 30 40 -> 100",
    "countdown9": "3 7 9 12 25 50 75 -> 812",  # 7 numbers: beyond the 4-to-6 agent's env
    # reasoning-gym's futoshiki (7x7, seed 1), in its own layout
    "futoshiki": ("6   _   2   _   4   1   _\n\n_   _   _   _   1   _   _\n\n_   3   6   7   5   _   _\n\n"
                  "_   2   _   _   _ > _   _\n\n4   1   7   _   _   _   _\n\n_   _   _   3   _   6 > _\n\n"
                  "1   5   _   _   2   _   4"),
    "game24": "4 9 10 13",
    "mul": "987 * 654",
    "n_queens": "Q" + "." * 63,  # 8x8, one queen given
    "sudoku4": "..2..4.143......",
    "tower_of_hanoi": "7 disks, 4 pegs, Peg 1 -> Peg 3",
    # reasoning-gym's sudoku (its defaults), 49 clues
    "sudoku9": "86..9354.4.38271..1974....3.8..1479554197.6..73....42.62578931....24..76...6318..",
}


def test_every_shipped_agent_is_tested_here():
  assert sorted(ar.shipped_agents()) == sorted(PROBLEMS)


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_a_shipped_agent_loads_by_name_and_solves(name):
  agent = ar.load_agent(name)
  solution, = ar.solve(agent, PROBLEMS[name])
  assert solution.solved, f"{name} found no answer to {PROBLEMS[name]!r}"
  assert type(agent.env).reference_check(solution.problem, solution.answer)


def test_agents_lists_each_with_its_own_search_and_score(capsys):
  from alphareason.cli import main
  assert main(["agents"]) == 0
  out = capsys.readouterr().out
  assert all(name in out for name in PROBLEMS)
  lines = [line for line in out.splitlines() if line and not line[0].isspace()]
  rows = {line.split()[0]: line.split(maxsplit=2)[1:] for line in lines}
  assert rows["game24"] == [
      "game24-v0", "mcts-restarts at 64 (16 restarts, root noise 10, value scale 0.3)"]
  assert rows["add"] == ["add-v0", "greedy"]
  assert "game24 test: 99.4%" in out
  # The env ids in one column, past the longest name.
  assert len({line.index(" " + line.split()[1]) for line in lines}) == 1


def test_the_sudoku9_agent_solves_a_17_clue_puzzle_with_its_own_search():
  # The first of suites/data/sudoku17.txt: the fewest clues a unique solution allows.
  agent = ar.load_agent("sudoku9")
  assert agent.search.strategy == "dfs"
  puzzle = "000000010400000000020000000000050407008000300001090000300400200050100000000806000"
  solution, = ar.solve(agent, puzzle)
  assert solution.solved and type(agent.env).reference_check(puzzle, solution.answer)
