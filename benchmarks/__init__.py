"""collectbot's benchmarks: `python -m benchmarks` runs every module here that has `results()`.

See benchmarks/README.md ("Adding a benchmark") for the interface.
"""
