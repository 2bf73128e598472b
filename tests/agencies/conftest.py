"""Helpers for the units directory tests."""
from __future__ import annotations

import html
import re


def text_of(response) -> str:
    """The page as a person reads it: tags dropped, whitespace collapsed."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))
