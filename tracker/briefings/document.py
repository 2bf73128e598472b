"""The briefing as one HTML document, from its assembled content: what WeasyPrint lays out and the preview shows.

Rendered with a Jinja environment of its own (autoescaped, strict), so a worker process, a command and the
benchmark make exactly the HTML the web app would, without a request. Charts go in as data: URIs.
"""
from __future__ import annotations

import base64
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from tracker.briefings import charts

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
DOCUMENT_TEMPLATE = "briefings/pdf/briefing.html"
NUMERALS = "一二三四五六七八九十"

_environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                           undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def _has_areas(content: dict) -> bool:
    return bool(content.get("evaluation") and content["evaluation"]["areas"])


#: the briefing's charts by name, each drawn from the assembled content alone
CHARTS = {
    "lights": lambda content: charts.lights_chart(content["overview"]["lights"]),
    "on_time": lambda content: charts.on_time_chart(content["units"]),
    "reduction": lambda content: charts.reduction_chart(content["evaluation"]["areas"]),
}


def chart_names(content: dict) -> list[str]:
    """lights and on_time always; reduction when an evaluation with area results is cited."""
    return ["lights", "on_time"] + (["reduction"] if _has_areas(content) else [])


def chart_svg(content: dict, name: str) -> bytes | None:
    """One chart of the briefing as SVG; None if the briefing has no chart of that name."""
    return CHARTS[name](content) if name in chart_names(content) else None


def chart_images(content: dict) -> dict[str, bytes]:
    return {name: CHARTS[name](content) for name in chart_names(content)}


def data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def render_document(content: dict, *, template: str = DOCUMENT_TEMPLATE) -> str:
    """The final HTML of a briefing, charts inlined; deterministic for the same content.

    :raises jinja2.TemplateError: if the template is broken (the publisher turns it into a readable error)
    """
    images = {name: data_uri(svg) for name, svg in chart_images(content).items()}
    return _environment.get_template(template).render(c=content, charts=images, numerals=NUMERALS)
