"""What training can turn on: process supervision, Sudoku's levels, the curriculum's
signal, success-balanced replay. Each one is checked to do what it says, exactly."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import alphareason
from alphareason.env import Env, State
from alphareason.envs.sudoku import grid_text
from alphareason.errors import UsageError
from alphareason.networks import make_network
from alphareason.train.learner import init_train_state, make_iteration, make_optimizer
from alphareason.train.replay import Positions, ReplayBuffer
from conftest import tiny_config


def play(env, state, actions):
  for action in actions:
    state = env.step(state, jnp.int32(action))
  return state


# --- process supervision ---------------------------------------------------------------

def test_supervised_arithmetic_ends_at_the_first_wrong_digit():
  env = alphareason.make("add-v0", max_digits=3)
  problem = env.parse_problem("123 + 45")  # 168, msd first
  supervised = env.supervised()
  assert env.judges_partial_answers and not env._ends_off_track
  right = play(supervised, supervised.init(problem), [1, 6])
  assert not right.terminated and bool(supervised.on_track(right))
  wrong = play(supervised, supervised.init(problem), [1, 7])
  assert wrong.terminated and float(wrong.reward) == 0 and not wrong.legal_action_mask.any()
  assert int(wrong.step_count) == 2
  # The env itself plays on: only its verifier judges, at the end.
  plain = play(env, env.init(problem), [1, 7])
  assert not plain.terminated and not bool(env.on_track(plain))
  solved = play(supervised, supervised.init(problem), [1, 6, 8, env.end_of_answer])
  assert solved.terminated and float(solved.reward) == 1


def test_supervised_sudoku_ends_at_the_first_digit_the_solution_lacks():
  env = alphareason.make("sudoku4-v0")
  problem = jax.jit(env.sample_problem)(jax.random.PRNGKey(3))
  clues, solution = np.asarray(problem.clues), np.asarray(problem.solution)
  assert Sudoku_check(clues, solution)
  cell = int(np.flatnonzero(clues == 0)[0])
  supervised = env.supervised()
  state = supervised.init(problem)
  legal = np.asarray(state.legal_action_mask).reshape(16, 4)[cell]
  right = int(solution[cell]) - 1
  wrong = [d for d in range(4) if legal[d] and d != right]
  after_right = supervised.step(state, jnp.int32(cell * 4 + right))
  assert not after_right.terminated
  if wrong:  # a legal digit that is not the solution's ends the episode unpaid
    after_wrong = supervised.step(state, jnp.int32(cell * 4 + wrong[0]))
    assert after_wrong.terminated and float(after_wrong.reward) == 0
  # A puzzle read from text hides no solution: it is always on track.
  parsed = env.parse_problem(grid_text(clues))
  assert not np.any(np.asarray(parsed.solution)) and bool(env.on_track(env.init(parsed)))
  # The solution is no part of the task: held-out exclusion keys the clues alone.
  assert int(env.problem_key(problem)) == int(env.problem_key(parsed))


def Sudoku_check(clues, solution):
  from alphareason.envs.sudoku import Sudoku
  return Sudoku.reference_check(grid_text(clues), grid_text(solution))


def test_process_supervision_needs_an_env_that_judges_partial_answers():
  config = tiny_config("train.process_supervision=True", "network.family=mlp")
  env = Coin()
  network, optimizer = make_network(config.network, env), make_optimizer(config.train)
  with pytest.raises(UsageError, match="Coin does not"):
    make_iteration(env, network, optimizer, config)
  with pytest.raises(ValueError, match="cannot judge partial answers"):
    env.supervised()


def test_process_levers_are_off_where_nothing_is_judged():
  # The default config sets some; an env that judges no partial answer trains as without.
  from alphareason.train.learner import unjudged_levers
  env = Coin()
  plain = tiny_config("network.family=mlp", "train.process_targets=False",
                      "train.process_target_spread=0", "train.off_track_children=0")
  levers = tiny_config("network.family=mlp", "train.process_targets=True",
                       "train.process_target_spread=0.5", "train.off_track_children=1",
                       "train.move_verdicts=0.5", "train.state_verdicts=True")
  assert unjudged_levers(env, plain.train) == [] and unjudged_levers(env, levers.train) == [
      "train.process_targets", "train.off_track_children", "train.move_verdicts",
      "train.state_verdicts"]
  network, optimizer = make_network(plain.network, env), make_optimizer(plain.train)
  states = []
  for config in (plain, levers):
    state = init_train_state(env, network, optimizer, config)
    states.append(make_iteration(env, network, optimizer, config)(state)[0].params)
  jax.tree.map(np.testing.assert_array_equal, *states)


@pytest.mark.slow  # compiles a lever's training iteration
def test_supervised_self_play_stops_wrong_answers_early():
  config = tiny_config("train.process_supervision=True", "network.family=causal",
                       "network.num_heads=1", "search.max_num_considered_actions=4")
  env = alphareason.make("add-v0", max_digits=2)
  network, optimizer = make_network(config.network, env), make_optimizer(config.train)
  plain_config = tiny_config("network.family=causal", "network.num_heads=1",
                             "search.max_num_considered_actions=4")
  moves = {}
  for name, c in (("supervised", config), ("plain", plain_config)):
    state = init_train_state(env, network, optimizer, c)
    _, metrics = make_iteration(env, network, optimizer, c)(state)
    moves[name] = int(metrics["moves"])
  # An untrained agent writes wrong digits: supervised episodes end at the first one.
  assert moves["supervised"] < moves["plain"]


# --- process targets ---------------------------------------------------------------------

def test_on_track_moves_are_the_digits_of_the_solution_and_the_reference_token():
  env = alphareason.make("sudoku9-v0")
  problem = jax.jit(env.sample_problem)(jax.random.PRNGKey(5))
  state = env.init(problem)
  solution, legal = np.asarray(problem.solution), np.asarray(state.legal_action_mask)
  expected = np.zeros(729, bool)
  for cell in np.flatnonzero(np.asarray(problem.clues) == 0):
    expected[cell * 9 + solution[cell] - 1] = True
  judged = np.asarray(env.on_track_moves(state))
  np.testing.assert_array_equal(judged, expected & legal)
  assert judged.sum() == np.sum(np.asarray(problem.clues) == 0)  # every empty cell's digit
  # Sudoku's direct test agrees with the default, which steps every action.
  np.testing.assert_array_equal(judged, np.asarray(jax.jit(
      lambda s: Env.on_track_moves(env, s))(state)))
  # A token env (the default): the reference's next digit, and the end only when it is due.
  add = alphareason.make("add-v0", max_digits=3)
  partial = play(add, add.init(add.parse_problem("123 + 45")), [1, 6])
  assert np.flatnonzero(np.asarray(add.on_track_moves(partial))).tolist() == [8]
  done = play(add, partial, [8])
  assert np.flatnonzero(np.asarray(add.on_track_moves(done))).tolist() == [add.end_of_answer]


def test_process_targets_keep_only_on_track_moves_of_the_search_policy():
  from alphareason.train.selfplay import on_track_target
  policy = jnp.array([[0.5, 0.3, 0.2, 0.0], [0.25, 0.25, 0.25, 0.25]])
  on_track = jnp.array([[False, True, True, False], [False] * 4])
  np.testing.assert_allclose(on_track_target(policy, on_track),
                             [[0.0, 0.6, 0.4, 0.0], [0.25] * 4], rtol=1e-6)
  # A quarter spread evenly over the two on-track moves.
  np.testing.assert_allclose(on_track_target(policy, on_track, 0.25),
                             [[0.0, 0.575, 0.425, 0.0], [0.25] * 4], rtol=1e-6)
  # Where search gave the on-track moves nothing, they share the target evenly.
  np.testing.assert_allclose(on_track_target(jnp.array([[1.0, 0, 0, 0]]), on_track[:1]),
                             [[0.0, 0.5, 0.5, 0.0]], rtol=1e-6)


@pytest.mark.slow  # compiles a lever's self-play or iteration
def test_self_play_with_process_targets_puts_no_mass_off_track():
  from alphareason.search import SearchConfig
  from alphareason.train.selfplay import play_episodes, sample_problems
  env, batch = alphareason.make("sudoku4-v0"), 16
  config = tiny_config("network.family=grid")
  network = make_network(config.network, env)
  params = network.init(jax.random.PRNGKey(0))
  search = SearchConfig(num_simulations=4, max_num_considered_actions=4)
  problems = sample_problems(env, jax.random.PRNGKey(2), batch)
  rows = {targets: jax.jit(lambda key, targets=targets: play_episodes(
      env.supervised(), network, params, key, batch, search, problems=problems,
      process_targets=targets)[0])(jax.random.PRNGKey(1))
          for targets in (False, True)}
  # The episodes are the same; only the targets of their moves change.
  np.testing.assert_array_equal(rows[True].observation, rows[False].observation)
  # Row t * B + b is move t of episode b.
  solutions = np.asarray(problems.solution)
  moves = env.max_steps * batch
  live = np.flatnonzero(np.asarray(rows[True].policy_weight)[:moves] > 0)
  assert live.size > batch
  solution = np.repeat(solutions[live % batch], 4, axis=1)  # [rows, 64], per action
  on_track = np.asarray(rows[True].legal_action_mask)[live] & (
      np.arange(64) % 4 + 1 == solution)
  plain = np.asarray(rows[False].policy_target)[live]
  kept = np.where(on_track, plain, 0)
  np.testing.assert_allclose(np.asarray(rows[True].policy_target)[live],
                             kept / kept.sum(-1, keepdims=True), atol=1e-6)
  # Search alone put mass off track wherever a legal move was wrong.
  has_wrong_move = np.any(np.asarray(rows[True].legal_action_mask)[live] & ~on_track, -1)
  assert has_wrong_move.sum() > batch
  assert np.all((plain * ~on_track).sum(-1)[has_wrong_move] > 0)


@pytest.mark.slow  # compiles self-play and an iteration for each of several envs
def test_process_targets_and_verdicts_leave_alone_the_moves_the_env_cannot_judge():
  from alphareason.search import SearchConfig
  from alphareason.train.selfplay import play_episodes, sample_problems
  # Countdown judges a move once it leaves 3 numbers: not a 5-number problem's first.
  env, batch = alphareason.make("countdown-v0", min_numbers=5, max_numbers=5), 8
  network = make_network(tiny_config().network, env)
  params = network.init(jax.random.PRNGKey(0))
  search = SearchConfig(num_simulations=4, max_num_considered_actions=4)
  problems = sample_problems(env, jax.random.PRNGKey(2), batch)
  root = jax.vmap(env.init)(problems)
  assert not np.any(jax.vmap(env.judges_moves)(root))
  assert np.all(jax.vmap(env.judges_moves)(jax.vmap(env.step)(root, jnp.argmax(
      root.legal_action_mask, axis=1))))
  rows = {targets: jax.jit(lambda key, targets=targets: play_episodes(
      env, network, params, key, batch, search, problems=problems,
      process_targets=targets, process_target_spread=0.5, move_verdicts=targets,
      state_verdicts=targets)[0])(jax.random.PRNGKey(1)) for targets in (False, True)}
  targets = {k: np.asarray(v.policy_target)[:2 * batch] for k, v in rows.items()}
  # Row t * B + b is move t of episode b: the first moves keep the search's targets (an
  # even spread over all their legal moves would change them); the second ones, with 4
  # numbers left and each move judged, keep only the on-track moves where there are any.
  np.testing.assert_array_equal(targets[True][:batch], targets[False][:batch])
  restricted = np.count_nonzero(targets[True][batch:], axis=1) < np.count_nonzero(
      np.asarray(rows[True].legal_action_mask)[batch:2 * batch], axis=1)
  assert restricted.any()
  # Nor are the first moves' verdicts weighed; the second ones' are.
  weight = np.asarray(rows[True].verdict_weight)
  assert not weight[:batch].any()
  np.testing.assert_array_equal(weight[batch:2 * batch], 1)
  # States of 5 and 4 numbers are not judged: their value targets stay the outcome.
  np.testing.assert_array_equal(rows[True].value_target[:2 * batch],
                                rows[False].value_target[:2 * batch])


# --- Sudoku's levels --------------------------------------------------------------------

def test_sudoku_levels_shift_the_clue_range_up_to_one_empty_cell():
  env = alphareason.make("sudoku9-v0", min_clues=30, max_clues=40, levels=11)
  ranges = [tuple(int(x) for x in env.clue_range(jnp.int32(level))) for level in range(11)]
  assert ranges[0] == (70, 80) and ranges[-1] == (30, 40) and ranges[5] == (50, 60)
  assert all(a[0] - b[0] == 4 and a[1] - a[0] == 10 for a, b in zip(ranges, ranges[1:]))
  for level in (0, 6, 10):
    keys = jax.random.split(jax.random.PRNGKey(level), 8)
    problems = jax.jit(jax.vmap(env.sample_problem_at, in_axes=(0, None)))(keys, level)
    counts = np.asarray((problems.clues > 0).sum(1))
    assert ranges[level][0] <= counts.min() and counts.max() <= ranges[level][1]
  assert alphareason.make("sudoku9-v0").num_levels == 1
  with pytest.raises(ValueError, match="levels"):
    alphareason.make("sudoku9-v0", max_clues=78, levels=5)


# --- the curriculum's signal ------------------------------------------------------------

class Coin(Env):
  """Three levels; one move; it pays when the problem's coin came up under 0.5 and the
  move is action 1."""

  num_actions, observation_shape, max_steps, num_levels = 2, (2,), 1, 3
  self_verifiable = True

  def sample_problem(self, key):
    return self.sample_problem_at(key, self.num_levels - 1)

  def sample_problem_at(self, key, level):
    return jax.random.uniform(key) < 0.5

  def _init(self, problem):
    return State(observation=jnp.stack([problem, 1]).astype(jnp.float32),
                 legal_action_mask=jnp.ones(2, bool), reward=jnp.float32(0),
                 terminated=jnp.bool_(False), truncated=jnp.bool_(False),
                 step_count=jnp.int32(0), problem=problem)

  def _step(self, state, action):
    return state.replace(reward=(state.problem & (action == 1)).astype(jnp.float32),
                         terminated=jnp.bool_(True))

  parse_problem = problem_text = answer_text = None
  reference_check = staticmethod(lambda problem, answer: False)


def one_iteration(env, *overrides, prefer=None):
  config = tiny_config("network.family=mlp", *overrides)
  network, optimizer = make_network(config.network, env), make_optimizer(config.train)
  state = init_train_state(env, network, optimizer, config)
  if prefer is not None:  # the policy head prefers action `prefer`, less than a found reward
    logits_bias = [path for path, leaf in jax.tree_util.tree_leaves_with_path(state.params)
                   if leaf.shape == (2,)]
    assert len(logits_bias) == 1
    params = jax.tree_util.tree_map_with_path(
        lambda path, leaf: jnp.asarray([2.0, -2.0] if prefer == 0 else [-2.0, 2.0])
        if path == logits_bias[0] else leaf, state.params)
    state = state.replace(params=params)
  state, metrics = make_iteration(env, network, optimizer, config)(state)
  return int(state.level), metrics


@pytest.mark.slow  # compiles a lever's self-play or iteration
def test_a_level_advances_exactly_at_its_threshold():
  _, metrics = one_iteration(Coin(), "train.curriculum_threshold=0.01")
  rate = float(metrics["curriculum_rate"])
  assert rate == float(metrics["solved"]) and 0 < rate < 1  # some coins came up
  assert one_iteration(Coin(), f"train.curriculum_threshold={rate}")[0] == 1
  assert one_iteration(Coin(), f"train.curriculum_threshold={rate + 1e-6}")[0] == 0


@pytest.mark.slow  # compiles a lever's training iteration
def test_the_greedy_signal_is_the_policy_alone_not_self_play():
  # Self-play's search finds action 1 whatever the policy says; greedy play follows the
  # policy, here set to prefer action 0, and never solves.
  level, metrics = one_iteration(Coin(), "train.curriculum_threshold=0.01",
                                 "train.curriculum_signal=greedy", prefer=0)
  assert float(metrics["solved"]) > 0 and float(metrics["curriculum_rate"]) == 0 and level == 0
  level, metrics = one_iteration(Coin(), "train.curriculum_threshold=0.01",
                                 "train.curriculum_signal=greedy", prefer=1)
  assert float(metrics["curriculum_rate"]) > 0 and level == 1


# --- replay -----------------------------------------------------------------------------

def outcome_rows(outcomes):
  n = len(outcomes)
  return Positions(observation=jnp.arange(n, dtype=jnp.float32)[:, None],
                   legal_action_mask=jnp.ones((n, 2), bool), policy_target=jnp.ones((n, 2)) / 2,
                   value_target=jnp.asarray(outcomes, jnp.float32), policy_weight=jnp.ones(n),
                   value_weight=jnp.ones(n))


@pytest.mark.parametrize("share", [0.25, 0.5, 0.8])
def test_replay_sampling_proportions_match_their_weights(share):
  buffer = ReplayBuffer.create(64, (1,), 2).add(outcome_rows([1] * 5 + [0] * 45))
  batch = jax.jit(lambda key: buffer.sample(key, 20000, solved_share=share))(jax.random.PRNGKey(0))
  rows = np.asarray(batch.observation[:, 0]).astype(int)
  assert rows.max() < 50  # only filled rows
  assert abs(np.mean(rows < 5) - share) < 0.015  # solved rows at their share
  # Within each kind, uniformly: each solved row about share / 5 of the draws.
  counts = np.bincount(rows, minlength=50)
  np.testing.assert_allclose(counts[:5] / len(rows), share / 5, rtol=0.1)
  np.testing.assert_allclose(counts[5:].mean() / len(rows), (1 - share) / 45, rtol=0.05)
  uniform = np.asarray(buffer.sample(jax.random.PRNGKey(0), 20000).observation[:, 0]).astype(int)
  assert abs(np.mean(uniform < 5) - 0.1) < 0.015


def test_replay_draws_from_the_one_kind_it_holds():
  only_failed = ReplayBuffer.create(8, (1,), 2).add(outcome_rows([0, 0, 0]))
  rows = np.asarray(only_failed.sample(jax.random.PRNGKey(1), 100, solved_share=0.5).observation)
  assert set(rows[:, 0].astype(int)) == {0, 1, 2}


# --- hard-example replay ----------------------------------------------------------------

def test_failed_problems_come_back_newest_first_until_their_last_attempt():
  from alphareason.train.revisit import FailedProblems
  env = alphareason.make("game24-v0")
  ring = FailedProblems.create(env, 4)
  batch = lambda values: jax.tree.map(lambda x: jnp.stack([x] * len(values)), env.parse_problem(
      "1 2 3 4")).replace(target=jnp.asarray(values, jnp.int32))
  fresh = batch([100, 101, 102])
  problems, attempts, ring = ring.take(fresh, 2)  # nothing stored yet: all fresh
  assert problems.target.tolist() == [100, 101, 102] and attempts.tolist() == [0, 0, 0]
  ring = ring.put(batch([1, 2, 3]), jnp.asarray([0, 0, 3]), jnp.asarray([True, True, True]), 4)
  assert int(ring.size) == 2  # the third had its 4th play: dropped
  problems, attempts, ring = ring.take(fresh, 3)
  assert problems.target.tolist() == [2, 1, 102] and attempts.tolist() == [1, 1, 0]
  assert int(ring.size) == 0
  ring = ring.put(batch([5, 6, 7, 8, 9]), jnp.zeros(5, jnp.int32), jnp.asarray([1, 1, 1, 1, 1], bool), 4)
  assert int(ring.size) == 4  # full: the oldest overwritten
  assert ring.take(batch([0] * 4), 4)[0].target.tolist() == [9, 8, 7, 6]


@pytest.mark.slow  # a lever's training end to end
def test_training_revisits_failed_problems_and_resumes_with_them(tmp_path):
  from alphareason.checkpoint import Checkpoints
  from alphareason.train.loop import train
  config = tiny_config("train.revisit_share=0.5", "validation_size=0", "train.num_iterations=2")
  state = train(config, tmp_path, progress=False)
  assert state.revisit is not None and 0 < int(state.revisit.size) <= 16
  rows = [__import__("json").loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
  assert all("revisit_size" in r for r in rows)
  resumes_with_another_share_not_without(tmp_path, "train.revisit_share", 0.25)
  assert Checkpoints(tmp_path, create=False).all_steps() == [2, 3]


def resumes_with_another_share_not_without(workdir, setting: str, share: float):
  """A run trained 2 iterations with `setting` on resumes with it at `share`, and refuses,
  without changing anything, to go on with it off: it shapes the train state."""
  from alphareason.train.loop import train
  resumed = train(tiny_config(f"{setting}={share}", "validation_size=0",
                              "train.num_iterations=3"), workdir, progress=False)
  assert int(resumed.iteration) == 3
  with pytest.raises(UsageError, match=setting):
    train(tiny_config(f"{setting}=0", "validation_size=0", "train.num_iterations=4"),
          workdir, progress=False)


# --- tree proofs ------------------------------------------------------------------------

def test_a_solution_verified_in_the_tree_proves_the_states_before_it():
  from alphareason.train.selfplay import move_value_targets
  outcome = jnp.asarray([0.0, 1.0, 0.0])
  proved = jnp.asarray([[False, False, False],
                        [True, False, False],  # episode 0's second search found one
                        [False, True, False]])
  np.testing.assert_array_equal(move_value_targets(outcome, proved),
                                [[1, 1, 0], [1, 1, 0], [0, 1, 0]])


# --- Random openings ----------------------------------------------------------------------

@pytest.mark.slow  # compiles a lever's self-play or iteration
def test_random_openings_spread_the_first_move_and_train_nothing_on_it():
  from alphareason.search import SearchConfig
  from alphareason.train.selfplay import play_episodes
  env = alphareason.make("game24-v0")
  network = make_network(tiny_config().network, env)
  params = network.init(jax.random.PRNGKey(0))
  problem = env.parse_problem("1 5 5 5")
  problems = jax.tree.map(lambda x: jnp.broadcast_to(x, (64, *jnp.shape(x))), problem)
  search = SearchConfig(num_simulations=4, max_num_considered_actions=4, gumbel_scale=0.0)

  def first_moves(share):
    rows, stats = play_episodes(env, network, params, jax.random.PRNGKey(1), 64, search,
                                problems=problems, opening_share=share)
    after_first = np.asarray(rows.observation[64:128]).reshape(64, -1)  # move 1's states
    return rows, stats, len(np.unique(after_first, axis=0))

  rows, stats, distinct = first_moves(0.0)
  assert distinct == 1 and not np.asarray(stats.opened).any()  # noise-free search: one move
  assert np.asarray(rows.policy_weight[:64]).all()
  rows, stats, distinct = first_moves(1.0)
  # Drawn uniformly from the 36 legal moves, 64 times: many different states after it.
  assert distinct >= 12 and np.asarray(stats.opened).all()
  # The random move trains nothing; the searched moves after it train as usual.
  assert not np.asarray(rows.policy_weight[:64]).any() and not np.asarray(rows.value_weight[:64]).any()
  assert np.asarray(rows.policy_weight[64:128]).all()


def test_opening_share_is_checked():
  with pytest.raises(UsageError, match="opening_share"):
    tiny_config("train.opening_share=1.5")


# --- Child backups ------------------------------------------------------------------------

@pytest.mark.slow  # compiles a lever's self-play or iteration
@pytest.mark.parametrize("first_moves", [0, 1])
def test_child_backups_are_exact_within_their_depth_of_the_end(first_moves):
  # The children of 1 5 5 5 keep three numbers, two moves from the end: a backup of depth
  # 2 is exact whatever the network. After one move, the children keep two numbers, and
  # depth 1 is exact. Either must agree with the plain-Python solver on every child.
  from alphareason.suites import countdown_solver
  from alphareason.train.selfplay import backed_up_children
  from alphareason.envs.countdown import Countdown
  env = alphareason.make("game24-v0")
  network = make_network(tiny_config().network, env)
  params = network.init(jax.random.PRNGKey(0))
  root = jax.jit(env.init)(env.parse_problem("1 5 5 5"))  # jit: eager steps are slow
  states = jax.tree.map(lambda x: x[None], root)
  if first_moves:
    first = np.flatnonzero(np.asarray(root.legal_action_mask))
    states = jax.jit(jax.vmap(env.step, in_axes=(None, 0)))(root, jnp.asarray(first))
  depth = 2 - first_moves
  rows = jax.jit(lambda params, key, states: backed_up_children(
      env, network, params, key, states, env.num_actions, depth))(
          params, jax.random.PRNGKey(1), states)

  every = jax.jit(jax.vmap(jax.vmap(env.step, in_axes=(None, 0)), in_axes=(0, None)))(
      states, jnp.arange(env.num_actions))
  every, legal = jax.device_get((every, states.legal_action_mask))
  solvable = {}
  for b, action in zip(*np.nonzero(legal)):
    child = jax.tree.map(lambda x: x[b, action], every)
    solvable[child.observation.tobytes()] = (
        countdown_solver.solve(Countdown.numbers_left(child), 24) is not None)
  weighted = np.asarray(rows.value_weight) > 0
  # Every legal child once (the draw is without replacement), nothing else.
  assert weighted.sum() == legal.sum()
  assert not np.asarray(rows.policy_weight).any()
  targets = np.asarray(rows.value_target)[weighted]
  observations = np.asarray(rows.observation)[weighted]
  assert [bool(t) for t in targets] == [solvable[o.tobytes()] for o in observations]
  assert 0 < targets.mean() < 1  # both kinds occur: the check can fail either way


@pytest.mark.slow  # compiles self-play twice, with and without the lever
def test_child_backups_add_value_rows_to_self_play():
  from alphareason.search import SearchConfig
  from alphareason.train.selfplay import play_episodes
  env = alphareason.make("game24-v0")
  network = make_network(tiny_config().network, env)
  params = network.init(jax.random.PRNGKey(0))
  search = SearchConfig(num_simulations=4, max_num_considered_actions=4)
  plain, _ = play_episodes(env, network, params, jax.random.PRNGKey(1), 8, search)
  rows, stats = play_episodes(env, network, params, jax.random.PRNGKey(1), 8, search,
                              child_backups=3)
  played = plain.value_target.shape[0]
  # The same episodes, and after their rows 3 children for each of the T * B moves.
  np.testing.assert_array_equal(rows.value_target[:played], plain.value_target)
  children = jax.tree.map(lambda x: np.asarray(x[played:]), rows)
  assert children.value_target.shape[0] == env.max_steps * 8 * 3
  assert not children.policy_weight.any()
  # A move played has 3 weighted children (Game of 24 always has 3 legal moves at least);
  # a move never played has none.
  live = np.asarray(plain.policy_weight[:env.max_steps * 8]) > 0
  np.testing.assert_array_equal(children.value_weight.reshape(-1, 3).sum(1), 3 * live)
  assert ((children.value_target >= 0) & (children.value_target <= 1)).all()


def test_child_backups_are_checked():
  with pytest.raises(UsageError, match="child_backups"):
    tiny_config("train.child_backups=-1")
  with pytest.raises(UsageError, match="backup_depth"):
    tiny_config("train.backup_depth=0")


@pytest.mark.slow  # compiles a lever's self-play
def test_a_backup_of_depth_0_is_the_network_on_the_needed_states_only():
  from alphareason.train.selfplay import backed_up_values
  env = alphareason.make("game24-v0")
  network = make_network(tiny_config().network, env)
  params = network.init(jax.random.PRNGKey(0))
  problems = jax.vmap(env.sample_problem)(jax.random.split(jax.random.PRNGKey(1), 23))
  states = jax.jit(jax.vmap(env.init))(problems)
  needed = jnp.asarray(np.arange(23) % 3 != 1)  # 15 states, in chunks of 4 that do not divide it
  values = jax.jit(lambda p, s, n: backed_up_values(env, network, p, s, n, 0, chunk=4))(
      params, states, needed)
  _, logits = network.apply(params, states.observation)
  expected = np.where(needed, jax.nn.sigmoid(logits), 0.0)
  np.testing.assert_allclose(values, expected, rtol=1e-5, atol=1e-6)


def sudoku4_rows(batch, *levers, supervised=True):
  """4x4 Sudoku self-play (under process supervision unless told) by an untrained grid
  network: the same `batch` problems played once for each of `levers` (play_episodes'
  keyword arguments). Returns the env, the problems and each play's rows."""
  from alphareason.search import SearchConfig
  from alphareason.train.selfplay import play_episodes, sample_problems
  env = alphareason.make("sudoku4-v0")
  network = make_network(tiny_config("network.family=grid").network, env)
  params = network.init(jax.random.PRNGKey(0))
  search = SearchConfig(num_simulations=4, max_num_considered_actions=4)
  problems = sample_problems(env, jax.random.PRNGKey(2), batch)
  return env, problems, [jax.jit(lambda key, kwargs=kwargs: play_episodes(
      env.supervised() if supervised else env, network, params, key, batch, search,
      problems=problems, **kwargs)[0])(jax.random.PRNGKey(1)) for kwargs in levers]


