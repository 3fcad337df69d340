"""Throughput benchmarks, the reference Python-tree MCTS and the scaling sweep (docs/benchmarks.md)."""
