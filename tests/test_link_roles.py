"""A kind's linking role lives in the registry only (issue 12 §1): linking asks `IdentifierKind.links` which kinds are
the account itself, never a kind name written in its code.

`normalise.registry.ACCOUNT_KEYS` names the kinds whose `Links.how` is ACCOUNT (the ESP user ID): reports holding
one are one node in suspect resolution, and a recipient's is network evidence. The scan below fails when a module of
`tipfusion.link` compares a kind with a literal kind name, so a second account kind (or a renamed one) cannot be
missed in one place.
"""

from __future__ import annotations

import ast
from pathlib import Path

import tipfusion.link
from tipfusion.link.records import LinkInput
from tipfusion.link.settings import LinkSettings
from tipfusion.link.suspects import SAME_ACCOUNT, resolve_suspects
from tipfusion.normalise.kind import ACCOUNT
from tipfusion.normalise.registry import ACCOUNT_KEYS, KINDS

LINK = Path(tipfusion.link.__file__).parent
LINKING_KINDS = {name for name, kind in KINDS.items() if kind.links is not None}


def _literals(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def test_the_account_keys_are_the_kinds_whose_links_are_the_account() -> None:
    accounts = {name for name, kind in KINDS.items() if kind.links is not None and kind.links.how == ACCOUNT}
    assert accounts and accounts == ACCOUNT_KEYS
    for name in accounts:  # linking meets an account under its own kind's name
        links = KINDS[name].links
        assert links is not None and links.key(name, "x") == (name, "x")


def test_no_link_module_names_a_kind_to_decide_its_role() -> None:
    found = []
    for path in sorted(LINK.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Compare):
                continue
            sides = [node.left, *node.comparators]
            if not any("kind" in ast.unparse(side) for side in sides):
                continue
            named = set().union(*(_literals(side) for side in sides)) & LINKING_KINDS
            if named:
                found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert not found, "ask the registry (normalise.registry) instead of naming kinds:\n" + "\n".join(found)


def test_reports_on_one_account_are_one_suspect_under_the_registry_s_account_kind() -> None:
    (account,) = sorted(ACCOUNT_KEYS)[:1]
    data = LinkInput(reports=[1, 2, 3], identity=[(1, account, "esp/u1"), (3, account, "esp/u1"), (2, account, "u2")])
    clustering = resolve_suspects(data, LinkSettings())
    assert clustering.label_of == {1: 1, 2: 2, 3: 1}
    (link,) = clustering.links
    assert (link.a, link.b, link.score) == (1, 3, SAME_ACCOUNT) and link.evidence[0][0] == account
