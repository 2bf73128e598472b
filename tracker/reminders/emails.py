"""Render reminder emails from templates/reminders/email/ (text and HTML), without Flask."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates" / "reminders" / "email"


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    # auto_reload off: a wave renders two templates per unit, and checking their files' mtimes each time costs
    # as much as rendering them; a changed template is read when the process restarts
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), undefined=jinja2.StrictUndefined,
                              autoescape=jinja2.select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True,
                              auto_reload=False)


def render(name: str, **context) -> tuple[str, str]:
    """Return (text, html) of the email `name` (name.txt and name.html)."""
    environment = _environment()
    return (environment.get_template(f"{name}.txt").render(**context),
            environment.get_template(f"{name}.html").render(**context))


def lateness_label(lateness: int) -> str:
    if lateness > 0:
        return f"已逾期 {lateness} 个工作日"
    if lateness == 0:
        return "今天截止"
    return f"距截止还有 {-lateness} 个工作日"
