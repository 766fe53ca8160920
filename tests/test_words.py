"""Every code the code base can emit has words, in English and Hindi (refer/words.py).

The codes are read from where they are defined, not copied here: the triage factors from the tuples score_report
and the triage service append, the identifiability reasons from REASONS and identifiability()'s returns, the routing
bases and confidences from the Decision(...) calls, the CyberTipline enumerations, the identifier kinds, the roles
and the network types enrich assigns. A new code without words fails here.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Iterator
from dataclasses import fields
from types import ModuleType

import pytest

from tipfusion.domain import PARTY_LABELS, PARTY_ROLES
from tipfusion.enrich import identify
from tipfusion.enrich import ip as enrich_ip
from tipfusion.ingest import enums
from tipfusion.normalise.registry import KINDS
from tipfusion.refer import dossier, words
from tipfusion.route import routing
from tipfusion.route import service as route_service
from tipfusion.triage import factors
from tipfusion.triage import service as triage_service

DEVANAGARI = re.compile(r"[\u0900-\u097F]")


def _tree(module: ModuleType) -> ast.Module:
    return ast.parse(inspect.getsource(module))


def _strings(node: ast.AST, module: ModuleType) -> Iterator[str]:
    """String constants a value expression can produce: both arms of an `if`, a dict's values, a module constant."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.IfExp):
        yield from _strings(node.body, module)
        yield from _strings(node.orelse, module)
    elif isinstance(node, ast.Dict):
        for value in node.values:
            yield from _strings(value, module)
    elif isinstance(node, ast.Subscript):
        yield from _strings(node.value, module)
    elif isinstance(node, ast.Name):
        held = getattr(module, node.id, None)
        if isinstance(held, str):
            yield held
        elif isinstance(held, dict):
            yield from (v for v in held.values() if isinstance(v, str))


def factor_codes() -> set[str]:
    """First element of every (factor, points, why) tuple the scorer and the triage service build: a 3-tuple that
    starts with a string and whose points are not a string."""
    found = set()
    for module in (factors, triage_service):
        for node in ast.walk(_tree(module)):
            if isinstance(node, ast.Tuple) and len(node.elts) == 3:
                first, points = node.elts[0], node.elts[1]
                if _text(first) and not _text(points):
                    assert isinstance(first, ast.Constant)
                    found.add(first.value)
    return found


def _text(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def decision_codes(position: int) -> set[str]:
    """Strings passed as Decision(...)'s basis (2) or confidence (3), plus the kinds routing loops over."""
    found: set[str] = set()
    for module in (routing, route_service):
        for node in ast.walk(_tree(module)):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "Decision"
                and len(node.args) > position
            ):
                found |= set(_strings(node.args[position], module))
    if position == 2:
        found |= set(routing.POINT_KINDS) | set(routing.PLACE_KINDS) | {routing.CENTRAL}
    else:
        found |= {confidence for confidence, _ in routing.POINT_KINDS.values()}
    return found


def network_types() -> set[str]:
    """Every value enrich gives `network_type`: assigned, or passed to IpInfo(...) (by position or keyword)."""
    position = [f.name for f in fields(enrich_ip.IpInfo)].index("network_type")
    found: set[str] = set()
    for node in ast.walk(_tree(enrich_ip)):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Attribute) and t.attr == "network_type" for t in node.targets
        ):
            found |= set(_strings(node.value, enrich_ip))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "IpInfo":
            given = [k.value for k in node.keywords if k.arg == "network_type"]
            given += node.args[position : position + 1]
            for value in given:
                found |= set(_strings(value, enrich_ip))
    return found


def identifiability_codes() -> set[str]:
    returned: set[str] = set()
    function = next(
        n for n in ast.walk(_tree(identify)) if isinstance(n, ast.FunctionDef) and n.name == "identifiability"
    )
    for node in ast.walk(function):
        if isinstance(node, ast.Return) and node.value is not None:
            returned |= {s for s in _strings(node.value, identify) if s}
            for part in ast.walk(node.value):
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    returned.add(part.value)
    assert returned <= set(identify.REASONS), "identifiability() returns a code REASONS does not explain"
    return set(identify.REASONS)


EMITTED = {
    "factor": factor_codes,
    "identifiability": identifiability_codes,
    "basis": lambda: decision_codes(2),
    "confidence": lambda: decision_codes(3),
    "incident_type": lambda: set(enums.INCIDENT_TYPES),
    "relevance": lambda: set(enums.FILE_RELEVANCE),
    "annotation": lambda: set(enums.REPORT_ANNOTATIONS) | set(enums.FILE_ANNOTATIONS),
    "event": lambda: set(enums.EVENT_NAMES),
    "role": lambda: set(PARTY_ROLES),
    "kind": lambda: set(KINDS),
    "network_type": network_types,
    "reported_field": lambda: set(dossier.AS_REPORTED_FIELDS),
    "answer": lambda: {words.answer(True), words.answer(False), words.answer(None)},
}


def test_the_derivations_find_what_they_should() -> None:
    """The readers above are not vacuous: known codes of each kind are found."""
    assert {"minor_contact", "escalated", "most_urgent_report", "analyst_pin", "analyst_lower", "recent"} <= (
        factor_codes()
    )
    assert {"report_address", "isp_answer", "pin_hint", "analyst override", "central: conflicting addresses"} <= (
        decision_codes(2)
    )
    assert {"high", "medium", "low", "none"} <= decision_codes(3)
    assert {"fixed", "mobile_cgnat", "hosting_vpn", "private", "reserved", "unknown"} <= network_types()
    assert "ip_time" in identifiability_codes()


@pytest.mark.parametrize("vocabulary", sorted(EMITTED))
def test_every_code_has_words_in_english_and_hindi(vocabulary: str) -> None:
    codes = EMITTED[vocabulary]()
    held = words.VOCABULARIES[vocabulary]
    missing = sorted(codes - set(held))
    assert not missing, f"{vocabulary}: no words for {missing} (add them to src/tipfusion/refer/words.py)"
    for code in codes:
        english, hindi = held[code]
        assert english.strip() and hindi.strip(), (vocabulary, code)
        assert DEVANAGARI.search(hindi), f"{vocabulary} {code!r}: the Hindi is not in Devanagari: {hindi!r}"
    assert set(held) <= codes, f"{vocabulary}: words for codes nothing emits: {sorted(set(held) - codes)}"


def test_words_for_people() -> None:
    assert words.both("factor", "minor_contact") == (
        "a child involved (victim or recipient under 18)\nबालक शामिल (18 वर्ष से कम पीड़ित या प्राप्तकर्ता)"
    )
    assert words.english("identifiability", "ip_time") == "IP address and exact time"
    assert words.english("basis", "report_address").startswith("address in the report")
    assert words.both("role", "victim", " / ") == "victim / पीड़ित"
    assert words.english("role", "associated") == PARTY_LABELS["associated"]  # one wording across outputs
    # an unknown code is shown as received, never hidden
    assert words.words("annotation", "informational") == ("informational", "informational")
    assert words.both("annotation", "informational") == "informational"
    assert words.english("event", None) == ""
