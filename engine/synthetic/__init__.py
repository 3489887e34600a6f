"""Procedural GF-1-like scenes with known aircraft boxes (tests, demo, benchmark, training)."""
