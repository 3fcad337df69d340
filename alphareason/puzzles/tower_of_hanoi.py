"""Tower of Hanoi on 3 or 4 pegs, paid only for a solution of the fewest moves.

Written against alphareason's public API alone, as a user's env would be (see
docs/custom_env.md, section 5), and scored on reasoning-gym's `tower_of_hanoi` by its own
verifier. rg gives full marks only to a valid solution no longer than its generator's
(2^n - 1 moves on 3 pegs, Frame-Stewart's count on 4), so this env pays 1 only for a
solution within the optimal count, and an episode can last no longer than that.

Design, and why:

- Canonical pegs. The JAX side never sees peg labels: peg 0 is the start, peg 1 the
  target, pegs 2 and 3 the others in label order. Every rg problem of n disks and k pegs
  is then one of a handful of canonical problems, and the network learns each once, not
  once for each of the 6 or 12 (start, target) pairs. `answer_text` maps back to labels.
- Absent disks sit on the target. A problem of n < max_disks disks is shown as max_disks
  disks whose n + 1.. largest already stand on the target, beneath everything. That
  position is the same puzzle (the large disks never need to move, and dropping them from
  any solution leaves a solution), so a 5-disk problem looks like the last stage of a
  10-disk one and what the network learns on one carries to the other.
- The legal moves are the rules' moves less one that moves the disk moved last: two
  moves of one disk in a row merge into one move (or none), so no answer within the
  optimal count makes them, and removing them loses no paid answer. On 3 pegs this leaves
  the policy one real choice at every other move (where the smallest disk goes).
- Dead ends by a cheap lower bound, not an oracle: with L the largest disk off the
  target, the answer needs at least 1 move for L, 2 for each smaller disk on the target
  (off it, so L can land, and back) and 1 for each smaller disk elsewhere (onto L later).
  A state whose moves left fall below that bound ends unpaid. This is admissible, so it
  never ends an episode that could still be paid; it is no distance-to-goal oracle (it
  says n where 2^n - 1 moves are needed), and it is neither a feature nor part of the mask.
- Training's process supervision (`on_track`) judges a partial answer by the exact
  fewest moves left, from a table a breadth-first search over every arrangement builds
  when the env is made (4^10 at most). That table is never in the observation or the legal
  mask, and inference never reads it: `on_track` is used by training alone, as Sudoku's
  hidden solution grid is. The same table gives each problem's move budget, which tests
  check against rg's `solution_length` and against `frame_stewart` below.

Actions are ordered peg pairs (from, to), A = P * (P - 1) for P = max_pegs; the disk moved
is the top of `from`, as a move on real pegs is.
"""

from __future__ import annotations

import functools
import re

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

import alphareason
from alphareason import Env, ProblemError, State

MAX_DISKS = 10  # 3 pegs: 1023 moves; 4 pegs: the exact-distance table has 4^10 entries
MAX_PEGS = 4  # Frame-Stewart's count is proven optimal for 4 pegs (Bousch 2014), not 5

# Columns of the observation, one row a disk (smallest first): the disk's peg (one-hot,
# canonical), whether it is its peg's top disk, whether it was moved last, and whether the
# problem has a fourth peg (the same on every row).
OBSERVATION_LAYOUT = ("peg 0..P-1 (one-hot)", "top of its peg", "moved last", "four pegs")

_PROBLEM_RE = re.compile(
    r"^\s*(\d+)\s*disks?\s*,?\s*(\d+)\s*pegs?\s*[,:]?\s*(?:from\s+)?peg\s*(\d+)\s*"
    r"(?:->|to)\s*peg\s*(\d+)\s*$", re.IGNORECASE)
_MOVE_RE = re.compile(r"^Move disk (\d+) from Peg (\d+) to Peg (\d+)$")


@struct.dataclass
class HanoiProblem:
  num_disks: jax.Array  # [] int32, 1..max_disks
  num_pegs: jax.Array  # [] int32, 3..max_pegs
  start: jax.Array  # [] int32, the peg (0-based label) the disks start on
  target: jax.Array  # [] int32, the peg they must end on


