"""Helpers for the account tests: page text, form tokens, a second browser."""
from __future__ import annotations

import html
import re

import pytest

from tests.factories import AuthActions


def text_of(response) -> str:
    """The page as a person reads it: tags dropped, whitespace collapsed."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def csrf_token_of(response) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True)).group(1)


@pytest.fixture
def other_browser(app, make_user):
    """A second, independent test client with its own cookies, and its AuthActions."""
    return AuthActions(app.test_client(), make_user)
