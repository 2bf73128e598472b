"""Evaluation services: data entry and import, rules, computation, publication — no Flask."""
