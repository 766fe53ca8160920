"""Hostile input, generated: hypothesis strategies that turn the project's own good documents (ESP XML report and
fileDetails, police JSON, leads CSV, ISP answers) into what an attacker, a broken exporter or a careless operator
sends — bit flips, truncation, deep nesting, huge numbers, non-ASCII digits, formula payloads, markup and escape
sequences in names, DTDs, lying encodings, broken, nested, encrypted and lying zips.

Every case carries its family and the mutations applied, so a failure names a reproducer in words."""

from __future__ import annotations

import io
import itertools
import json
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st

from tests.test_answers import ANSWER_HEADER

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REPORT_XML = (FIXTURES / "100000042.xml").read_bytes()
FILE_DETAILS_XML = (FIXTURES / "file-0a1b2c3d.xml").read_bytes()
POLICE_JSON = json.loads((FIXTURES / "police-100000042.json").read_bytes())
REPEAT_BYTES = 72 * 1024 * 1024  # a repeated document grows to just past the 64 MiB document limit, no further
LEADS_HEADER = b"lead_ref,agency,kind,value,country,received_at,note\n"

_ids = itertools.count(300_000_001)  # fresh report numbers: a good report lands as new, never as a duplicate


def fresh_id() -> int:
    return next(_ids)


@dataclass
class Case:
    """One document (or link) placed in a batch."""

    name: str  # file name inside the case's own folder
    data: bytes
    family: str  # esp_xml | file_details | police_json | leads_csv | zip | isp_answer | filesystem
    mutations: list[str] = field(default_factory=list)
    good_report: int | None = None  # a good report that must land
    symlink_to: str | None = None  # a link, not a file
    members: list[Case] = field(default_factory=list)  # a zip's cases, as built (before any damage)

    def describe(self) -> str:
        what = f"{self.family} {self.name!r} ({len(self.data):,} bytes)"
        return what + (": " + ", ".join(self.mutations) if self.mutations else ": unchanged")


