"""The `alphareason` command: envs, check, suites, train, eval, solve, export, bench.

It parses arguments, calls the library (`alphareason.api`) and prints. A user's mistake
(bad input, config, checkpoint or problem) is reported as one line on stderr with exit
status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import pathlib
import sys

from alphareason.errors import TrainingError, UsageError, first_line


class _Parser(argparse.ArgumentParser):
  def error(self, message):  # one line, status 2, as for every other usage error
    raise UsageError(message)


def _positive_ints(text: str) -> list[int]:
  try:
    values = [int(x) for x in text.split(",") if x.strip()]
  except ValueError:
    raise UsageError(f"budgets must be whole numbers separated by commas, got {text!r}") from None
  if not values or any(v < 1 for v in values):
    raise UsageError(f"budgets must be at least 1, got {text!r}")
  return values


def _names(text: str) -> list[str]:
  return [x.strip() for x in text.split(",") if x.strip()]


def _env_modules(args) -> list[str]:
  from alphareason import registry
  return [name for text in args.env_module for name in registry.module_names(text)]


# --- commands ------------------------------------------------------------------------

def cmd_envs(args) -> int:
  from alphareason import registry
  for spec in registry.registered_envs():
    print(f"{spec.env_id:16s} {spec.description}")
  return 0


def _import_attribute(module_name: str, attribute: str):
  """`module:attribute`, importing from the current directory too, as a user expects."""
  from alphareason import registry
  value = registry.import_user_module(module_name)
  for name in attribute.split("."):
    if not hasattr(value, name):
      raise UsageError(f"module {module_name!r} has no attribute {attribute!r}")
    value = getattr(value, name)
  return value


def _load_env(target: str):
  """An env from a registered id or `module:attribute` (an Env subclass, factory or instance)."""
  from alphareason import registry
  from alphareason.env import Env

  if ":" not in target:
    try:
      return registry.make(target)
    except registry.UnknownEnvError as error:
      raise UsageError(f"{error}; or give module:attribute") from None
  module_name, _, attribute = target.partition(":")
  if not module_name or not attribute:
    raise UsageError(f"expected a registered env id or module:attribute, got {target!r}")
  value = _import_attribute(module_name, attribute)
  if isinstance(value, Env):
    return value
  if isinstance(value, type) and not issubclass(value, Env):
    raise UsageError(f"{target} is the class {value.__name__}, not a subclass of alphareason.Env")
  if not callable(value):
    raise UsageError(f"{target} is not an Env subclass, factory or instance but a value of type "
                     f"{type(value).__name__}")
  try:
    env = value()
  except Exception as error:  # an abstract class, a factory that needs arguments, ...
    raise UsageError(f"cannot build an env from {target}: {first_line(error)}") from None
  if not isinstance(env, Env):
    raise UsageError(f"{target}() returned a {type(env).__name__}, not an alphareason.Env")
  return env


def cmd_check(args) -> int:
  from alphareason.checker import check_env

  if args.episodes < 1:
    raise UsageError(f"--episodes must be at least 1, got {args.episodes}")
  if not 0 <= args.seed < 2**32:
    raise UsageError(f"--seed must be in 0..2**32-1, got {args.seed}")
  report = check_env(_load_env(args.env), episodes=args.episodes, seed=args.seed, strict=False)
  print(report)
  return 0 if report.ok else 1


def cmd_suites(args) -> int:
  from alphareason import suites
  # Every suite loads (and builds on first use, in --data-dir), so the sizes are real.
  # An external suite whose package is missing is listed as such; the others still are.
  for name in suites.SUITE_NAMES:
    try:
      suite = suites.load_suite(name, data_dir=args.data_dir)
    except UsageError as error:
      print(f"{name:24s} unavailable: {error}")
      continue
    sizes = ", ".join(f"{split} {len(p)}" for split, p in suite.splits.items())
    print(f"{suite.name:24s} v{suite.version}  {suite.env_id:13s} {sizes:34s} {suite.description}")
  return 0


def _join_processes(args) -> None:
  """Joins a multi-process run if asked; before anything else touches a device."""
  from alphareason import parallel
  parallel.initialize(args.coordinator, args.num_processes, args.process_id, auto=args.distributed)


def cmd_train(args, overrides: list[str]) -> int:
  _join_processes(args)
  from alphareason import api, parallel, registry
  config = api.load_config(args.config, overrides)
  # The checkpoints keep every module the run needed, so eval and solve import them too.
  modules = registry.module_names(config.env_module) + _env_modules(args)
  config.env_module = ",".join(dict.fromkeys(modules))
  state = api.train_agent(config, args.workdir, progress=not args.no_progress, data_dir=args.data_dir)
  if int(state.iteration) >= config.train.num_iterations and parallel.is_leader():
    print(f"trained: checkpoints in {pathlib.Path(args.workdir) / 'checkpoints'}")
  return 0


def _source(args):
  """The agent a command plays: `--agent NAME` (shipped) or `--workdir W`, one of them."""
  from alphareason import api
  if (args.agent is None) == (args.workdir is None):
    raise UsageError("give --workdir W (a training run) or --agent NAME (a shipped agent: "
                     f"{', '.join(api.shipped_agents()) or 'none installed'})")
  if args.agent is not None and args.agent not in api.shipped_agents():
    raise UsageError(f"no shipped agent {args.agent!r}; shipped: "
                     f"{', '.join(api.shipped_agents()) or 'none'}")
  return args.agent if args.agent is not None else pathlib.Path(args.workdir)


def cmd_eval(args, env_overrides: list[str]) -> int:
  _join_processes(args)
  from alphareason import api, parallel
  evaluation = api.evaluate(
      _source(args), args.suite, args.strategies and _names(args.strategies),
      args.budgets and _positive_ints(args.budgets),
      steps=args.steps, oracle=args.oracle, split=args.split, limit=args.limit, seed=args.seed,
      env_overrides=env_overrides, suite_version=args.suite_version, data_dir=args.data_dir,
      rg_size=args.rg_size, rg_seed=args.rg_seed, value_scale=args.value_scale,
      restarts=args.restarts, root_noise=args.root_noise, progress=not args.no_progress)
  if not parallel.is_leader():
    return 0  # every process computed the same summary; one writes it
  default_out = (pathlib.Path(args.workdir) / "eval" if args.workdir is not None
                 else pathlib.Path("eval") / args.agent)
  paths = evaluation.write_report(args.out or default_out)
  for r in evaluation.runs:
    rg_score = f", reasoning-gym {100 * r['rg_accuracy']:5.1f}%" if "rg_accuracy" in r else ""
    print(f"step {r['step']:6d} {'oracle' if r['oracle'] else 'no-oracle':9s} {r['strategy']:10s} "
          f"budget {r['budget']:5d}: {100 * r['accuracy']:5.1f}% solved{rg_score}, "
          f"{r['mean_nfe']:.0f} NFE/problem")
  print("  ".join(f"{name}: {path}" for name, path in paths.items()))
  defects = evaluation.defects()
  for line in defects:
    print(line, file=sys.stderr)
  return 1 if defects else 0


def cmd_solve(args, env_overrides: list[str]) -> int:
  from alphareason import api

  texts = list(args.problem)
  if args.problems:
    path = pathlib.Path(args.problems)
    if not path.is_file():
      raise UsageError(f"problems file not found: {path}")
    texts += [line.strip() for line in path.read_text().splitlines() if line.strip()]
  source = _source(args)
  if not texts:
    raise UsageError("give a problem, as in: alphareason solve --agent game24 \"4 9 10 13\"")
  if args.simulations is not None and args.simulations < 1:
    raise UsageError(f"--simulations must be at least 1, got {args.simulations}")
  agent = api.load_agent(source, env_overrides=env_overrides)
  solutions = api.solve(agent, texts, strategy=args.strategy, simulations=args.simulations,
                        value_scale=args.value_scale, restarts=args.restarts,
                        root_noise=args.root_noise)
  if args.json:
    records = [dataclasses.asdict(s) for s in solutions]
    print(json.dumps(records if len(records) > 1 or args.problems else records[0], indent=1))
  else:
    for solution in solutions:
      shown = solution.answer if solution.solved else "no solution found"
      print(f"{solution.problem}: {shown}" if len(solutions) > 1 else shown)
  return 0


def cmd_export(args, env_overrides: list[str]) -> int:
  from alphareason import api
  where = api.export_agent(pathlib.Path(args.workdir), args.out, step=args.step,
                           value_scale=args.value_scale, strategy=args.strategy,
                           budget=args.budget, restarts=args.restarts,
                           root_noise=args.root_noise, score=args.score,
                           env_overrides=env_overrides)
  print(f"exported: {where}")
  return 0


def cmd_agents(args) -> int:
  from alphareason import api
  agents = api.agent_searches()
  name_width = max(map(len, agents))
  env_width = max(len(agent["env_id"]) for agent in agents.values())
  for name, agent in agents.items():
    print(f"{name:{name_width}s} {agent['env_id']:{env_width}s} {agent['search']}")
    if agent["score"]:
      print(f"{'':{name_width + env_width + 1}s} {agent['score']}")
  return 0


def cmd_bench(args, overrides: list[str]) -> int:
  from alphareason import bench
  from alphareason.config import load_config

  for flag in ("batch", "simulations", "repeats"):
    value = getattr(args, flag)
    if value is not None and value < 1:
      raise UsageError(f"--{flag} must be at least 1, got {value}")
  # In training, the batch and the simulations are the config's self-play settings.
  flags = [f"{key}={value}" for key, value in (
      ("train.selfplay_batch_size", args.batch), ("search.num_simulations", args.simulations),
      ("search.policy", args.policy)) if value is not None]
  config = load_config(args.config, overrides + flags)
  if args.what == "search":
    result = bench.search_benchmark(config, repeats=args.repeats or 5, seed=args.seed,
                                    data_dir=args.data_dir)
  else:
    result = bench.train_benchmark(config, repeats=args.repeats or 3, seed=args.seed,
                                   data_dir=args.data_dir)
  print(json.dumps(result, indent=1))
  return 0


# --- wiring --------------------------------------------------------------------------

def _add_distributed_arguments(command) -> None:
  group = command.add_argument_group(
      "several processes (hosts)", "each process runs the same command with its own --process-id")
  group.add_argument("--coordinator", default=None, metavar="HOST:PORT",
                     help="address of process 0 (or set JAX_COORDINATOR_ADDRESS)")
  group.add_argument("--num-processes", type=int, default=None)
  group.add_argument("--process-id", type=int, default=None)
  group.add_argument("--distributed", action="store_true",
                     help="detect the processes from the cluster (SLURM, Open MPI, Cloud TPU, k8s)")


VALUE_SCALE_HELP = ("test-time Gumbel MCTS: the weight of a child's Q against its prior; "
                    "lower trusts the policy more (default: the agent's own, "
                    "search.test_value_scale)")


def _add_restart_arguments(command) -> None:
  command.add_argument("--restarts", type=int, default=None,
                       help="mcts-restarts: searches of one problem at most (default: the "
                       "agent's own); with the verifier only the unsolved search again")
  command.add_argument("--root-noise", type=float, default=None,
                       help="mcts-restarts: the scale of the Gumbel noise at the root "
                       "(default: the agent's own); larger tries more first moves")


def _add_source_arguments(command) -> None:
  command.add_argument("--workdir", default=None, help="a training run's workdir")
  command.add_argument("--agent", default=None,
                       help="an agent shipped with alphareason instead: game24, countdown, ...")


def build_parser() -> argparse.ArgumentParser:
  parser = _Parser(prog="alphareason", description=__doc__.splitlines()[0])
  # Every command takes --env-module: a user's module that registers envs (and
  # reasoning-gym tasks), imported before the command runs.
  common = _Parser(add_help=False)
  common.add_argument("--env-module", action="append", default=[], metavar="MODULE",
                      help="import MODULE first (from the current directory too): it "
                      "registers your envs; repeatable, or comma-separated")
  commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
  add_command = functools.partial(commands.add_parser, parents=[common])
  add_command("envs", help="list the registered environments")
  add_command("agents", help="list the shipped agents, each with its own search and score")
  check = add_command(
      "check", help="check an environment against the env contract (exit 1 if any check fails)")
  check.add_argument("env", help="a registered env id such as game24-v0, or module:attribute "
                     "naming an Env subclass, a zero-argument factory or an Env instance")
  check.add_argument("--episodes", type=int, default=32, help="episodes of random play")
  check.add_argument("--seed", type=int, default=0, help="seeds the problems and the play")
  data_dir_help = ("where suites are built and read (default: alphareason/tensorflow_datasets "
                   "in $XDG_CACHE_HOME or ~/.cache)")
  suites = add_command("suites", help="list the benchmark suites (built on first use)")
  suites.add_argument("--data-dir", default=None, help=data_dir_help)

  train = add_command("train", help="train by self-play (resumes from the workdir)")
  train.add_argument("--config", required=True, help="a config file with get_config()")
  train.add_argument("--workdir", required=True, help="checkpoints, metrics and TensorBoard logs")
  train.add_argument("--data-dir", default=None, help=data_dir_help)
  train.add_argument("--no-progress", action="store_true", help="no progress bar")
  _add_distributed_arguments(train)

  env_epilog = ("--config.env.KEY=VALUE (repeatable) plays the checkpoint in an env with "
                "other settings, where its network's parameters fit: e.g. a Countdown agent "
                "on more numbers, --config.env.max_numbers=9")
  evaluate = add_command("eval", help="evaluate a checkpoint on a suite", epilog=env_epilog)
  _add_source_arguments(evaluate)
  evaluate.add_argument("--suite", default=None,
                        help="default: the suite held out in training; rg:NAME[/PRESET] for a "
                        "reasoning-gym dataset (the interop extra)")
  evaluate.add_argument("--suite-version", default=None, help="fail unless the suite is this version")
  evaluate.add_argument("--data-dir", default=None, help=data_dir_help)
  evaluate.add_argument("--split", default="test", help="a split, or several joined by commas")
  evaluate.add_argument("--strategies", default=None,
                        help="strategies joined by commas: greedy, bestofn, beam, dfs, mcts, "
                        "mcts-puct, mcts-restarts (default: the agent's own search)")
  evaluate.add_argument("--budgets", default=None,
                        help="each strategy's compute knob (MCTS: simulations per move; dfs: NFE), "
                        "joined by commas (default: the agent's own)")
  evaluate.add_argument("--steps", default="latest",
                        help="checkpoints to evaluate: latest, all, or steps such as 100,200")
  evaluate.add_argument("--value-scale", type=float, default=None, help=VALUE_SCALE_HELP)
  _add_restart_arguments(evaluate)
  evaluate.add_argument("--limit", type=int, default=None, help="only the first N problems")
  evaluate.add_argument("--seed", type=int, default=0)
  evaluate.add_argument("--out", default=None, help="default: WORKDIR/eval")
  oracle = evaluate.add_mutually_exclusive_group()
  oracle.add_argument("--oracle", dest="oracle", action="store_const", const="on", default="auto",
                      help="let search use the verifier (default for self-verifiable tasks)")
  oracle.add_argument("--no-oracle", dest="oracle", action="store_const", const="off",
                      help="hide the verifier: only the learned value judges")
  oracle.add_argument("--compare-oracle", dest="oracle", action="store_const", const="both",
                      help="run with and without the verifier on the same problems")
  evaluate.add_argument("--no-progress", action="store_true")
  evaluate.add_argument("--rg-size", type=int, default=500,
                        help="with --suite rg:NAME[/PRESET]: how many reasoning-gym problems")
  evaluate.add_argument("--rg-seed", type=int, default=0, help="with --suite rg:...: their seed")
  _add_distributed_arguments(evaluate)

  solve = add_command("solve", help="solve problems with a trained checkpoint",
                              epilog=env_epilog)
  solve.add_argument("problem", nargs="*", help='a problem, as in "4 9 10 13"')
  _add_source_arguments(solve)
  solve.add_argument("--problems", default=None, help="a file with one problem a line")
  solve.add_argument("--strategy", default=None,
                     help="greedy, bestofn, beam, dfs, mcts, mcts-puct or mcts-restarts "
                     "(default: the agent's own search)")
  solve.add_argument("--simulations", type=int, default=None,
                     help="the strategy's budget: MCTS simulations per move, dfs's NFE "
                     "(default: the agent's own)")
  solve.add_argument("--value-scale", type=float, default=None, help=VALUE_SCALE_HELP)
  _add_restart_arguments(solve)
  solve.add_argument("--json", action="store_true", help="print JSON records")
  solve.add_argument("--data-dir", default=None, help=data_dir_help)

  export = add_command(
      "export", help="write a checkpoint's parameters and config as an agent (--workdir reads it)",
      epilog="--config.env.KEY=VALUE (repeatable) makes the agent play an env with other "
      "settings by default, where its network's parameters fit")
  export.add_argument("--workdir", required=True, help="the training run")
  export.add_argument("--step", type=int, default=None, help="default: the latest checkpoint")
  export.add_argument("--out", required=True, help="a new folder for the agent")
  own_search = export.add_argument_group(
      "the agent's own search", "what solve and eval play by default, as measured on "
      "validation (default: the run's config, search.test_*)")
  own_search.add_argument("--strategy", default=None, help="greedy, dfs, mcts, mcts-restarts, ...")
  own_search.add_argument("--budget", type=int, default=None,
                          help="the strategy's budget: MCTS simulations per move, dfs's NFE")
  own_search.add_argument("--restarts", type=int, default=None, help="mcts-restarts' searches")
  own_search.add_argument("--root-noise", type=float, default=None,
                          help="mcts-restarts' root noise scale")
  own_search.add_argument("--value-scale", type=float, default=None,
                          help="test-time Gumbel MCTS's value scale")
  own_search.add_argument("--score", default=None,
                          help="what that search scores, as text `alphareason agents` shows")

  bench = add_command("bench", help="time the batched search or a training iteration (prints JSON)")
  bench.add_argument("what", choices=("search", "train"))
  bench.add_argument("--config", default="configs/game24.py", help="a config file with get_config()")
  bench.add_argument("--batch", type=int, default=None,
                     help="problems searched at once (default: the config's train.selfplay_batch_size)")
  bench.add_argument("--simulations", type=int, default=None,
                     help="simulations per search (default: the config's search.num_simulations)")
  bench.add_argument("--policy", default=None, help="gumbel or puct (default: the config's search.policy)")
  bench.add_argument("--repeats", type=int, default=None,
                     help="timed runs, of which the median is reported (default: 5 search, 3 train)")
  bench.add_argument("--seed", type=int, default=0, help="seeds the parameters and the problems")
  bench.add_argument("--data-dir", default=None, help=data_dir_help)
  return parser


def use_compilation_cache() -> None:
  """Keeps XLA's compiled programs in the user's cache, so that the next `solve`, `eval` or
  `train` of the same shapes skips most of its compiling (a first `solve` is mostly that).
  A cache the user chose (JAX_COMPILATION_CACHE_DIR) wins."""
  import jax

  from alphareason.suites import user_cache_dir
  if jax.config.jax_compilation_cache_dir is None:
    jax.config.update("jax_compilation_cache_dir", str(user_cache_dir() / "xla"))


def main(argv: list[str] | None = None) -> int:
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
  argv = sys.argv[1:] if argv is None else argv
  try:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    from alphareason.config import split_overrides
    overrides, unknown = split_overrides(rest)
    configured = {"train": cmd_train, "eval": cmd_eval, "solve": cmd_solve, "bench": cmd_bench,
                  "export": cmd_export}
    if unknown or (overrides and args.command not in configured):
      raise UsageError(f"unrecognized arguments: {' '.join(unknown or rest)}")
    from alphareason import registry
    for module_name in _env_modules(args):
      registry.import_user_module(module_name)
    if args.command in configured:
      if args.command != "bench":  # bench reports compile times, so it compiles cold
        use_compilation_cache()
      return configured[args.command](args, overrides)
    return {"envs": cmd_envs, "agents": cmd_agents, "check": cmd_check,
            "suites": cmd_suites}[args.command](args)
  except UsageError as error:
    print(f"alphareason: error: {error}", file=sys.stderr)
    return 2
  except TrainingError as error:
    print(f"alphareason: error: {error}", file=sys.stderr)
    return 1
  except KeyboardInterrupt:
    print("alphareason: interrupted", file=sys.stderr)
    return 130


if __name__ == "__main__":
  sys.exit(main())
