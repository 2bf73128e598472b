"""The plan-document parser: pure functions from text to plan, no database."""
from tracker.tasks.parsing.documents import read_document
from tracker.tasks.parsing.model import ParsedPlan, ParseWarning, PlanParseError
from tracker.tasks.parsing.structure import parse_plan

__all__ = ["ParsedPlan", "ParseWarning", "PlanParseError", "parse_plan", "read_document"]
