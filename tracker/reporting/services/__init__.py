"""Rounds, reports, reviews and lights: plain functions, no Flask."""