@pytest.mark.slow  # compiles a lever's self-play
def test_off_track_children_are_value_rows_of_zero_one_wrong_digit_off_the_path():
  batch, count = 16, 2
  env, problems, (plain, rows) = sudoku4_rows(
      batch, dict(off_track_children=0), dict(off_track_children=count))
  played = plain.value_target.shape[0]
  # The same episodes, and after their rows `count` children for each of the T * B moves.
  np.testing.assert_array_equal(rows.observation[:played], plain.observation)
  children = jax.tree.map(lambda x: np.asarray(x[played:]), rows)
  assert children.value_target.shape[0] == env.max_steps * batch * count
  assert not children.policy_weight.any() and not children.value_target.any()
  # Each weighted child's grid (the digit one-hot, columns 1..4) holds exactly one digit
  # that is not its puzzle's solution's: the move off track, one step off the path.
  kept = np.flatnonzero(children.value_weight > 0)
  assert kept.size > batch
  episode = kept // count % batch
  grid = np.where(children.observation[kept, :, 0] > 0, 0,
                  np.argmax(children.observation[kept, :, 1:5], -1) + 1)
  wrong = (grid > 0) & (grid != np.asarray(problems.solution)[episode])
  np.testing.assert_array_equal(wrong.sum(-1), 1)
  # A live move gives `count` children, or as many as it has wrong legal digits; a move
  # never played gives none. Row t * B + b is move t of episode b.
  moves = env.max_steps * batch
  live = np.asarray(plain.policy_weight[:moves]) > 0
  solution = np.repeat(np.asarray(problems.solution)[np.arange(moves) % batch], 4, axis=1)
  wrong_moves = np.asarray(plain.legal_action_mask[:moves]) & (np.arange(64) % 4 + 1 != solution)
  np.testing.assert_array_equal(children.value_weight.reshape(-1, count).sum(-1),
                                np.where(live, np.minimum(wrong_moves.sum(-1), count), 0))


