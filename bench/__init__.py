"""Titan's benchmark suite: baselines, wrk scripts and the side-by-side runner."""
