"""Tower of Hanoi: the env's rules and budget, its host side, and reasoning-gym's verdicts."""

import itertools
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import alphareason
from alphareason import ProblemError
from alphareason.interop import reasoning_gym as rg_interop
from alphareason.puzzles import tower_of_hanoi as hanoi
from alphareason.puzzles.tower_of_hanoi import TowerOfHanoi, frame_stewart

rg_hanoi = pytest.importorskip("reasoning_gym.games.tower_of_hanoi")

ENV = alphareason.make("tower_of_hanoi-v0")  # 1 to 10 disks, 3 or 4 pegs
SMALL = TowerOfHanoi(min_disks=1, max_disks=3, levels=3)
INIT = jax.jit(ENV.init)
STEP = jax.jit(ENV.step)
ON_TRACK = jax.jit(ENV.on_track)


def rg_dataset(size=40, seed=0, **config):
  return rg_hanoi.HanoiDataset(rg_hanoi.HanoiConfig(size=size, seed=seed, **config))


def action_of(env, problem, line):
  """Our action for reasoning-gym's move line, in `problem`'s canonical pegs."""
  disk, source, destination = map(int, re.match(r"Move disk (\d+) from Peg (\d+) to Peg (\d+)",
                                                line).groups())
  labels = hanoi.canonical_labels(int(problem.num_pegs), int(problem.start), int(problem.target))
  pair = (labels.index(source - 1), labels.index(destination - 1))
  return [tuple(p) for p in env.pairs].index(pair)


def play(env, text, lines, step=STEP):
  """Plays move lines on `text`; returns the states, the initial one first."""
  problem = env.parse_problem(text)
  states = [env.init(problem)]
  for line in lines:
    states.append(step(states[-1], action_of(env, problem, line)))
  return states


def optimal_lines(disks, pegs, start, target):
  """reasoning-gym's generator's solution (pegs from 1)."""
  return rg_hanoi.MoveGenerator(disks, list(range(1, pegs + 1)), start, target).generate_moves()


# --- the budget ------------------------------------------------------------------------

@pytest.mark.parametrize("pegs", [3, 4])
def test_budget_is_the_optimum_and_rg_solution_length(pegs):
  for disks in range(1, hanoi.MAX_DISKS + 1):
    rg_length = len(optimal_lines(disks, pegs, 1, 2))
    assert frame_stewart(disks, pegs) == rg_length
    assert int(ENV.budgets[pegs - 3, disks]) == rg_length, (disks, pegs)
  if pegs == 3:
    assert [frame_stewart(n, 3) for n in range(1, 11)] == [2 ** n - 1 for n in range(1, 11)]


def test_budget_matches_rg_metadata_on_its_entries():
  for config in (dict(), rg_interop.rg_config("tower_of_hanoi", "hard")):
    for entry in rg_dataset(**{k: v for k, v in config.items() if k != "visualize"}):
      meta = entry["metadata"]
      problem = ENV.parse_problem(hanoi.rg_problem(entry))
      assert int(ENV.budget(problem)) == meta["solution_length"]


