"""The speed benchmark (`make bench`, `python -m benchmarks.bench`): not part of the engine, not in the plugin.

bench.py     the command line: rounds, the JSON report
configs.py   the configurations it compares (variant, pre-screen, runtime, options)
runs.py      one detection run in a fresh process, the scene cache, the validation AP50
variants.py  the model variants (fp32 / int8, per-patch / window graph)
profile.py   where a run's time went (trunk, detector, reading, merging)
report.py    the summary against the paper's time and plain tiling, and the README table
"""