def test_off_track_children_and_target_spread_are_checked():
  with pytest.raises(UsageError, match="off_track_children"):
    tiny_config("train.off_track_children=-1")
  with pytest.raises(UsageError, match=r"process_target_spread must be in \[0, 1\]"):
    tiny_config("train.process_targets=True", "train.process_target_spread=1.5")
  with pytest.raises(UsageError, match="set train.process_targets=True"):
    tiny_config("train.process_targets=False", "train.process_target_spread=0.5")


# --- move verdicts ----------------------------------------------------------------------

@pytest.mark.slow  # compiles a lever's self-play
def test_move_verdicts_are_the_verifiers_judgement_of_every_legal_move():
  batch = 16
  env, problems, (plain, rows) = sudoku4_rows(
      batch, dict(off_track_children=1), dict(off_track_children=1, move_verdicts=True))
  assert plain.move_verdicts is None
  # The same episodes and rows; the verdicts are recorded, not used in play.
  np.testing.assert_array_equal(rows.policy_target, plain.policy_target)
  moves = env.max_steps * batch  # row t * B + b is move t of episode b
  solution = np.repeat(np.asarray(problems.solution)[np.arange(moves) % batch], 4, axis=1)
  legal = np.asarray(rows.legal_action_mask[:moves])
  live = np.asarray(rows.policy_weight[:moves]) > 0
  right = legal & (np.arange(64) % 4 + 1 == solution)
  np.testing.assert_array_equal(np.asarray(rows.move_verdicts[:moves])[live], right[live])
  assert right[live].any() and (legal & ~right)[live].any()
  # Every decision row is judged; the final states' rows and the off-track children's
  # value rows after them are not.
  np.testing.assert_array_equal(rows.verdict_weight[:moves], rows.policy_weight[:moves])
  assert not np.asarray(rows.verdict_weight[moves:]).any()
  assert rows.value_target.shape[0] == plain.value_target.shape[0] > moves + batch


