"""Evidence that adds up and contradicts (issue 17 §1): weak agreements join together, a kind both accounts show
and share none of counts against them by bounded bits measured on the store, and every join says so in words."""

from __future__ import annotations

import math
from dataclasses import replace

from tipfusion.link.evidence import CONTRADICTION, Agreement, estimate_disagreements, measure_agreement
from tipfusion.link.records import LinkInput
from tipfusion.link.settings import LinkSettings
from tipfusion.link.suspects import resolve_suspects

SETTINGS = LinkSettings()
HOME = ("ip_fixed", "198.18.7.9")
SHOWN = ("display_name", "quiet fox")
MAILBOX = ("email", "family@example.com")


def account(report: int, name: str, *values: tuple[str, str]) -> list[tuple[int, str, str]]:
    return [(report, "esp_user", name), *((report, kind, key) for kind, key in values)]


def strangers(count: int, start: int = 100) -> list[tuple[int, str, str]]:
    """Accounts with a phone of their own each: the store's random pairs, which disagree on phones."""
    return [x for r in range(start, start + count) for x in account(r, f"other/{r}", ("phone", f"+9198{r:08d}"))]


def test_a_home_line_and_a_display_name_each_too_weak_add_up_to_one_person() -> None:
    line_only = LinkInput([1, 2], account(1, "chat/a", HOME) + account(2, "photo/b", HOME))
    name_only = LinkInput([1, 2], account(1, "chat/a", SHOWN) + account(2, "photo/b", SHOWN))
    assert resolve_suspects(line_only, SETTINGS).label_of == {1: 1, 2: 2}  # a household line alone: maybe two people
    assert resolve_suspects(name_only, SETTINGS).label_of == {1: 1, 2: 2}
    both = LinkInput([1, 2], account(1, "chat/a", HOME, SHOWN) + account(2, "photo/b", HOME, SHOWN))
    clustering = resolve_suspects(both, SETTINGS)
    assert clustering.label_of == {1: 1, 2: 1}
    (link,) = clustering.links
    assert {(kind, value) for kind, value, _ in link.evidence} == {HOME, SHOWN}
    assert link.score == SETTINGS.weights["ip_fixed"] + SETTINGS.weights["display_name"]


def test_a_display_name_many_accounts_use_adds_nothing_beside_a_home_line() -> None:
    angel = ("display_name", "angel")
    identity = account(1, "chat/a", HOME, angel) + account(2, "photo/b", HOME, angel)
    for r in range(3, 3 + SETTINGS.caps["display_name"]):
        identity += account(r, f"x/{r}", angel)
    clustering = resolve_suspects(LinkInput(sorted({r for r, _, _ in identity}), identity), SETTINGS)
    assert clustering.label_of[2] == 2
    assert any(s.kind == "display_name" and s.value == "angel" for s in clustering.suppressed)


def test_an_email_two_people_share_does_not_join_them_when_their_phones_disagree() -> None:
    pair = account(1, "chat/a", MAILBOX, ("phone", "+919811000001")) + account(
        2, "photo/b", MAILBOX, ("phone", "+919811000002")
    )
    data = LinkInput([1, 2, *range(100, 140)], pair + strangers(40))
    data.verified = {(1, *MAILBOX), (2, *MAILBOX)}
    assert resolve_suspects(data, SETTINGS).label_of[2] == 2  # 8 + 1 verified - 3.3 < 6
    agreeing = LinkInput(
        data.reports,
        account(1, "chat/a", MAILBOX, ("phone", "+919811000001"))
        + account(2, "photo/b", MAILBOX, ("phone", "+919811000001"))
        + strangers(40),
    )
    assert resolve_suspects(agreeing, SETTINGS).label_of[2] == 1
    no_phone = LinkInput(data.reports, account(1, "chat/a", MAILBOX) + account(2, "photo/b", MAILBOX) + strangers(40))
    assert resolve_suspects(no_phone, SETTINGS).label_of[2] == 1  # one side shows no phone: nothing to disagree on
    # a person with two phones and the same name on both accounts: the penalty is bounded and the name carries it
    named = replace(data, names={1: {("asha", "rao")}, 2: {("asha", "rao")}})
    clustering = resolve_suspects(named, SETTINGS)
    assert clustering.label_of[2] == 1
    (link,) = [link for link in clustering.links if {link.a, link.b} == {1, 2}]
    (against,) = [e for e in link.evidence if e[0] == CONTRADICTION]
    assert "both show a phone, none in common" in against[1]
    assert against[2] == round(math.log2(0.1 / (1 - 0.0)), 3)  # m 0.9 prior; 40 distinct phones: u 0
    assert link.score == round(8 + 1 + 2 + against[2], 3)


def test_disagreement_bits_come_from_the_store_and_are_bounded() -> None:
    # 4 accounts show a phone; two of them share one: u = 1 / C(4, 2)
    found = estimate_disagreements({"phone": 4}, [("phone", 2), ("phone", 1), ("phone", 1)], SETTINGS)
    assert found["phone"].u == round(1 / 6, 6)
    assert found["phone"].bits == round(math.log2(0.1 / (1 - 1 / 6)), 3)
    certain = replace(SETTINGS, agreement_m={"phone": 0.9999})
    assert estimate_disagreements({"phone": 4}, [], certain)["phone"].bits == -SETTINGS.disagreement_bound
    assert estimate_disagreements({}, [], SETTINGS)["phone"].u == 0.0  # an empty store: nothing measured, prior only


