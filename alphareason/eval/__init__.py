"""Benchmark suites, test-time strategies, evaluation, reports and plots."""
