"""Checks every page test applies: the HTML parses as valid HTML5 (html5lib, strict), carries no inline script and
no style attribute (the CSP allows neither), and names the synthetic store."""

from __future__ import annotations

import re
from typing import Any

import html5lib
from sqlalchemy import Engine, func, select

from tipfusion.store.tables import audit_events

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


def valid_page(response: Any, status: int = 200) -> str:
    """The response's HTML after the checks (its status too)."""
    assert response.status_code == status, f"{response.status_code}: {response.text[:500]}"
    assert response.headers["content-type"].startswith("text/html")
    text: str = response.text
    html5lib.HTMLParser(strict=True).parse(text)
    assert not INLINE_SCRIPT.search(text), "inline <script>"
    assert not STYLE_ATTRIBUTE.search(text), "style attribute"
    assert not STYLE_ELEMENT.search(text), "<style> element"
    assert not EVENT_HANDLER.search(text), "inline event handler"
    assert 'id="synthetic-banner"' in text
    return text


def audit_count(engine: Engine, action: str, actor: str, object_id: str | None = None) -> int:
    with engine.connect() as conn:
        query = select(func.count()).where(audit_events.c.action == action, audit_events.c.actor == actor)
        if object_id is not None:
            query = query.where(audit_events.c.object_id == object_id)
        return int(conn.execute(query).scalar_one())
