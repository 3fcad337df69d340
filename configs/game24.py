"""The Game of 24 on a CPU: the default experiment, and what `make demo` trains."""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
  c = ml_collections.ConfigDict()
  c.seed = 0  # seeds parameters, self-play and updates: one seed, one run
  c.env_id = "game24-v0"  # a registered env id (`alphareason envs`)
  # A module to import first, for an env registered outside alphareason (your own): it
  # is saved with the checkpoints, so `eval` and `solve` find the env too.
  c.env_module = ""
  # Overrides of the env's registered settings: each solvable puzzle equally often, as the
  # game24 suite holds them (the registered draw weighs a puzzle by its orders and keeps
  # the quarter of draws that have no solution).
  c.env = ml_collections.ConfigDict(dict(draw="solvable"))
  # The suite whose validation and test problems training never sees ("" for none).
  c.holdout_suite = "game24"

  c.network = ml_collections.ConfigDict()
  c.network.family = "auto"  # "auto" takes the env's default ("set" for Countdown)
  # Small on purpose: training sees only the suite's 762 train puzzles, and a larger
  # network fits them closer without solving more held-out ones. Width 64 and depth 2
  # match width 128 and depth 3 on the test split at a fifth of the FLOPs (docs/results.md).
  c.network.width = 64  # trunk width
  c.network.depth = 2  # residual blocks (mlp) or transformer layers (set)
  c.network.num_heads = 4  # attention heads (set)
  c.network.dtype = "float32"  # "bfloat16" computes in bf16 on GPU/TPU; params stay f32

  c.search = ml_collections.ConfigDict()
  c.search.policy = "gumbel"  # "gumbel" (Gumbel MuZero) or "puct" (MuZero, PUCT)
  c.search.num_simulations = 32  # simulations per move in self-play
  c.search.max_num_considered_actions = 16  # gumbel: root actions in sequential halving
  c.search.gumbel_scale = 1.0  # gumbel: root exploration noise in self-play
  c.search.value_scale = 0.1  # gumbel: weight of a child's Q against its prior (mctx's)
  # The same weight in test-time Gumbel MCTS (validation, eval, solve), kept with the
  # checkpoints as the agent's own; `--value-scale` overrides it in eval and solve. 0.3
  # solved 0 to 1 point more than 0.1 at MCTS-64, three runs, validation and test splits.
  c.search.test_value_scale = 0.3
  # The rest of the agent's own test-time search, what `solve` and `eval` play unless
  # told otherwise (`alphareason export --strategy ... --score ...` sets them for an
  # agent, as measured on validation): a strategy, its budget (simulations per move),
  # and for mcts-restarts the searches of a problem and the root noise's scale.
  c.search.test_strategy = "mcts"
  c.search.test_budget = 64
  c.search.test_restarts = 4
  c.search.test_root_noise = 1.0
  c.search.test_score = ""  # what that search scores, as text: `alphareason agents` shows it
  c.search.dirichlet_fraction = 0.25  # puct: share of Dirichlet noise at the root
  c.search.dirichlet_alpha = 0.3  # puct: Dirichlet concentration
  c.search.temperature = 1.0  # puct: sampling temperature over visit counts

  c.train = ml_collections.ConfigDict()
  c.train.num_iterations = 200  # self-play + update rounds
  # Start from this agent's network parameters (a shipped agent's name or a workdir)
  # instead of fresh ones, with a fresh optimizer and replay: fine-tuning, e.g. the
  # 4-to-6-number Countdown agent on 3 to 9 numbers. "" starts from scratch. A workdir
  # that holds checkpoints resumes from them instead.
  c.train.init_from = ""
  c.train.selfplay_batch_size = 256  # episodes played in parallel per iteration
  c.train.replay_capacity = 2**15  # positions in the on-device ring buffer
  c.train.batch_size = 256  # positions per optimizer update
  c.train.updates_per_iteration = 32  # optimizer updates per iteration
  c.train.learning_rate = 1e-3  # peak Adam learning rate (cosine decay to 10%)
  c.train.warmup_iterations = 10  # linear warm-up of the learning rate
  c.train.weight_decay = 1e-4  # decoupled (AdamW) weight decay
  c.train.max_grad_norm = 1.0  # global gradient-norm clip
  c.train.value_loss_weight = 1.0  # value loss relative to the policy loss
  # Curriculum, for envs with difficulty levels (arithmetic: digits; Sudoku: env.levels):
  # self-play starts at the easiest level and moves up one each time the solve rate
  # reaches this; 0 is off.
  c.train.curriculum_threshold = 0.0
  # Whose solve rate moves the curriculum: "selfplay" (root noise, and supervision if on)
  # or "greedy" (the policy alone on fresh problems of the level, one NFE a move).
  c.train.curriculum_signal = "selfplay"
  # Process supervision, for envs whose verifier can judge a partial answer (Sudoku,
  # arithmetic, Countdown from 3 numbers left): self-play ends an episode, unpaid, at its
  # first move off the track (on the Game of 24 it costs 7 points at MCTS-64).
  # Training only: validation and eval play the env as it is.
  c.train.process_supervision = False
  # Process targets, for envs that judge partial answers (elsewhere off, as are the
  # off-track children): the verifier judges every legal move of a searched state
  # (Env.on_track_moves), and the policy target keeps only the moves that stay on track,
  # not only those search visited and saw fail.
  c.train.process_targets = True
  # The share of a process target spread evenly over the on-track moves, the rest
  # following the search (1: the verifier's judgement alone), so the policy ranks moves
  # by how often moves like them are right (9x9 Sudoku: 79% greedy at 18 min, not 31%).
  c.train.process_target_spread = 0.5
  # Off-track children, for envs that judge partial answers: each searched state also
  # gives this many children of moves the verifier judges off track, as value-only rows
  # of target 0, so the value head learns to rate wrong steps low; 0 is off. With the
  # two settings above, MCTS-64 solves 96.6% to 96.8% of the test split, not 95.2% to
  # 96.6% (three runs each); alone, 2 children cost 2 points (docs/results.md).
  c.train.off_track_children = 1
  # Move verdicts, for envs that judge partial answers: this share of the policy's loss
  # trains each legal move's logit on the verifier's verdict (on track or not), so the
  # logits learn the odds that a move is right, not its share of the right moves; 0 is off.
  c.train.move_verdicts = 0.0
  # State verdicts, for envs that judge partial answers: the value target of each state
  # the verifier judges is its verdict (1: the answer can still end right), not the
  # episode's outcome, so the value head tells a wrong step from a right one.
  c.train.state_verdicts = False
  # Share of each update's rows drawn from solved episodes (0: uniform over the replay),
  # so that rare successes are not drowned by failures.
  c.train.replay_solved_share = 0.0
  # A solution the self-play search verifies in its tree proves its root solvable: the
  # states up to it get value target 1, even when the episode then misses it.
  c.train.tree_proofs = False
  # Hard-example replay: the share of each iteration's self-play problems taken from
  # those it failed lately (each played at most 4 times); 0 is off. On the Game of 24 it
  # lifts MCTS-64 from 93.0% to 96.6% of the test puzzles at 150 iterations.
  c.train.revisit_share = 0.25
  # Random openings: the share of self-play episodes whose first move is a uniformly drawn
  # legal one (not trained on), so that the value of states the policy avoids is learnt
  # too; 0 is off.
  c.train.opening_share = 0.0
  # Child backups: each searched state also gives this many of its children, drawn at
  # random, as value-only rows whose target is the best over their moves of the verified
  # outcome or the network's value (a full-width one-step backup); 0 is off.
  c.train.child_backups = 0
  c.train.backup_depth = 1  # moves the child backups look ahead, every line of them

  c.checkpoint_every = 50  # iterations between checkpoints (and at the end)
  c.keep_checkpoints = 8  # the newest checkpoints kept on disk (8: all of them, for eval --steps all)
  c.validate_every = 50  # iterations between validation runs
  c.validation_size = 100  # validation problems (from the holdout suite's split)
  c.validation_simulations = 32  # MCTS simulations per move in validation
  c.log_every = 1  # iterations between metric records
  return c