def test_fewest_moves_table_is_a_true_distance():
  # Every arrangement but the goal has a neighbour one closer and none two closer.
  table = hanoi.fewest_moves_table(4, 4)
  place = 4 ** np.arange(4)
  for code in range(4 ** 4):
    pegs = [(code // p) % 4 for p in place]
    tops = [min([d for d in range(4) if pegs[d] == p], default=4) for p in range(4)]
    near = [table[code + (b - a) * place[tops[a]]] for a, b in itertools.permutations(range(4), 2)
            if tops[a] < tops[b]]
    assert min(near) >= table[code] - 1
    assert table[code] == 0 or min(near) == table[code] - 1


# --- the env ---------------------------------------------------------------------------

def test_settings_and_their_errors():
  assert (ENV.num_actions, ENV.max_steps, ENV.observation_shape) == (12, 1023, (10, 7))
  three = TowerOfHanoi(max_disks=5, max_pegs=3)
  assert (three.num_actions, three.max_steps, three.observation_shape) == (6, 31, (5, 6))
  with pytest.raises(ValueError, match="max_disks <= 10"):
    TowerOfHanoi(max_disks=11)
  with pytest.raises(ValueError, match="max_pegs <= 4"):
    TowerOfHanoi(max_pegs=5)
  with pytest.raises(ValueError, match="levels"):
    TowerOfHanoi(min_disks=3, max_disks=4, levels=3)


@pytest.mark.parametrize("env", [SMALL, TowerOfHanoi(min_disks=2, max_disks=4, min_pegs=4)],
                         ids=["3-4 pegs", "4 pegs"])
def test_check_env(env):
  report = alphareason.check_env(env, episodes=8)
  assert report.ok, report


def test_rg_solutions_are_paid_on_their_last_move_only():
  for entry in rg_dataset(size=20, seed=3, max_disks=6):
    text, lines = hanoi.rg_problem(entry), entry["answer"].splitlines()
    states = play(ENV, text, lines)
    assert all(not bool(s.terminated) and float(s.reward) == 0 for s in states[:-1])
    assert all(bool(ON_TRACK(s)) for s in states)
    assert bool(states[-1].terminated) and float(states[-1].reward) == 1.0
    assert ENV.answer_text(states[-1]) == entry["answer"]


def test_moving_the_same_disk_twice_is_not_legal():
  problem = ENV.parse_problem("3 disks, 3 pegs, Peg 1 -> Peg 3")
  state = STEP(INIT(problem), action_of(ENV, problem, "Move disk 1 from Peg 1 to Peg 3"))
  legal = {tuple(ENV.pairs[a]) for a in np.flatnonzero(state.legal_action_mask)}
  # Disk 1 is on the target (canonical 1): only disk 2, start -> other, remains.
  assert legal == {(0, 2)}
  # Onto a smaller disk, from an empty peg, and to a peg the problem lacks are illegal too.
  initial = INIT(problem)
  legal = {tuple(ENV.pairs[a]) for a in np.flatnonzero(initial.legal_action_mask)}
  assert legal == {(0, 1), (0, 2)}


def test_a_wrong_move_ends_unpaid_by_the_lower_bound():
  # 2 disks, 3 pegs: 3 moves. Disk 1 to the target first leaves disk 2 needing 1 and
  # disk 1 needing 2 (off the target and back): 3 > 2 moves left, a dead end at once.
  problem = ENV.parse_problem("2 disks, 3 pegs, Peg 1 -> Peg 3")
  state = STEP(INIT(problem), action_of(ENV, problem, "Move disk 1 from Peg 1 to Peg 3"))
  assert bool(state.terminated) and float(state.reward) == 0
  # 1 disk to the wrong peg: nothing left to spend.
  problem = ENV.parse_problem("1 disks, 3 pegs, Peg 1 -> Peg 3")
  state = STEP(INIT(problem), action_of(ENV, problem, "Move disk 1 from Peg 1 to Peg 2"))
  assert bool(state.terminated) and float(state.reward) == 0


def test_the_lower_bound_never_ends_an_answer_that_could_still_be_paid():
  # Random play: wherever the bound ends an episode unpaid, the exact distance agrees it
  # is lost, and no episode outlives its budget.
  env = TowerOfHanoi(min_disks=3, max_disks=5)

  @jax.jit
  def random_play(key):
    problem_key, move_key = jax.random.split(key)
    states = jax.vmap(env.init)(jax.vmap(env.sample_problem)(jax.random.split(problem_key, 256)))

    def move(states, key):
      noise = jax.random.uniform(key, states.legal_action_mask.shape)
      actions = jnp.argmax(jnp.where(states.legal_action_mask, noise, -1), -1)
      nxt = jax.vmap(env.step)(states, actions)
      live = ~(states.terminated | states.truncated)
      wrongly_ended = live & nxt.terminated & (nxt.reward == 0) & jax.vmap(env.on_track)(nxt)
      return nxt, (jnp.any(wrongly_ended), jnp.any(live & nxt.truncated), nxt.reward)

    final, (wrongly_ended, truncated, rewards) = jax.lax.scan(
        move, states, jax.random.split(move_key, env.max_steps))
    return final, wrongly_ended, truncated, jnp.sum(rewards, 0)

  final, wrongly_ended, truncated, returns = random_play(jax.random.key(0))
  assert not np.any(wrongly_ended) and not np.any(truncated)
  assert np.all(np.asarray(final.terminated))
  assert 0 < np.mean(np.asarray(returns)) < 1  # random play solves some, not all


def test_on_track_turns_false_at_the_first_wrong_move():
  problem = ENV.parse_problem("5 disks, 4 pegs, Peg 2 -> Peg 4")
  lines = optimal_lines(5, 4, 2, 4)
  states = play(ENV, "5 disks, 4 pegs, Peg 2 -> Peg 4", lines[:4])
  assert all(bool(ON_TRACK(s)) for s in states)
  moves = ENV.on_track_moves(states[-1])
  # The generator's next move is on track; some legal move is not.
  assert bool(moves[action_of(ENV, problem, lines[4])])
  assert np.any(np.asarray(states[-1].legal_action_mask & ~moves))


def test_sampling_follows_the_levels():
  env = TowerOfHanoi(min_disks=2, max_disks=8, levels=4)
  assert [int(env.top_disks(level)) for level in range(4)] == [2, 4, 6, 8]
  sample = jax.jit(jax.vmap(env.sample_problem_at, in_axes=(0, None)))
  for level in range(4):
    problems = sample(jax.random.split(jax.random.key(level), 512), jnp.int32(level))
    disks, pegs = np.asarray(problems.num_disks), np.asarray(problems.num_pegs)
    top = int(env.top_disks(level))
    assert disks.min() == 2 and disks.max() == top
    assert 0.4 < np.mean(disks == top) < 0.8 or top == 2  # half at the top, and more by chance
    assert set(np.unique(pegs)) == {3, 4}
    assert np.all(np.asarray(problems.start) != np.asarray(problems.target))
    assert np.all(np.asarray(problems.target) < pegs)


def test_four_peg_share():
  env = TowerOfHanoi(min_disks=3, max_disks=6, four_peg_share=0.85)
  problems = jax.jit(jax.vmap(env.sample_problem))(jax.random.split(jax.random.key(0), 1024))
  assert 0.8 < np.mean(np.asarray(problems.num_pegs) == 4) < 0.9
  with pytest.raises(ValueError, match="four_peg_share"):
    TowerOfHanoi(min_pegs=4, four_peg_share=0.5)
  with pytest.raises(ValueError, match="four_peg_share"):
    TowerOfHanoi(four_peg_share=1.5)


def test_absent_disks_stand_on_the_target():
  # 4 of 10 disks: the 6 absent (larger) ones show on the target, under everything, so
  # the position is the last stage of a 10-disk one.
  state = INIT(ENV.parse_problem("4 disks, 3 pegs, Peg 1 -> Peg 2"))
  pegs = np.asarray(state.observation)[:, :4].argmax(1)
  assert list(pegs) == [0] * 4 + [1] * 6
  # ... and none of them is ever a top disk, so none can move.
  assert list(np.asarray(state.observation)[:, 4]) == [1] + [0] * 9


# --- the host side ---------------------------------------------------------------------

def test_problem_text_round_trips_on_rg_entries():
  for config in (dict(), dict(min_disks=5, max_disks=10)):
    for entry in rg_dataset(size=30, seed=1, **config):
      text = hanoi.rg_problem(entry)
      problem = ENV.parse_problem(text)
      assert ENV.problem_text(problem) == text
      meta = entry["metadata"]
      ours = [int(x) for x in (problem.num_disks, problem.num_pegs, problem.start, problem.target)]
      assert ours == [meta["num_disks"], meta["num_pegs"], meta["start_peg"] - 1,
                      meta["target_peg"] - 1]


@pytest.mark.parametrize("text, message", [
    ("3 disks on 3 pegs", "reads 'N disks, K pegs, Peg S -> Peg T'"),
    ("11 disks, 3 pegs, Peg 1 -> Peg 3", "1 to 10 disks, not 11"),
    ("0 disks, 3 pegs, Peg 1 -> Peg 3", "1 to 10 disks, not 0"),
    ("3 disks, 5 pegs, Peg 1 -> Peg 3", "3 to 4 pegs, not 5"),
    ("3 disks, 3 pegs, Peg 1 -> Peg 4", "two different pegs of 1 to 3"),
    ("3 disks, 3 pegs, Peg 2 -> Peg 2", "two different pegs"),
])
def test_parse_problem_errors_are_one_clear_line(text, message):
  with pytest.raises(ProblemError, match=re.escape(message)) as error:
    ENV.parse_problem(text)
  assert "\n" not in str(error.value)


def test_parse_problem_accepts_loose_spacing_and_case():
  problem = ENV.parse_problem("  7 DISKS 4 pegs: peg 4 to Peg 1 ")
  assert ENV.problem_text(problem) == "7 disks, 4 pegs, Peg 4 -> Peg 1"


def test_render_shows_the_pegs_and_the_budget():
  states = play(ENV, "3 disks, 3 pegs, Peg 1 -> Peg 3", optimal_lines(3, 3, 1, 3)[:2])
  assert ENV.render(states[-1]) == "Peg 1: 3\nPeg 2: 2\nPeg 3: 1\n2 of 7 moves"


def variants(entry):
  """(name, answer) for an entry: its optimal answer, a longer valid one (disk 1 out and
  back first), an illegal one, an unfinished one, a malformed one and an empty one."""
  lines = entry["answer"].splitlines()
  meta = entry["metadata"]
  spare = next(p for p in range(1, meta["num_pegs"] + 1) if p != meta["start_peg"])
  detour = [f"Move disk 1 from Peg {meta['start_peg']} to Peg {spare}",
            f"Move disk 1 from Peg {spare} to Peg {meta['start_peg']}"]
  illegal = lines[:1] + [lines[0]]  # the same disk from a peg it has left
  return [("optimal", "\n".join(lines)), ("longer", "\n".join(detour + lines)),
          ("illegal", "\n".join(illegal + lines[2:])), ("unfinished", "\n".join(lines[:-1])),
          ("malformed", "\n".join(lines).replace("Move", "move")), ("empty", "")]


def test_reference_check_agrees_with_rg_full_marks():
  dataset = rg_dataset(size=40, seed=7)
  for entry in dataset:
    text = hanoi.rg_problem(entry)
    for name, answer in variants(entry):
      score = dataset.score_answer(hanoi.rg_answer(answer), entry)
      assert TowerOfHanoi.reference_check(text, answer) == (score >= 1.0), (name, text, score)
      if name == "longer":
        assert 0 < score < 1  # rg's partial credit, which we do not count


def test_rg_scores_our_answers_through_the_registered_task():
  problems = rg_interop.load_rg_problems("rg:tower_of_hanoi", size=10, seed=0)
  env = problems.make_env()
  problems.check_env(ENV)  # the registered env parses rg's default problems
  for index, entry in enumerate(problems.entries):
    states = play(env, problems.problem_texts[index], entry["answer"].splitlines(),
                  step=jax.jit(env.step))
    assert problems.score(index, env.answer_text(states[-1])) == 1.0
    assert problems.score(index, env.answer_text(states[-2])) < 1.0


def test_rg_settings_and_presets():
  assert rg_interop.rg_config("tower_of_hanoi", "hard")["max_disks"] == 10
  assert hanoi.rg_settings(rg_interop.rg_config("tower_of_hanoi")) == dict(
      min_disks=3, max_disks=7, min_pegs=3, max_pegs=4)
  with pytest.raises(alphareason.UsageError, match="up to 15 disks"):
    hanoi.rg_settings(dict(min_disks=3, max_disks=15, min_pegs=3, max_pegs=4))
