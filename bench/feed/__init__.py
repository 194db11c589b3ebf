"""The pieces of bench/bench_feed.py, one module per scenario (run bench_feed.py, not these)."""