@struct.dataclass
class HanoiState(State):
  pegs: jax.Array  # [max_disks] int32, each disk's canonical peg, smallest disk first
  last_disk: jax.Array  # [] int32, the disk moved last (0-based), -1 before any move
  moves: jax.Array  # [max_steps] int8, the action of each move made, -1 past the last


def peg_pairs(pegs: int) -> np.ndarray:
  """[P * (P - 1), 2] int32: action a moves the top disk of peg pairs[a, 0] to pairs[a, 1]."""
  return np.array([(a, b) for a in range(pegs) for b in range(pegs) if a != b], np.int32)


@functools.lru_cache(maxsize=None)
def fewest_moves_table(pegs: int, disks: int) -> np.ndarray:
  """[pegs ** disks] int32: the fewest moves from each arrangement of `disks` disks on
  `pegs` pegs to all of them on peg 1; arrangement sum_i peg(i) * pegs^i, disk 0 the
  smallest. A breadth-first search out from the goal (moves are reversible), one frontier
  a distance, the moves of a whole frontier at once. Used for training's `on_track` and
  for each problem's move budget; never for the observation or the legal moves."""
  unseen = np.iinfo(np.int32).max
  place = pegs ** np.arange(disks, dtype=np.int64)
  distance = np.full(pegs ** disks, unseen, np.int32)
  frontier = np.array([place.sum()], np.int64)  # every disk on peg 1
  distance[frontier] = 0
  pairs = peg_pairs(pegs)
  level = 0
  while frontier.size:
    on = (frontier[:, None] // place) % pegs  # [F, D] each disk's peg
    holds = on[:, :, None] == np.arange(pegs)  # [F, D, P]
    # The top (smallest) disk of each peg; `disks` marks an empty peg, larger than any.
    top = np.where(holds.any(1), holds.argmax(1), disks)  # [F, P]
    reached = []
    for a, b in pairs:
      movable = top[:, a] < top[:, b]
      reached.append(frontier[movable] + (b - a) * place[top[movable, a]])
    reached = np.unique(np.concatenate(reached))
    frontier = reached[distance[reached] == unseen]
    level += 1
    distance[frontier] = level
  return distance


def frame_stewart(disks: int, pegs: int) -> int:
  """Plain Python: the fewest moves of `disks` disks on `pegs` pegs by Frame-Stewart's
  recurrence (2^n - 1 on 3 pegs; on k pegs, the best split m of 2 T(m, k) + T(n - m, k - 1)),
  reasoning-gym's generator's count. Independent of the env's search table."""

  @functools.lru_cache(maxsize=None)
  def t(n: int, k: int) -> int:
    if n <= 1:
      return n
    if k == 3:
      return 2 ** n - 1
    return min(2 * t(m, k) + t(n - m, k - 1) for m in range(1, n))

  return t(disks, pegs)


def canonical_labels(num_pegs: int, start: int, target: int) -> list[int]:
  """Canonical peg c -> its 0-based label: the start, the target, then the others in order."""
  return [start, target] + [p for p in range(num_pegs) if p not in (start, target)]


class TowerOfHanoi(Env):
  """Move a tower of `num_disks` disks from its start peg to its target peg on 3 or 4
  pegs, one top disk at a time, never a disk onto a smaller one, in the fewest moves.

  Generated problems have min_disks..max_disks disks, min_pegs..max_pegs pegs and a random
  (start, target) pair; any problem of up to max_disks disks and max_pegs pegs parses.
  With `levels` > 1 a curriculum climbs disk counts: level l's largest problems have
  `top_disks(l)` disks, the last level's max_disks; at every level half the problems have
  that many disks and half are drawn evenly from min_disks up to it, so the level's new
  size is trained most while the smaller ones (4 pegs' own shapes) stay in view.
  `four_peg_share` sets the share of generated problems with 4 pegs (with min_pegs=3,
  max_pegs=4); by default each peg count is drawn equally often. A 10-disk problem is
  1023 moves on 3 pegs and 49 on 4, so equal draws give 4 pegs 5% of training's moves.
  """

  self_verifiable = True  # the rules and the disk count alone tell a paid answer
  default_network = "mlp"  # a handful of disks: a flat view of all of them at once
  judges_partial_answers = True  # the exact fewest moves left (training's on_track only)

  def __init__(self, *, min_disks: int = 3, max_disks: int = 7, min_pegs: int = 3,
               max_pegs: int = 4, levels: int = 1, four_peg_share: float | None = None,
               exclude=()):
    if not 1 <= min_disks <= max_disks <= MAX_DISKS:
      raise ValueError(f"need 1 <= min_disks <= max_disks <= {MAX_DISKS}, got {min_disks}, "
                       f"{max_disks}")
    if not 3 <= min_pegs <= max_pegs <= MAX_PEGS:
      raise ValueError(f"need 3 <= min_pegs <= max_pegs <= {MAX_PEGS}, got {min_pegs}, "
                       f"{max_pegs}")
    if not 1 <= levels <= max_disks - min_disks + 1:
      raise ValueError(f"need 1 <= levels <= {max_disks - min_disks + 1} (one disk more a "
                       f"level at least), got {levels}")
    if four_peg_share is not None and not ((min_pegs, max_pegs) == (3, 4)
                                           and 0 <= four_peg_share <= 1):
      raise ValueError(f"four_peg_share (a share in [0, 1]) needs min_pegs=3 and max_pegs=4, "
                       f"got {four_peg_share} with {min_pegs} to {max_pegs} pegs")
    self.four_peg_share = four_peg_share
    self.min_disks, self.max_disks = min_disks, max_disks
    self.min_pegs, self.max_pegs = min_pegs, max_pegs
    self.num_levels = levels
    self.excluded_keys = np.unique(np.asarray(exclude, np.uint32))
    self.pairs = peg_pairs(max_pegs)
    self.num_actions = len(self.pairs)
    self.observation_shape = (max_disks, max_pegs + 3)
    # Every problem that parses (3..max_pegs pegs) fits: 3 pegs need the most moves.
    self.max_steps = 2 ** max_disks - 1
    # tables[k - 3]: the fewest moves from each arrangement on k pegs (fewest_moves_table);
    # budgets[k - 3, n]: a problem's move budget, the fewest moves of its start position
    # (n disks on peg 0, the rest on the target).
    self.tables = [fewest_moves_table(k, max_disks) for k in range(3, max_pegs + 1)]
    budgets = np.zeros((max_pegs - 2, max_disks + 1), np.int32)
    for k, table in zip(range(3, max_pegs + 1), self.tables):
      for n in range(max_disks + 1):
        start = (np.arange(max_disks) >= n) * k ** np.arange(max_disks)  # absent disks on peg 1
        budgets[k - 3, n] = table[int(start.sum())]
    self.budgets = budgets

  # --- array side -------------------------------------------------------------------

  def top_disks(self, level) -> jax.Array:
    """The most disks a problem of curriculum `level` has: min_disks at level 0 up to
    max_disks at the last level, evenly spaced."""
    span = max(self.num_levels - 1, 1)
    return self.min_disks + ((self.max_disks - self.min_disks) * level + span // 2) // span

  def sample_problem(self, key: jax.Array) -> HanoiProblem:
    return self.sample_problem_at(key, jnp.int32(self.num_levels - 1))

  def sample_problem_at(self, key: jax.Array, level: jax.Array) -> HanoiProblem:
    top = self.top_disks(jnp.asarray(level, jnp.int32))

    def draw(key):
      top_key, disks_key, pegs_key, start_key, target_key = jax.random.split(key, 5)
      disks = jnp.where(jax.random.bernoulli(top_key), top,
                        jax.random.randint(disks_key, (), self.min_disks, top + 1))
      if self.four_peg_share is None:
        pegs = jax.random.randint(pegs_key, (), self.min_pegs, self.max_pegs + 1)
      else:
        pegs = jnp.where(jax.random.bernoulli(pegs_key, self.four_peg_share), 4, 3)
      start = jax.random.randint(start_key, (), 0, pegs)
      target = (start + jax.random.randint(target_key, (), 1, pegs)) % pegs  # not the start
      problem = HanoiProblem(*(jnp.asarray(x, jnp.int32) for x in (disks, pegs, start, target)))
      return problem, jnp.bool_(True)

    return self._sample_accepted(key, draw)  # draws again only for a held-out problem

  def budget(self, problem: HanoiProblem) -> jax.Array:
    """[] int32: the fewest moves that solve `problem`, the most a paid answer may make."""
    return jnp.asarray(self.budgets)[problem.num_pegs - 3, problem.num_disks]

  def fewest_moves_left(self, state: HanoiState) -> jax.Array:
    """[] int32: the exact fewest moves from `state`'s arrangement to the goal. Training's
    judge alone (`on_track`): never an input of the observation or the legal mask."""
    k = state.problem.num_pegs
    distance = jnp.int32(0)
    for pegs, table in zip(range(3, self.max_pegs + 1), self.tables):
      code = jnp.sum(state.pegs * (pegs ** jnp.arange(self.max_disks)))
      here = jnp.asarray(table)[jnp.clip(code, 0, table.size - 1)]
      distance = jnp.where(k == pegs, here, distance)
    return distance

  def on_track(self, state: HanoiState) -> jax.Array:
    """The moves made so far still leave enough to finish within the budget: the answer
    can still end paid."""
    left = self.budget(state.problem) - state.step_count
    return self.fewest_moves_left(state) <= left

  def _init(self, problem: HanoiProblem) -> HanoiState:
    problem = jax.tree.map(lambda x: jnp.asarray(x, jnp.int32), problem)
    # n disks on the start (peg 0), the absent larger ones already on the target (peg 1).
    pegs = jnp.where(jnp.arange(self.max_disks) < problem.num_disks, 0, 1).astype(jnp.int32)
    state = HanoiState(
        observation=jnp.zeros(self.observation_shape, jnp.float32),
        legal_action_mask=jnp.zeros(self.num_actions, bool), reward=jnp.float32(0),
        terminated=jnp.bool_(False), truncated=jnp.bool_(False), step_count=jnp.int32(0),
        problem=problem, pegs=pegs, last_disk=jnp.int32(-1),
        moves=jnp.full(self.max_steps, -1, jnp.int8))
    return self._derive(state, moves_made=jnp.int32(0))

  def _step(self, state: HanoiState, action: jax.Array) -> HanoiState:
    source, destination = jnp.asarray(self.pairs)[action]
    disk = self._tops(state)[source]  # a legal action's source holds a disk
    moved = state.replace(
        pegs=state.pegs.at[disk].set(destination), last_disk=disk,
        moves=state.moves.at[state.step_count].set(action.astype(jnp.int8)))
    return self._derive(moved, moves_made=state.step_count + 1)

  def _tops(self, state: HanoiState) -> jax.Array:
    """[P] int32: the smallest disk of the problem on each peg; max_disks where it holds
    none. Absent disks count as no disk: they are larger than every real one, so any disk
    may go onto them, and none of them ever moves."""
    real = jnp.arange(self.max_disks) < state.problem.num_disks
    holds = (state.pegs[:, None] == jnp.arange(self.max_pegs)) & real[:, None]  # [D, P]
    return jnp.where(jnp.any(holds, 0), jnp.argmax(holds, 0), self.max_disks).astype(jnp.int32)

  def _derive(self, state: HanoiState, moves_made: jax.Array) -> HanoiState:
    """The state's observation, legal moves and outcome, from its pegs."""
    problem = state.problem
    tops = self._tops(state)
    source, destination = self.pairs[:, 0], self.pairs[:, 1]
    moving = tops[source]  # [A] the disk each action would move
    legal = ((moving < tops[destination]) & (destination < problem.num_pegs)
             & (moving != state.last_disk))  # see the module docstring: never the same disk twice
    solved = jnp.all(state.pegs == 1)
    # The admissible lower bound of the module docstring, against the moves left.
    disks = jnp.arange(self.max_disks)
    off_target = state.pegs != 1  # absent disks are all on the target
    largest = jnp.max(jnp.where(off_target, disks, -1))
    smaller = disks < largest
    at_least = jnp.where(largest >= 0, 1 + jnp.sum(smaller * jnp.where(off_target, 1, 2)), 0)
    dead_end = ~solved & (at_least > self.budget(problem) - moves_made)
    top_flag = tops[state.pegs] == disks
    observation = jnp.concatenate([
        (state.pegs[:, None] == jnp.arange(self.max_pegs)),
        top_flag[:, None], (disks == state.last_disk)[:, None],
        jnp.broadcast_to(problem.num_pegs == 4, (self.max_disks, 1)),
    ], axis=1).astype(jnp.float32)
    return state.replace(observation=observation, legal_action_mask=legal,
                         terminated=solved | dead_end, reward=solved.astype(jnp.float32))

  def draw_settings(self) -> tuple[str, ...]:
    # Inference parses any problem up to max_disks and max_pegs whatever these are.
    return ("min_disks", "min_pegs", "levels", "four_peg_share")

  # --- host side --------------------------------------------------------------------

  def parse_problem(self, text: str) -> HanoiProblem:
    """Reads "N disks, K pegs, Peg S -> Peg T" (pegs numbered from 1, as reasoning-gym
    numbers them; case, commas and spacing are free, 'to' may stand for '->')."""
    match = _PROBLEM_RE.match(text)
    form = "'N disks, K pegs, Peg S -> Peg T' (e.g. '5 disks, 3 pegs, Peg 1 -> Peg 3')"
    if not match:
      raise ProblemError(f"{text!r}: a Tower of Hanoi problem reads {form}")
    disks, pegs, start, target = (int(g) for g in match.groups())
    if not 1 <= disks <= self.max_disks:
      raise ProblemError(f"{text!r}: this env plays 1 to {self.max_disks} disks, not {disks}")
    if not 3 <= pegs <= self.max_pegs:
      raise ProblemError(f"{text!r}: this env plays 3 to {self.max_pegs} pegs, not {pegs}")
    if not (1 <= start <= pegs and 1 <= target <= pegs) or start == target:
      raise ProblemError(f"{text!r}: the start and target must be two different pegs of 1 "
                         f"to {pegs}")
    return HanoiProblem(*(np.int32(x) for x in (disks, pegs, start - 1, target - 1)))

  def problem_text(self, problem: HanoiProblem) -> str:
    disks, pegs, start, target = (int(x) for x in jax.device_get(
        (problem.num_disks, problem.num_pegs, problem.start, problem.target)))
    return f"{disks} disks, {pegs} pegs, Peg {start + 1} -> Peg {target + 1}"

  def _replay(self, state: HanoiState) -> tuple[list[str], list[list[int]], int]:
    """The moves `state` made as reasoning-gym's lines, the pegs (by label, each bottom to
    top, disks numbered from 1) after them, and its problem's move budget."""
    state = jax.device_get(state)
    problem = state.problem
    pegs, start, target = int(problem.num_pegs), int(problem.start), int(problem.target)
    disks = int(problem.num_disks)
    labels = canonical_labels(pegs, start, target)
    stacks = [[] for _ in range(pegs)]
    stacks[start] = list(range(disks, 0, -1))
    lines = []
    for action in np.asarray(state.moves)[:int(state.step_count)]:
      if action < 0:  # an illegal move ended the episode there
        break
      source, destination = (labels[int(p)] for p in self.pairs[int(action)])
      disk = stacks[source].pop()
      stacks[destination].append(disk)
      lines.append(f"Move disk {disk} from Peg {source + 1} to Peg {destination + 1}")
    return lines, stacks, int(self.budgets[pegs - 3, disks])

  def answer_text(self, state: HanoiState) -> str:
    """The moves made, one a line as reasoning-gym writes them: 'Move disk X from Peg Y to
    Peg Z' (disk 1 the smallest, pegs from 1)."""
    return "\n".join(self._replay(state)[0])

  def render(self, state: HanoiState) -> str:
    lines, stacks, budget = self._replay(state)
    rows = [f"Peg {p + 1}: {' '.join(map(str, stack)) or '-'}" for p, stack in enumerate(stacks)]
    return "\n".join(rows + [f"{len(lines)} of {budget} moves"])

  @staticmethod
  def reference_check(problem_text: str, answer_text: str) -> bool:
    """Plain Python, sharing no code with the JAX rules or the env's table: every line a
    legal 'Move disk X from Peg Y to Peg Z', the tower whole on the target after them, and
    no more moves than Frame-Stewart's count (the optimum, 2^n - 1 on 3 pegs)."""
    match = _PROBLEM_RE.match(problem_text)
    if not match:
      return False
    disks, pegs, start, target = (int(g) for g in match.groups())
    if disks < 1 or pegs < 3 or not (1 <= start <= pegs and 1 <= target <= pegs):
      return False
    stacks = {p: [] for p in range(1, pegs + 1)}
    stacks[start] = list(range(disks, 0, -1))
    lines = [line.strip() for line in answer_text.strip().splitlines() if line.strip()]
    for line in lines:
      move = _MOVE_RE.match(line)
      if not move:
        return False
      disk, source, destination = (int(g) for g in move.groups())
      if source not in stacks or destination not in stacks or source == destination:
        return False
      if not stacks[source] or stacks[source][-1] != disk:
        return False
      if stacks[destination] and stacks[destination][-1] < disk:
        return False
      stacks[destination].append(stacks[source].pop())
    return stacks[target] == list(range(disks, 0, -1)) and len(lines) <= frame_stewart(disks, pegs)


alphareason.register(
    "tower_of_hanoi-v0", "alphareason.puzzles.tower_of_hanoi:TowerOfHanoi",
    description="Tower of Hanoi, 1 to 10 disks on 3 or 4 pegs, in the fewest moves",
    min_disks=1, max_disks=MAX_DISKS, min_pegs=3, max_pegs=MAX_PEGS)


# reasoning-gym's tower_of_hanoi, read from each entry's metadata and scored by its verifier.
def rg_problem(entry: dict) -> str:
  meta = entry["metadata"]
  return (f"{int(meta['num_disks'])} disks, {int(meta['num_pegs'])} pegs, "
          f"Peg {int(meta['start_peg'])} -> Peg {int(meta['target_peg'])}")


def rg_answer(answer_text: str) -> str:  # ours is already rg's: a move a line
  return answer_text.strip()


def rg_settings(config: dict) -> dict:
  if config["max_disks"] > MAX_DISKS or config["max_pegs"] > MAX_PEGS:
    raise alphareason.UsageError(
        f"reasoning-gym tower_of_hanoi with up to {config['max_disks']} disks and "
        f"{config['max_pegs']} pegs is not supported: tower_of_hanoi-v0 plays up to "
        f"{MAX_DISKS} disks on 3 to {MAX_PEGS} pegs")
  return {key: config[key] for key in ("min_disks", "max_disks", "min_pegs", "max_pegs")}


alphareason.register_rg_task(
    "tower_of_hanoi", "tower_of_hanoi-v0", problem_text=rg_problem, to_rg_answer=rg_answer,
    env_settings=rg_settings,
    # The Reasoning Gym paper's hard setting (its eval/yaml/hard): 5 to 10 disks, up to
    # 1023 moves at 10 on 3 pegs.
    presets=dict(hard=dict(min_disks=5, max_disks=10, min_pegs=3, max_pegs=4)))
