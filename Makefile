# Every target sets up its own environment, so a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Keep XLA to the machine's cores and quiet about the (absent) accelerators.
export JAX_PLATFORMS ?= cpu
export TF_CPP_MIN_LOG_LEVEL ?= 3

.PHONY: demo test test-slow bench lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,interop]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/alphareason train --config configs/game24.py --workdir runs/demo
	$(BIN)/alphareason eval --workdir runs/demo --out runs/demo --strategies greedy,bestofn,beam,mcts --budgets 1,4,16,64
	@echo "report: runs/demo/report.md  plot: runs/demo/scaling.png"

# One worker per core, idle workers taking tests from busy ones; the slowest are listed.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto --dist worksteal --durations=15

# The long tests (training to a threshold, whole training processes, several devices and
# hosts), on both cores as well.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow -n auto --dist worksteal --durations=10

# mctx's batched search (batch 256) against a Python-tree MCTS on the same problems, network
# and simulations per move: prints their simulations/s and the ratio (docs/benchmarks.md).
bench: $(STAMP)
	$(BIN)/python -m benchmarks.python_mcts --config configs/game24.py --batch 256 --simulations 32

clean:
	rm -rf $(VENV) runs