def test_a_relatives_mailbox_on_an_account_showing_no_phone_does_not_join_two_people() -> None:
    """Account 2 shows the relative's mailbox and no phone; its owner's other account (3), holding the same handset and
    display name (the stronger tie, joined first), shows a phone of their own, as does the relative (1). Pair by pair
    nothing contradicts the mailbox (2 shows no phone), but the groups, taken whole, show two phones and share none:
    the mailbox does not join them. The same accounts with one phone join."""
    own = ("phone", "+919800000003")
    device = ("device", "IMEI:35000000000003")
    data = LinkInput(
        [1, 2, 3, *range(100, 140)],
        account(1, "mail/a", MAILBOX, ("phone", "+919800000001"))
        + account(2, "chat/b", MAILBOX, device, SHOWN)
        + account(3, "photo/c", device, SHOWN, own)
        + strangers(40),
    )
    clustering = resolve_suspects(data, SETTINGS)
    labels = clustering.label_of
    assert labels[2] == labels[3] != labels[1]
    assert all({link.a, link.b} != {1, 2} for link in clustering.links)  # no explanation of a join that was not made
    one_phone = replace(data, identity=[x if x[1:] != own else (3, "phone", "+919800000001") for x in data.identity])
    assert len({resolve_suspects(one_phone, SETTINGS).label_of[r] for r in (1, 2, 3)}) == 1


def test_agreement_is_measured_only_on_pairs_the_kind_itself_did_not_make_sure() -> None:
    phones = {"phone": {"+919800000001"}}
    other = {"phone": {"+919800000002"}}
    pairs = [
        ({"email": 8.0, "device": 8.0}, phones, phones),  # sure without the phone, and agrees on it
        ({"email": 8.0, "device": 8.0}, phones, other),  # sure without the phone, and disagrees
        ({"email": 8.0, "phone": 7.0}, phones, phones),  # 15 bits, but only 8 without the phone: no sample
        ({"email": 8.0, "device": 8.0}, phones, {}),  # one side shows no phone: nothing to measure
    ]
    measured = measure_agreement(pairs, SETTINGS)
    assert measured["phone"] == Agreement(both=2, agree=1)
    # exactly `sure_bits` without the measured kind is sure, whatever the kinds' order and a discounted weight's digits
    # ((0.7652… + 7 + 5) - 0.7652… is below 12 in floating point)
    shown = {"display_name": {"quiet fox"}}
    at_the_line = [({"display_name": 0.7652070772182651, "phone": 7.0, "ip_fixed": 5.0}, shown, shown)]
    assert measure_agreement(at_the_line, SETTINGS)["display_name"] == Agreement(both=1, agree=1)
    assert measured["device"] == Agreement()  # no pair shows a device on both sides
    # measured m is drawn towards the prior by `agreement_prior` pseudo-pairs
    found = estimate_disagreements({"phone": 4}, [], SETTINGS, measured)["phone"]
    assert found.m == round((1 + SETTINGS.agreement_prior * 0.9) / (2 + SETTINGS.agreement_prior), 6)
    assert found.sure == 2 and "2 sure pairs measured" in found.words()


def sure_persons(count: int, keep_display_name: bool, start: int = 200) -> list[tuple[int, str, str]]:
    """`count` persons with two accounts each, tied by an email and a phone (sure without their display names),
    showing one display name on both accounts or a different one on each."""
    identity: list[tuple[int, str, str]] = []
    for n in range(count):
        a, b = start + 2 * n, start + 2 * n + 1
        ties = (("email", f"p{n}@example.com"), ("phone", f"+9197{n:08d}"))
        identity += account(a, f"chat/{a}", *ties, ("display_name", f"name {n}"))
        shown = f"name {n}" if keep_display_name else f"other name {n}"
        identity += account(b, f"photo/{b}", *ties, ("display_name", shown))
    return identity


def test_a_contradiction_weighs_what_the_stores_sure_pairs_say_people_do() -> None:
    """A family phone on two accounts with different display names: where the store's people keep one display name
    on every service, the disagreement outweighs the phone; where they change it from service to service, it does
    not, and the phone joins them as before."""
    family = account(1, "chat/a", ("phone", "+919811000001"), ("display_name", "quiet fox")) + account(
        2, "photo/b", ("phone", "+919811000001"), ("display_name", "sunny")
    )
    reports = [1, 2, *range(200, 260)]
    keep = resolve_suspects(LinkInput(reports, family + sure_persons(30, keep_display_name=True)), SETTINGS)
    assert keep.label_of[2] == 2
    assert keep.label_of[201] == 200  # the sure persons themselves stay whole
    change = resolve_suspects(LinkInput(reports, family + sure_persons(30, keep_display_name=False)), SETTINGS)
    assert change.label_of[2] == 1
    (link,) = [link for link in change.links if {link.a, link.b} == {1, 2}]
    (against,) = [e for e in link.evidence if e[0] == CONTRADICTION]
    assert "display_name" in against[1] and "30 sure pairs measured" in against[1]
    assert -1.0 < against[2] < 0  # m measured low (10 of 50 with the prior): a display name says little here
    # with no sure pairs the prior decides (m 0.5: one bit): 7 - 1 = 6 still joins
    assert resolve_suspects(LinkInput([1, 2], family), SETTINGS).label_of[2] == 1
