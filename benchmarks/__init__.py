"""Benchmarks: each ``bench_*.py`` times gridmap against the peer a user would use."""