# -- values an attacker picks -------------------------------------------------------------------------------
HUGE_NUMBERS = [
    "18446744073709551616",  # 2**64
    "9223372036854775808",  # 2**63
    "99999999999999999999999999999999999999",
    "-1",
    "-9223372036854775809",
    "1e309",
    "0x7fffffff",
    "NaN",
    "٥١٣٢٢",  # Arabic-Indic digits
    "５１３２２",  # full-width digits
    "²³",  # superscripts: str.isdigit() says yes, int() says no
    "१२३४५",  # Devanagari digits
    "0" * 400,
    "1" * 5000,
]
FORMULAS = [
    '=HYPERLINK("http://198.51.100.7/x","click")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "=1+1;=2+2",
]
ODD_NAMES = [
    "a[/b].xml",
    "[red]x[/red].xml",
    "[link=file:///etc/passwd]x[/link].xml",
    "\x1b[31mred\x1b[0m.xml",
    "\x1b]0;title\x07.xml",
    "line\nbreak.xml",
    "tab\tname.xml",
    "  spaces  .xml",
    "ünïcödé-名前.xml",
    "-rf.xml",
    "=cmd.xml",
    "a!b.xml",
    "%s%n%x.xml",
    "x" * 240 + ".xml",
    "CON.xml",
    "..xml",
    "report.XML",
    "no-extension",
    "\u202eslm.xml",  # right-to-left override
]
ODD_IDS = [
    "18446744073709551616",
    "0",
    "00000000000000000000000001",
    "１２３４５６",
    "²³",
    "٣٠٠٠٠٠٠٠٠",
    "99999999999999999999",
]
DTDS = [
    b'<!DOCTYPE report [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    b'<!DOCTYPE report [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>',
    b'<!DOCTYPE report SYSTEM "http://198.51.100.9/evil.dtd">',
    b'<!DOCTYPE report [<!ENTITY % p SYSTEM "http://198.51.100.9/p">%p;]>',
]


# -- byte-level damage ----------------------------------------------------------------------------------------
def _at(draw: st.DrawFn, size: int) -> int:
    """A position in `size` bytes, drawn with the same constraints whatever the size: a document's length varies with
    the fresh report numbers it carries, and hypothesis calls a strategy whose draws change with it flaky."""
    return draw(st.integers(0, 2**32 - 1)) % max(size, 1)


@st.composite
def damaged(draw: st.DrawFn, data: bytes, labels: list[str]) -> bytes:
    """Bit flips, truncation, splices or none: what a bad disk, a bad transfer or a fuzzer does to any file."""
    kind = draw(st.sampled_from(["none", "none", "bitflip", "truncate", "splice", "nul", "repeat"]))
    if kind == "none" or not data:
        return data
    if kind == "bitflip":
        out = bytearray(data)
        flips = [_at(draw, len(out) * 8) for _ in range(draw(st.integers(1, 8)))]
        for bit in flips:
            out[bit // 8] ^= 1 << (bit % 8)
        labels.append(f"bitflip{sorted(flips)}")
        return bytes(out)
    if kind == "truncate":
        cut = _at(draw, len(data))
        labels.append(f"truncate@{cut}")
        return data[:cut]
    if kind == "splice":
        at = _at(draw, len(data) + 1)
        junk = draw(st.binary(min_size=1, max_size=64))
        labels.append(f"splice@{at}:{junk!r}")
        return data[:at] + junk + data[at:]
    if kind == "nul":
        at = _at(draw, len(data) + 1)
        labels.append(f"nul@{at}")
        return data[:at] + b"\x00" + data[at:]
    times = min(draw(st.sampled_from([2, 50, 2000])), max(2, REPEAT_BYTES // len(data)))
    labels.append(f"repeat×{times}")
    return data * times


def _swap(data: bytes, old: bytes, new: str) -> bytes:
    return data.replace(old, new.encode("utf-8", "surrogatepass"))


def _xml_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;")


# -- ESP XML --------------------------------------------------------------------------------------------------
@st.composite
def esp_report(draw: st.DrawFn, good: bool = False) -> Case:
    report_id = fresh_id()
    data = REPORT_XML.replace(b"u-7f3a91c2", f"u-{report_id}".encode())
    if good:
        return Case(f"{report_id}.xml", data, "esp_xml", good_report=report_id)
    labels: list[str] = []
    name = f"{report_id}.xml"
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(
                ["number", "formula", "name", "id", "nesting", "dtd", "encoding", "attr", "empty", "bom", "comment"]
            )
        )
        if kind == "number":
            value = draw(st.sampled_from(HUGE_NUMBERS))
            target = draw(st.sampled_from([b"<port>51322</port>", b"2025-03-14T21:07:33Z", b"203.0.113.45"]))
            new = f"<port>{value}</port>" if target.startswith(b"<port>") else value
            data = _swap(data, target, new)
            labels.append(f"{target.decode()}→{value[:24]}")
        elif kind == "formula":
            value = draw(st.sampled_from(FORMULAS))
            target = draw(st.sampled_from([b"Alex", b"quietfox87", b"ExampleChat for Android", b"group-4471"]))
            data = _swap(data, target, _xml_text(value))
            labels.append(f"formula {value!r} in place of {target.decode()}")
        elif kind == "name":
            name = draw(st.sampled_from(ODD_NAMES))
            labels.append(f"named {name!r}")
        elif kind == "id":
            stem = draw(st.sampled_from(ODD_IDS))
            name = f"{stem}.xml"
            labels.append(f"report id {stem!r}")
        elif kind == "nesting":
            depth = draw(st.sampled_from([50, 1_000, 10_000, 100_000]))
            data = data.replace(b"</reporter>", b"<x>" * depth + b"</x>" * depth + b"</reporter>", 1)
            labels.append(f"nested {depth} deep")
        elif kind == "dtd":
            dtd = draw(st.sampled_from(DTDS))
            at = draw(st.sampled_from(["prolog", "late"]))
            if at == "prolog":
                data = data.replace(b"?>", b"?>" + dtd, 1)
            else:  # past the first 64 KiB, where a streaming reader may no longer look
                data = data.replace(b"?>", b"?><!--" + b" " * 70_000 + b"-->" + dtd, 1)
            labels.append(f"DTD ({at}) {dtd[:40]!r}")
        elif kind == "encoding":
            enc = draw(st.sampled_from(["UTF-16", "latin-1", "ebcdic-cp-us", "nonsense"]))
            data = data.replace(b'encoding="UTF-8"', f'encoding="{enc}"'.encode(), 1)
            labels.append(f"declares {enc}")
        elif kind == "attr":
            data = data.replace(b'verified="true"', b'verified="true" ' + b'a="1" ' * 1, 1).replace(
                b"<report ", b"<report " + b" ".join(f'x{i}="{i}"'.encode() for i in range(2000)) + b" ", 1
            )
            labels.append("2000 attributes")
        elif kind == "empty":
            data = draw(st.sampled_from([b"", b" ", b"<report/>", b"<report></report>", b"<?xml version='1.0'?>"]))
            labels.append(f"content {data!r}")
        elif kind == "bom":
            data = draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"])) + data
            labels.append("byte-order mark")
        else:
            data = data.replace(b"</report>", b"<!--" + "\u2028\x85".encode() * 5000 + b"--></report>")
            labels.append("long comment of line separators")
    data = draw(damaged(data, labels))
    return Case(name, data, "esp_xml", labels)


@st.composite
def file_details(draw: st.DrawFn) -> Case:
    report_id = draw(st.sampled_from([str(fresh_id()), "100000042", *ODD_IDS, "", "abc"]))
    data = FILE_DETAILS_XML.replace(b"<reportId>100000042</reportId>", f"<reportId>{report_id}</reportId>".encode())
    labels = [f"reportId {report_id!r}"]
    if draw(st.booleans()):
        value = draw(st.sampled_from(HUGE_NUMBERS + FORMULAS))
        target = draw(st.sampled_from([b"51322", b"IMG_0001.jpg", b"214f03192322f8b05aadf3414b1e186e", b"B2"]))
        data = _swap(data, target, _xml_text(value))
        labels.append(f"{target.decode()}→{value[:24]!r}")
    data = draw(damaged(data, labels))
    name = draw(st.sampled_from(["file.xml", *ODD_NAMES[:6]]))
    return Case(name, data, "file_details", labels)


# -- police JSON ----------------------------------------------------------------------------------------------
def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@st.composite
def police_json(draw: st.DrawFn, good: bool = False) -> Case:
    report_id = fresh_id()
    obj = json.loads(json.dumps(POLICE_JSON))
    obj["reportId"] = report_id
    if good:
        return Case(f"police-{report_id}.json", json.dumps(obj).encode(), "police_json", good_report=report_id)
    labels: list[str] = []
    raw_override: str | None = None
    kind = draw(st.sampled_from(["id", "number", "formula", "nesting", "mixed", "tokens", "shape", "encoding"]))
    if kind == "id":
        value = draw(
            st.sampled_from(
                [10**30, -5, 1.5, 2**63, 2**64, "１２３", "²³", "  42 ", None, [], {}, True, "9" * 400, 1e308]
            )
        )
        obj["reportId"] = value
        labels.append(f"reportId {value!r}"[:80])
    elif kind == "number":
        value = draw(st.sampled_from([10**40, -(2**70), 1e308, "٥١٣٢٢", "５１３２２", 65536, -1]))
        capture = obj["reportedInformation"]["reportedPeople"]["reportedPersons"][0]["sourceInformation"]
        capture["sourceCaptures"][0]["port"] = value
        labels.append(f"port {value!r}")
    elif kind == "formula":
        value = draw(st.sampled_from(FORMULAS))
        obj["reportedInformation"]["reportedPeople"]["reportedPersons"][0]["screenName"]["value"] = value
        labels.append(f"screen name {value!r}")
    elif kind == "nesting":
        depth = draw(st.sampled_from([100, 1_000, 10_000, 100_000]))
        where = draw(st.sampled_from(["value", "document"]))
        body = json.dumps(obj)
        raw_override = body[:-1] + f', "deep": {_nested(depth)}}}' if where == "value" else _nested(depth)
        labels.append(f"nested {depth} deep ({where})")
    elif kind == "mixed":  # a list: good reports around a bad one; the good ones must land
        bad = json.loads(json.dumps(obj))
        bad["reportId"] = draw(st.sampled_from([2**64, "x", None]))
        first, last = json.loads(json.dumps(obj)), json.loads(json.dumps(obj))
        first["reportId"], last["reportId"] = fresh_id(), fresh_id()
        raw_override = json.dumps([first, bad, last])
        labels.append(f"list of 3, the middle reportId {bad['reportId']!r}")
    elif kind == "tokens":
        token = draw(
            st.sampled_from(["NaN", "Infinity", "-Infinity", "1e99999", "01", "0x10", "'single'", "undefined"])
        )
        raw_override = json.dumps(obj).replace(f'"reportId": {report_id}', f'"reportId": {report_id}, "t": {token}')
        labels.append(f"token {token}")
    elif kind == "shape":
        raw_override = draw(st.sampled_from(["{}", "[]", "null", "42", '"text"', "[1,2,3]", "[{}]", '{"reportId":}']))
        labels.append(f"document {raw_override!r}")
    else:
        enc = draw(st.sampled_from(["utf-16", "utf-32", "latin-1"]))
        obj["reportedInformation"]["reportedPeople"]["reportedPersons"][0]["screenName"]["value"] = "ümlaut"
        data = json.dumps(obj, ensure_ascii=False).encode(enc)
        labels.append(f"encoded {enc}")
        return Case(f"police-{report_id}.json", draw(damaged(data, labels)), "police_json", labels)
    data = (raw_override if raw_override is not None else json.dumps(obj)).encode()
    data = draw(damaged(data, labels))
    return Case(f"police-{report_id}.json", data, "police_json", labels)


# -- leads CSV ------------------------------------------------------------------------------------------------
@st.composite
def leads_csv(draw: st.DrawFn) -> Case:
    ref = f"FZ-{fresh_id()}"
    rows = [f"{ref},Example Foreign Police,phone,+44 7700 900123,GB,2026-10-01T09:00:00Z,ring"]
    labels: list[str] = []
    kind = draw(st.sampled_from(["formula", "kind", "huge", "digits", "columns", "quotes", "many", "encoding"]))
    if kind == "formula":
        value = draw(st.sampled_from(FORMULAS))
        rows.append(f'{ref},"{value}",email,"{value}@example.com",GB,2026-10-01T09:00:00Z,"{value}"')
        labels.append(f"formula {value!r}")
    elif kind == "kind":
        rows.append(f"{ref},X,{draw(st.sampled_from(['password', '', 'PHONE', 'ip ', '=1']))},1,GB,,")
        labels.append("unknown kind")
    elif kind == "huge":
        size = draw(st.sampled_from([1_000, 200_000, 2_000_000]))
        rows.append(f"{ref},X,url,https://example.com/{'a' * size},GB,,")
        labels.append(f"{size:,}-character value")
    elif kind == "digits":
        value = draw(st.sampled_from(["＋４４ ７７００ ９００１２３", "+44 ٧٧٠٠ ٩٠٠١٢٣", "²³⁴", "9" * 60]))
        rows.append(f"{ref},X,phone,{value},GB,,")
        labels.append(f"phone {value!r}")
    elif kind == "columns":
        rows.append(f"{ref}," + ",".join(["x"] * draw(st.sampled_from([1, 20, 5000]))))
        labels.append("wrong column count")
    elif kind == "quotes":
        rows.append(f'{ref},"unterminated,phone,+44 7700 900124,GB,,')
        labels.append("unterminated quote")
    elif kind == "many":
        count = draw(st.sampled_from([100, 5_000]))
        rows += [f"{ref},X,phone,+44 7700 9{i:05d},GB,," for i in range(count)]
        labels.append(f"{count:,} rows")
    data = LEADS_HEADER + "\n".join(rows).encode() + b"\n"
    if kind == "encoding":
        data = (LEADS_HEADER.decode() + "\n".join(rows).replace("Foreign", "Ausländische") + "\n").encode(
            draw(st.sampled_from(["latin-1", "utf-16", "cp1252"]))
        )
        labels.append("not UTF-8")
    data = draw(damaged(data, labels))
    return Case(draw(st.sampled_from(["leads.csv", "leads.CSV", "=leads.csv", "a[/b].csv"])), data, "leads_csv", labels)


# -- zips -----------------------------------------------------------------------------------------------------
def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def _set_flag(data: bytes, bit: int) -> bytes:
    """Set a general-purpose flag bit (0: encrypted) in every local and central header."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (at := out.find(signature, start)) >= 0:
            flags = struct.unpack_from("<H", out, at + offset)[0] | (1 << bit)
            struct.pack_into("<H", out, at + offset, flags)
            start = at + 4
    return bytes(out)


def _lie_sizes(data: bytes) -> bytes:
    """Central directory says each member is 4 GiB uncompressed (a zip bomb's lying header)."""
    out = bytearray(data)
    start = 0
    while (at := out.find(b"PK\x01\x02", start)) >= 0:
        struct.pack_into("<I", out, at + 24, 0xFFFFFFF0)
        start = at + 4
    return bytes(out)


@st.composite
def zip_case(draw: st.DrawFn) -> Case:
    inner: list[Case] = []
    for _ in range(draw(st.integers(1, 4))):
        inner.append(
            draw(st.one_of(esp_report(good=True), esp_report(), police_json(good=True), police_json(), file_details()))
        )
    labels: list[str] = []
    names = [case.name for case in inner]
    rename = draw(st.sampled_from(["none", "none", "slip", "absolute", "markup", "duplicate", "folder"]))
    if rename == "slip":
        names[0] = "../../" + names[0]
    elif rename == "absolute":
        names[0] = "/tmp/" + names[0]
    elif rename == "markup":
        names[0] = "[/x]\x1b[2J" + names[0]
    elif rename == "duplicate" and len(names) > 1:
        names[1] = names[0]
    elif rename == "folder":
        names = [f"deep/{'d/' * 40}{n}" for n in names]
    if rename != "none":
        labels.append(f"member names {rename}")
    data = _zip(list(zip(names, [case.data for case in inner], strict=True)))
    kind = draw(st.sampled_from(["none", "nested", "deeply_nested", "encrypted", "sizes", "damage", "empty"]))
    if kind == "nested":
        for level in range(draw(st.integers(1, 6))):
            data = _zip([(f"level{level}.zip", data)])
        labels.append("nested zips")
    elif kind == "deeply_nested":
        depth = draw(st.sampled_from([60, 400]))
        for level in range(depth):
            data = _zip([(f"l{level}.zip", data)])
        labels.append(f"zip nested {depth} deep")
    elif kind == "encrypted":
        data = _set_flag(data, 0)
        labels.append("members flagged encrypted")
    elif kind == "sizes":
        data = _lie_sizes(data)
        labels.append("central directory sizes lie (4 GiB)")
    elif kind == "empty":
        data = _zip([])
        labels.append("empty zip")
    data = draw(damaged(data, labels)) if kind == "damage" else data
    for case, name in zip(inner, names, strict=True):
        case.name = name
    good = [case for case in inner if case.good_report] if not labels else []
    return Case(f"batch-{fresh_id()}.zip", data, "zip", labels, members=good)


# -- the filesystem -------------------------------------------------------------------------------------------
@st.composite
def filesystem_case(draw: st.DrawFn) -> Case:
    kind = draw(st.sampled_from(["dangling", "hidden", "empty"]))
    if kind == "dangling":
        return Case("gone.xml", b"", "filesystem", ["dangling symlink"], symlink_to="/nonexistent/tipfusion/gone.xml")
    if kind == "hidden":
        return Case(".hidden.xml", REPORT_XML, "filesystem", ["hidden file (dot name)"])
    return Case(f"{fresh_id()}.xml", b"", "filesystem", ["empty file"])


def hostile_case() -> st.SearchStrategy[Case]:
    return st.one_of(esp_report(), file_details(), police_json(), leads_csv(), zip_case(), filesystem_case())


def good_case() -> st.SearchStrategy[Case]:
    return st.one_of(esp_report(good=True), police_json(good=True))


# -- ISP answers ----------------------------------------------------------------------------------------------
ANSWER_ROW = [
    "2001:db8:85a3::8a2e:370:7334",
    "",
    "2025-03-15 02:25:02",
    "Subscriber One",
    "House 1, Demopur sector 3",
    "903003",
    "98110 12345",
    "sub.one@example.com",
    "Voter ID",
    "ABC 1234567",
    "FTTH",
]
ANSWER_VALUES: dict[int, list[str]] = {
    0: ["not-an-ip", "2001:db8::1", "999.1.1.1", "::ffff:198.51.100.7", "=1+1", "２００１:db8::1", ""],
    1: [*HUGE_NUMBERS[:10], "65536", "51322"],
    2: ["yesterday", "2025-02-30 10:00:00", "9999-12-31 23:59:59", "2025-03-15T02:25:02+25:00", "१२", "", "0"],
    3: FORMULAS,
    4: [*FORMULAS, "a" * 100_000],
    5: ["٩٠٣٠٠٣", "９０３００３", "²³", "99999999999999999999"],
    6: ["+91 ９８１１０ １２３４５", "12", "=1+1", "9" * 40],
    7: ["not-an-email", '=HYPERLINK("x")@example.com', "a@" + "b" * 300 + ".com"],
}


def _stable_xlsx(data: bytes) -> bytes:
    """The same workbook as the same bytes: openpyxl stamps the save time into docProps/core.xml and every zip entry,
    so a case drawn twice would differ in size and hypothesis rightly calls the strategy flaky."""
    import re

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2026-01-01T00:00:00Z", content)
            target.writestr(zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0)), content)
    return out.getvalue()


@st.composite
def isp_answer(draw: st.DrawFn) -> Case:
    """An ISP's answer (CSV or XLSX) built from a row that matches a request, then damaged cell by cell or byte by
    byte."""
    import csv

    rows = [list(ANSWER_ROW)]
    header = list(ANSWER_HEADER)
    labels: list[str] = []
    for _ in range(draw(st.integers(0, 3))):
        column = draw(st.sampled_from(sorted(ANSWER_VALUES)))
        value = draw(st.sampled_from(ANSWER_VALUES[column]))
        rows[0][column] = value
        labels.append(f"{header[column]}={value[:30]!r}")
    shape = draw(st.sampled_from(["one", "one", "many", "header", "no_rows", "blank_rows"]))
    if shape == "many":
        rows = rows * draw(st.sampled_from([10, 3_000]))
        labels.append(f"{len(rows):,} rows")
    elif shape == "header":
        header[draw(st.integers(0, len(header) - 1))] = draw(st.sampled_from(["", "=1+1", "IP Address", "[/x]", "ü"]))
        labels.append("odd header")
    elif shape == "no_rows":
        rows = []
        labels.append("header only")
    elif shape == "blank_rows":
        rows = [[""] * len(header), *rows, [None] * 3]  # type: ignore[list-item]
        labels.append("blank rows")
    xlsx = draw(st.booleans())
    if xlsx:
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(header)
        for row in rows:
            sheet.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        data = _stable_xlsx(buffer.getvalue())
    else:
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(header)
        writer.writerows(rows)
        data = text.getvalue().encode(
            draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16"])), "replace"
        )
    data = draw(damaged(data, labels))
    return Case(f"answer.{'xlsx' if xlsx else 'csv'}", data, "isp_answer", labels)
