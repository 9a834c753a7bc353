"""Tiny real-vocabulary models for the tests, `bench demo` and the benchmarks (shipped: `bench demo` needs them)."""