@pytest.mark.slow  # compiles a lever's self-play, twice
@pytest.mark.parametrize("supervised", [True, False])
def test_state_verdicts_are_the_value_targets_of_the_states_the_verifier_judges(supervised):
  batch = 16
  env, problems, (plain, rows) = sudoku4_rows(
      batch, dict(), dict(state_verdicts=True), supervised=supervised)
  np.testing.assert_array_equal(rows.observation, plain.observation)  # the same episodes
  moves = env.max_steps * batch  # row t * B + b is move t of episode b
  live = np.asarray(rows.value_weight[:moves]) > 0
  obs = np.asarray(rows.observation[:moves])
  grid = np.where(obs[..., 0] > 0, 0, np.argmax(obs[..., 1:5], -1) + 1)
  solution = np.asarray(problems.solution)[np.arange(moves) % batch]
  on_track = np.all((grid == 0) | (grid == solution), axis=1)
  np.testing.assert_array_equal(np.asarray(rows.value_target[:moves])[live], on_track[live])
  # The outcome said otherwise somewhere (an on-track state of a failed episode, say).
  assert np.any(np.asarray(plain.value_target[:moves])[live] != on_track[live])
  if supervised:
    assert on_track[live].all()
  # The final states' rows keep their outcome.
  np.testing.assert_array_equal(rows.value_target[moves:], plain.value_target[moves:])


