"""Briefing services: assembly, numbering, rendering, archive, dashboard — no Flask."""
