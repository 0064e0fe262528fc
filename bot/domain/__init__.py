"""Pure rules: no I/O, no clock, no framework imports (see tests/test_layering.py)."""
