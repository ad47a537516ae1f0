"""Benchmarks (not tests): `python -m bench` prints each workload beside this machine's floors."""
