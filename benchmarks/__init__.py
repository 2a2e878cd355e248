"""District-scale benchmark of one weekly cycle: `python -m benchmarks.run --help`."""
