"""Synthetic traffic for tests and benchmarks: homes, scenarios with labelled anomalies, floods.

Never shipped with the integration: these generators build captures for the
test suite, ``scripts/bench``, ``scripts/bench-live`` and the demo capture.
"""
