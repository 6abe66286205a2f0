"""Shared helpers for the test suite and the benchmark: test mail, server fixtures' data."""
