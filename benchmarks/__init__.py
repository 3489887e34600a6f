"""The speed benchmark (`make bench`, `python -m benchmarks.bench`): not part of the engine, not in the plugin.

bench.py     the command line: configurations, rounds, the JSON report
runs.py      one detection run in a fresh process, the scene cache, the validation AP50
variants.py  the model variants it compares (fp32 / int8, per-patch / window graph)
report.py    the summary against the paper's times and the README table
"""
