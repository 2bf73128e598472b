"""The office's view of the audit log."""
from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/audit")