def test_the_verdict_share_of_the_policy_loss_is_each_legal_moves_cross_entropy():
  from alphareason.train.learner import loss_fn
  env = alphareason.make("game24-v0")
  network = make_network(tiny_config().network, env)
  params = network.init(jax.random.PRNGKey(0))
  states = jax.vmap(env.init)(jax.tree.map(lambda *x: jnp.stack(x), *[
      env.parse_problem(text) for text in ("1 2 3 4", "1 5 5 5", "3 3 8 8")]))
  legal = np.asarray(states.legal_action_mask)
  key = jax.random.PRNGKey(3)
  verdicts = np.asarray(jax.random.bernoulli(key, 0.3, legal.shape)) & legal
  target = legal / legal.sum(1, keepdims=True)
  batch = Positions(observation=states.observation, legal_action_mask=states.legal_action_mask,
                    policy_target=jnp.asarray(target, jnp.float32),
                    value_target=jnp.asarray([1.0, 0.0, 1.0]), policy_weight=jnp.ones(3),
                    value_weight=jnp.ones(3), move_verdicts=jnp.asarray(verdicts),
                    verdict_weight=jnp.asarray([1.0, 1.0, 0.0]))
  logits = np.asarray(network.apply(params, states.observation)[0], np.float64)
  log_p = np.log(1 / (1 + np.exp(-logits))), np.log(1 / (1 + np.exp(logits)))
  move_ce = -np.where(verdicts, log_p[0], log_p[1])
  per_row = np.where(legal, move_ce, 0).sum(1) / legal.sum(1)
  verdict_loss = per_row[:2].mean()  # the third row's weight is 0
  plain = float(loss_fn(network, params, batch, 1.0)[1][0])
  for share in (0.5, 1.0):
    mixed = float(loss_fn(network, params, batch, 1.0, move_verdicts=share)[1][0])
    np.testing.assert_allclose(mixed, (1 - share) * plain + share * verdict_loss, rtol=1e-5)
  # Rows without verdicts leave the loss as it was.
  unjudged = batch.replace(move_verdicts=None, verdict_weight=None)
  np.testing.assert_allclose(float(loss_fn(network, params, unjudged, 1.0, move_verdicts=1.0)[1][0]),
                             plain, rtol=1e-6)


@pytest.mark.slow  # a lever's training end to end
def test_move_verdicts_train_resume_and_are_checked(tmp_path):
  from alphareason.train.loop import train
  with pytest.raises(UsageError, match=r"move_verdicts must be in \[0, 1\]"):
    tiny_config("train.move_verdicts=1.5")
  config = tiny_config("train.move_verdicts=1.0", "validation_size=0", "train.num_iterations=2")
  state = train(config, tmp_path, progress=False)
  rows = state.replay.rows
  assert int(state.replay.size) > 0 and rows.move_verdicts.shape == rows.legal_action_mask.shape
  assert float(jnp.sum(rows.verdict_weight)) > 0
  # The share may change on resume; whether verdicts are kept may not (the replay's layout).
  resumes_with_another_share_not_without(tmp_path, "train.move_verdicts", 0.5)
