"""Evaluation pages: area energy data, measures scores, evaluations and their explained results."""
from flask import Blueprint

bp = Blueprint("evaluations", __name__)
