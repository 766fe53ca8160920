"""JSON: a table as a list of objects, a link chart as nodes and links (the node-link layout graph tools read)."""

from __future__ import annotations

import json
from pathlib import Path

from tipfusion.exports.content import Graph, Table
from tipfusion.exports.registry import Renderer

ORDER = 2


def render(content: Table | Graph, output: Path, synthetic: bool) -> None:
    document: object
    if isinstance(content, Graph):
        document = {
            "directed": False,
            "graph": {"name": content.title, "synthetic": synthetic},
            "nodes": content.nodes,
            "links": content.edges,
        }
    else:
        document = content.rows
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


RENDERER = Renderer(
    "json", frozenset({"table", "graph"}), ".json", "a list of objects; a chart as nodes and links", render
)
