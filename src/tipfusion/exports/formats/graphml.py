"""GraphML: a link chart for graph tools (Gephi, yEd, Cytoscape, igraph's `Graph.Read_GraphML`), written with the
standard library. Each node and edge attribute is declared once as a typed `<key>`; lists and mappings are text."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from tipfusion.exports.content import Graph
from tipfusion.exports.registry import Renderer

ORDER = 6
NAMESPACE = "http://graphml.graphdrawing.org/xmlns"
# characters XML 1.0 cannot hold at all (a report field may carry them): shown as U+FFFD, never a broken file
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _type(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "boolean"
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "long"
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "double"
    return "string"


def _text(value: Any, kind: str) -> str:
    if kind == "boolean":
        return "true" if value else "false"
    if isinstance(value, list | tuple | set):
        value = "; ".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return _NOT_XML.sub("\ufffd", str(value))


def render(content: Graph, output: Path, synthetic: bool) -> None:
    ET.register_namespace("", NAMESPACE)
    root = ET.Element(f"{{{NAMESPACE}}}graphml")
    keys: dict[tuple[str, str], tuple[str, str]] = {}  # (for, name) → (key id, type)

    def declare(domain: str, name: str, values: list[Any]) -> None:
        key_id, kind = f"{domain[0]}{len(keys)}", _type(values)
        keys[(domain, name)] = (key_id, kind)
        ET.SubElement(root, f"{{{NAMESPACE}}}key", {"id": key_id, "for": domain, "attr.name": name, "attr.type": kind})

    graph_data = {"name": content.title, "synthetic": synthetic}
    for name, value in graph_data.items():
        declare("graph", name, [value])
    for name in content.node_fields:
        declare("node", name, [n.get(name) for n in content.nodes])
    for name in content.edge_fields:
        declare("edge", name, [e.get(name) for e in content.edges])

    def data(parent: ET.Element, domain: str, name: str, value: Any) -> None:
        if value is None:
            return
        key_id, kind = keys[(domain, name)]
        ET.SubElement(parent, f"{{{NAMESPACE}}}data", {"key": key_id}).text = _text(value, kind)

    graph = ET.SubElement(root, f"{{{NAMESPACE}}}graph", {"id": "G", "edgedefault": "undirected"})
    for name, value in graph_data.items():
        data(graph, "graph", name, value)
    for node in content.nodes:
        element = ET.SubElement(graph, f"{{{NAMESPACE}}}node", {"id": _text(node["id"], "string")})
        for name in content.node_fields:
            data(element, "node", name, node.get(name))
    for number, edge in enumerate(content.edges):
        attributes = {"id": f"e{number}", "source": str(edge["source"]), "target": str(edge["target"])}
        element = ET.SubElement(graph, f"{{{NAMESPACE}}}edge", attributes)
        for name in content.edge_fields:
            data(element, "edge", name, edge.get(name))
    ET.indent(root, space=" ")
    output.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(output, encoding="UTF-8", xml_declaration=True)


RENDERER = Renderer(
    "graphml", frozenset({"graph"}), ".graphml", "a link chart for Gephi, yEd, Cytoscape, igraph", render
)
