"""Benchmarks for projdeck: a data generator for a large workspace, the store
measured against raw drivers, and the app against a minimal Textual app.

    python -m benchmarks            # everything; writes benchmarks/RESULTS.md
    python -m benchmarks.generate   # a large workspace in /tmp

These are scripts that print figures, never tests.
"""
