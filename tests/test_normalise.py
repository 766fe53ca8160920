"""Every normalisation rule, with properties where a rule has an invariant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tipfusion.normalise import Context, clean, parse_date, parse_timestamp
from tipfusion.normalise.device import luhn_ok
from tipfusion.normalise.freetext import mine
from tipfusion.normalise.simple import esp_scope
from tipfusion.normalise.timestamps import ImpossibleTime

# -- email ------------------------------------------------------------------------------------------------


def test_email_trim_and_casefold() -> None:
    cleaned = clean("email", "  Quiet.Fox@Example.NET ")
    assert cleaned is not None
    assert cleaned.value == "quiet.fox@example.net"
    assert cleaned.canonical == "quiet.fox@example.net"  # no provider rule for example.net
    assert cleaned.valid


@pytest.mark.parametrize("raw", ["Quiet.Fox+pics@gmail.com", "quietfox@googlemail.com", "q.u.i.e.t.f.o.x@GMAIL.com"])
def test_gmail_dots_and_tags_share_a_canonical_form(raw: str) -> None:
    cleaned = clean("email", raw)
    assert cleaned is not None and cleaned.canonical == "quietfox@gmail.com"
    assert cleaned.value == raw.strip().casefold() or raw.endswith("googlemail.com")


def test_outlook_strips_tags_but_keeps_dots() -> None:
    cleaned = clean("email", "a.b+x@outlook.com")
    assert cleaned is not None and cleaned.canonical == "a.b@outlook.com"


@pytest.mark.parametrize("raw", ["not-an-email", "a@b", "two@@example.com", "sp ace@example.com"])
def test_invalid_emails_are_kept_and_flagged(raw: str) -> None:
    cleaned = clean("email", raw)
    assert cleaned is not None and not cleaned.valid and "invalid_email" in cleaned.flags


local_parts = st.from_regex(r"[a-z][a-z0-9._]{0,15}[a-z0-9]", fullmatch=True)


@given(local_parts, st.sampled_from(["example.com", "example.org", "mail.example.com", "gmail.com"]))
def test_email_cleaning_is_idempotent_and_case_blind(local: str, domain: str) -> None:
    first = clean("email", f"{local}@{domain}")
    shouted = clean("email", f"  {local.upper()}@{domain.upper()}  ")
    assert first is not None and shouted is not None
    assert first.canonical == shouted.canonical
    again = clean("email", first.value)
    assert again is not None and again.value == first.value and again.canonical == first.canonical


# -- phone ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw,cc",
    [
        ("+91 98110 12345", None),
        ("098110 12345", None),
        ("98110-12345", "+91"),
        ("+919811012345", None),
        ("9811012345", None),
        ("0091 98110 12345", None),
    ],
)
def test_indian_mobile_variants_share_e164(raw: str, cc: str | None) -> None:
    cleaned = clean("phone", raw, Context(phone_region="IN", country_calling_code=cc))
    assert cleaned is not None and cleaned.value == "+919811012345" and cleaned.valid
    assert cleaned.detail == "mobile"


def test_country_calling_code_attribute_beats_profile_region() -> None:
    cleaned = clean("phone", "030 1234567", Context(phone_region="IN", country_calling_code="+49"))
    assert cleaned is not None and cleaned.value == "+49301234567" and cleaned.detail == "fixed_line"


def test_invalid_phone_is_kept_and_flagged() -> None:
    cleaned = clean("phone", "12345", Context(phone_region="IN"))
    assert cleaned is not None and not cleaned.valid
    letters = clean("phone", "call me", Context(phone_region="IN"))
    assert letters is None  # nothing to keep


@given(
    st.integers(min_value=6_000_000_000, max_value=9_999_999_999),
    st.sampled_from(["+91 {a} {b}", "0{n}", "{a}-{b}", "+91{n}", "{n}", "(+91) {a}{b}"]),
)
def test_phone_formats_of_one_number_agree(national: int, template: str) -> None:
    text = str(national)
    rendered = template.format(a=text[:5], b=text[5:], n=text)
    plain = clean("phone", f"+91{text}", Context(phone_region="IN"))
    variant = clean("phone", rendered, Context(phone_region="IN"))
    assert plain is not None and variant is not None
    assert plain.value == variant.value


# -- IP -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "raw,value,kind",
    [
        ("203.0.113.45", "203.0.113.45", "documentation"),
        ("::ffff:198.51.100.7", "198.51.100.7", "documentation"),
        ("100.64.1.2", "100.64.1.2", "cgnat"),
        ("100.127.255.254", "100.127.255.254", "cgnat"),
        ("10.1.2.3", "10.1.2.3", "private"),
        ("192.168.0.1", "192.168.0.1", "private"),
        ("127.0.0.1", "127.0.0.1", "loopback"),
        ("169.254.1.1", "169.254.1.1", "link_local"),
        ("8.8.8.8", "8.8.8.8", "public"),
        ("2001:DB8:0:0::1", "2001:db8::1", "documentation"),
        ("2404:6800:4009::200e", "2404:6800:4009::200e", "public"),
        ("[2001:db8::5]", "2001:db8::5", "documentation"),
        ("198.018.001.002", "198.18.1.2", "documentation"),
        ("240.0.0.1", "240.0.0.1", "reserved"),
        ("fe80::1%eth0", "fe80::1", "link_local"),
    ],
)
def test_ip_canonical_and_class(raw: str, value: str, kind: str) -> None:
    cleaned = clean("ip", raw)
    assert cleaned is not None and cleaned.valid
    assert (cleaned.value, cleaned.detail) == (value, kind)


def test_not_an_ip_is_invalid() -> None:
    cleaned = clean("ip", "300.1.2.3")
    assert cleaned is not None and not cleaned.valid and "invalid_ip" in cleaned.flags


@given(st.ip_addresses())
def test_ip_cleaning_round_trips(address: object) -> None:
    cleaned = clean("ip", str(address))
    assert cleaned is not None and cleaned.valid
    again = clean("ip", cleaned.value)
    assert again is not None and again.value == cleaned.value


@given(st.ip_addresses(v=4))
def test_ipv4_mapped_ipv6_unwraps(address: object) -> None:
    mapped = clean("ip", f"::ffff:{address}")
    assert mapped is not None and mapped.value == str(address)


# -- screen names, ESP users, URLs, groups ----------------------------------------------------------------------
def test_screen_name_folding() -> None:
    cleaned = clean("screen_name", "  @QuietFox87 ")
    assert cleaned is not None and cleaned.value == "quietfox87"


def test_esp_user_ids_are_scoped_by_esp() -> None:
    a = clean("esp_user", "u-1", Context(esp_scope="examplechat.test"))
    b = clean("esp_user", "u-1", Context(esp_scope="photoshare.test"))
    assert a is not None and b is not None and a.canonical != b.canonical
    assert a.value == "examplechat.test/u-1"


def test_esp_scope_prefers_reporting_domain() -> None:
    assert esp_scope("ExampleChat, Inc.", "Trust@ExampleChat.test") == "examplechat.test"
    assert esp_scope("ExampleChat, Inc.", None) == "examplechat"
    assert esp_scope(None, None) == "unknown-esp"


def test_url_normalisation() -> None:
    cleaned = clean("url", "HTTPS://www.Example.com:443/u/fox/")
    assert cleaned is not None and cleaned.value == "https://www.example.com/u/fox"
    assert cleaned.canonical == "example.com/u/fox"


# -- devices ------------------------------------------------------------------------------------------------------
def test_imei_luhn() -> None:
    good = clean("device", "49-015420-323751-8", Context(id_type="IMEI"))
    assert good is not None and good.valid and good.value == "IMEI:490154203237518"
    bad = clean("device", "490154203237519", Context(id_type="imei"))
    assert bad is not None and not bad.valid and "imei_luhn_failed" in bad.flags
    sv = clean("device", "4901542032375101", Context(id_type="IMEISV"))
    assert sv is not None and sv.canonical == good.canonical  # same handset, software version aside


@given(st.text(alphabet="0123456789", min_size=14, max_size=14))
def test_luhn_completion_always_validates(body: str) -> None:
    check = next(d for d in "0123456789" if luhn_ok(body + d))
    cleaned = clean("device", body + check, Context(id_type="IMEI"))
    assert cleaned is not None and cleaned.valid


# -- hashes -----------------------------------------------------------------------------------------------------
def test_hash_lowercased_and_typed() -> None:
    cleaned = clean("file_hash", "214F0319 2322F8B0 5AADF341 4B1E186E", Context(hash_type="md5"))
    assert cleaned is not None and cleaned.valid and cleaned.value == "md5:214f03192322f8b05aadf3414b1e186e"


def test_hash_length_must_match_type() -> None:
    cleaned = clean("file_hash", "abcd" * 8, Context(hash_type="SHA1"))
    assert cleaned is not None and not cleaned.valid and "hash_length_mismatch" in cleaned.flags


def test_hash_type_inferred_from_length() -> None:
    cleaned = clean("file_hash", "a" * 64)
    assert cleaned is not None and cleaned.detail == "SHA256" and "hash_type_inferred" in cleaned.flags


@given(st.binary(min_size=1, max_size=64), st.sampled_from(["MD5", "SHA1", "SHA256"]))
def test_real_digests_validate(data: bytes, kind: str) -> None:
    import hashlib

    digest = hashlib.new(kind.lower().replace("sha", "sha"), data).hexdigest().upper()
    cleaned = clean("file_hash", digest, Context(hash_type=kind))
    assert cleaned is not None and cleaned.valid and cleaned.value == f"{kind.lower()}:{digest.lower()}"


# -- timestamps ----------------------------------------------------------------------------------------------------
def test_timestamp_to_utc_with_offset() -> None:
    parsed = parse_timestamp("2025-03-14T21:07:33+05:30")
    assert parsed.utc == datetime(2025, 3, 14, 15, 37, 33, tzinfo=UTC) and parsed.had_zone


def test_timestamp_without_zone_is_flagged_not_guessed_silently() -> None:
    parsed = parse_timestamp("2025-03-14T21:07:33")
    assert parsed.utc == datetime(2025, 3, 14, 21, 7, 33, tzinfo=UTC) and not parsed.had_zone


def test_nanoseconds_are_truncated_to_microseconds() -> None:
    assert parse_timestamp("2025-03-14T20:55:02.123456789Z").utc.microsecond == 123456


@pytest.mark.parametrize(
    "raw",
    ["2025-02-30T00:00:00Z", "2025-13-01T00:00:00Z", "1900-01-01T00:00:00Z", "9999-01-01T00:00:00Z", "yesterday", ""],
)
def test_impossible_timestamps_raise(raw: str) -> None:
    with pytest.raises(ImpossibleTime):
        parse_timestamp(raw)


@given(
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2026, 1, 1)),
    st.integers(min_value=-12 * 60, max_value=14 * 60),
)
def test_any_offset_gives_the_same_instant(moment: datetime, minutes: int) -> None:
    zone = timezone(timedelta(minutes=minutes))
    aware = moment.replace(tzinfo=UTC)
    text = aware.astimezone(zone).isoformat()
    assert parse_timestamp(text).utc == aware


def test_dates_of_birth() -> None:
    assert parse_date("1987-05-04").year == 1987
    with pytest.raises(ImpossibleTime):
        parse_date("1987-02-30")
    with pytest.raises(ImpossibleTime):
        parse_date("2999-01-01")


# -- free text -------------------------------------------------------------------------------------------------------
def test_free_text_mining() -> None:
    found = set(mine("login from 192.0.2.7 and 2001:db8::9, mail fox@example.com; version 1.2.3"))
    assert found == {("ip", "192.0.2.7"), ("ip", "2001:db8::9"), ("email", "fox@example.com")}
