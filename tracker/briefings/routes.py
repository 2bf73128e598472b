"""Briefing pages and the leadership dashboard."""
from flask import Blueprint

bp = Blueprint("briefings", __name__)
