"""Benchmarks: ``make bench`` (``python -m benchmarks``). See :mod:`benchmarks.harness`."""
