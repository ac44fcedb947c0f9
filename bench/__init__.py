"""Benchmarks of cleaner against simple baselines on the annotated corpus (python -m bench.run)."""
