"""Experiments: what the demo and the studies run, as libraries (their commands only parse flags)."""
