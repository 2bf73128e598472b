"""Numbered supervision briefings (督查通报) as PDF, and the leadership dashboard."""
