"""Hash list files and PDQ matching, without a store: every header variant, bad rows by line, VICS 2.0 and 1.3,
PDQ pairs at exactly 0, 31 and 32 bits, and the multi-index matcher agreeing with brute force."""

from __future__ import annotations

import base64
import csv
import io
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tipfusion.enrich.hashlists import pdq
from tipfusion.enrich.hashlists.formats import fold, parse_csv, parse_vics
from tipfusion.errors import DocumentRejected
from tipfusion.synth.world import synthetic_hashes

H = synthetic_hashes("known-1")
PDQ = H["SHA256"]  # any 64 hex digits stand for a PDQ hash here


def flipped(hex_hash: str, bits: int, start: int = 0) -> str:
    """`hex_hash` with `bits` bits flipped (spread over the 256), so its distance from the original is `bits`."""
    value = int(hex_hash, 16)
    for i in range(bits):
        value ^= 1 << ((start + i * 97) % 256)  # 97 is coprime with 256: distinct positions
    return f"{value:064x}"


# -- headers and rows ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "folded"),
    [("MD5", "md5"), ("SHA-1", "sha1"), ("sha_256", "sha256"), ("MD5 Hash", "md5"), ("hash_md5", "md5"),
     ("PDQHash", "pdq"), ("PDQ", "pdq"), (" Category ", "category"), ("hash", "hash")],
)  # fmt: skip
def test_header_variants_fold_to_one_name(header: str, folded: str) -> None:
    assert fold(header) == folded


def test_csv_with_every_hash_column_comments_and_a_bad_row_by_line() -> None:
    text = (
        "# the unit's list, exported 2026-11-30\n"
        "MD5 Hash;SHA-1;SHA256;PDQHash;Category;Source;Comment\n"
        f"{H['MD5'].upper()};{H['SHA1']};{H['SHA256']};;1;Example list;ignored\n"
        "# a comment between rows\n"
        f"zz;{H['SHA1']};;;1;;\n"
        "\n"
        f";;;{PDQ};2;;\n"
        ";;;;3;Example list;\n"
    )
    parsed = parse_csv(text.encode(), source="list.csv", default_source="the import")
    assert [(e.algorithm, e.line, e.category, e.source) for e in parsed.entries] == [
        ("md5", 3, "1", "Example list"),
        ("sha1", 3, "1", "Example list"),
        ("sha256", 3, "1", "Example list"),
        ("pdq", 7, "2", "the import"),
    ]
    assert parsed.entries[0].canonical == f"md5:{H['MD5']}"  # lower case, as ingest stores a file's hash
    # the row with a bad MD5 is refused whole: its good SHA-1 does not land on its own
    assert [(p.line, p.field) for p in parsed.problems] == [(5, "md5"), (8, None)]
    assert "not hexadecimal" in parsed.problems[0].message and "no hash" in parsed.problems[1].message
    assert parsed.rows == 4 and parsed.ignored_fields == ["Comment"]


def test_csv_hash_and_type_columns() -> None:
    text = f"hash,type,category\n{H['MD5']},MD5,a\n{PDQ},pdq,b\n{H['SHA1']},crc32,c\n"
    parsed = parse_csv(text.encode(), source="t.csv")
    assert [(e.algorithm, e.line) for e in parsed.entries] == [("md5", 2), ("pdq", 3)]
    assert [(p.line, p.field) for p in parsed.problems] == [(4, "type")]


def test_a_type_column_beside_hash_columns_is_not_a_hash_type() -> None:
    parsed = parse_csv(f"md5,type,category\n{H['MD5']},video,1\n".encode(), source="t.csv")
    assert [(e.algorithm, e.category) for e in parsed.entries] == [("md5", "1")] and parsed.ignored_fields == ["type"]


def test_a_quoted_cell_over_two_lines_keeps_later_line_numbers_right() -> None:
    text = f'md5,category\n{H["MD5"]},"two\nlines"\nnope,x\n'
    parsed = parse_csv(text.encode(), source="q.csv")
    assert parsed.entries[0].category == "two\nlines"
    assert [p.line for p in parsed.problems] == [4]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"\xff\xfe md5\n", "not UTF-8"),
        (b"category,source\n1,x\n", "no hash column"),
        (b"md5,MD5\n", "twice"),
        (b"hash,category\n", "without a type column"),
        (b"# only a comment\n", "no header"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(data: bytes, says: str) -> None:
    with pytest.raises(DocumentRejected, match=says):
        parse_csv(data, source="bad.csv")


hex_digits = st.sampled_from("0123456789abcdefABCDEF")
# what each hash cell may hold: empty, a valid hash of that length, or something that is not one (never `#` first)
BAD_CELLS = st.one_of(
    st.text(alphabet="0123456789abcdef", min_size=1, max_size=30),  # too short for any algorithm here
    st.text(alphabet="ghijklmnopqrstuvwxyz!@$%", min_size=1, max_size=10),
)
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"), max_size=12)


@st.composite
def csv_rows(draw: st.DrawFn) -> list[dict[str, str]]:
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        row = {}
        for algorithm, length in (("md5", 32), ("sha1", 40), ("pdq", 64)):
            kind = draw(st.sampled_from(["empty", "good", "bad"]))
            if kind == "good":
                row[algorithm] = "".join(draw(st.lists(hex_digits, min_size=length, max_size=length)))
            elif kind == "bad":
                row[algorithm] = draw(BAD_CELLS)
            else:
                row[algorithm] = ""
        row["category"] = draw(TEXT)
        row["source"] = draw(TEXT)
        rows.append(row)
    return rows


@settings(max_examples=200, deadline=None)
@given(csv_rows(), st.sampled_from([",", ";", "\t"]))
def test_csv_property_every_row_lands_whole_or_is_named_by_its_line(rows: list[dict[str, str]], sep: str) -> None:
    """Whatever the rows hold (quotes, separators, newlines in a category), each row's hashes all land with its
    category and source, or the row is one problem at the line it starts on."""
    columns = ["md5", "sha1", "pdq", "category", "source"]
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\n").writerow(["MD5", "SHA-1", "PDQ", "Category", "Source"])
    expected_entries: list[tuple[str, str, int, str | None, str | None]] = []
    expected_problems: list[int] = []
    line = 2
    for row in rows:
        one = io.StringIO()
        csv.writer(one, delimiter=sep, lineterminator="\n").writerow([row[c] for c in columns])
        written = one.getvalue()
        out.write(written)
        hashes = {a: row[a] for a in ("md5", "sha1", "pdq") if row[a]}
        blank = not any(row[c].strip() for c in columns)
        if not blank:
            bad = not hashes or any(len(v) not in (32, 40, 64) or not all(c in "0123456789abcdefABCDEF" for c in v)
                                    for v in hashes.values())  # fmt: skip
            if bad:
                expected_problems.append(line)
            else:
                for algorithm, value in hashes.items():
                    category = row["category"].strip() or None
                    source = row["source"].strip() or "fallback"
                    expected_entries.append((algorithm, value.lower(), line, category, source))
        line += written.count("\n")
    parsed = parse_csv(out.getvalue().encode(), source="p.csv", default_source="fallback")
    assert [(e.algorithm, e.value, e.line, e.category, e.source) for e in parsed.entries] == expected_entries
    assert [p.line for p in parsed.problems] == expected_problems


# -- VICS ------------------------------------------------------------------------------------------------------
def vics(records: list[object], context: str = "2.0") -> bytes:
    key, url = (
        ("@odata.context", "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media")
        if context == "2.0"
        else ("odata.metadata", "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Cases")
    )
    return json.dumps({key: url, "value": records}, indent=2).encode()


PHOTODNA = base64.b64encode(bytes(range(144))).decode()


def test_vics_media_hashes_only_with_category_and_lines() -> None:
    records = [
        {"MediaID": 7, "Category": 1, "MD5": H["MD5"].upper(), "SHA1": H["SHA1"].upper(), "PhotoDNA": PHOTODNA,
         "Miniature": "/9j/4AAQSkZJRg==", "MediaFiles": [{"FileName": "IMG_1.jpg"}], "IsPrecategorized": "true",
         "PrecategorizationSource": "Example hotline"},
        {"MediaID": 8, "Category": 0, "MD5": "123"},
        {"MediaID": 9, "Category": 2, "AlternativeHashes": [{"HashName": "PDQ", "HashValue": PDQ},
                                                            {"HashName": "SHA256", "HashValue": H["SHA256"]}]},
        {"MediaID": 10, "Category": 3},
        "not a record",
    ]  # fmt: skip
    parsed = parse_vics(vics(records), source="vics.json", default_source="Project VIC")
    got = [(e.algorithm, e.category, e.source, e.media_ref, e.line) for e in parsed.entries]
    line_7 = 4  # `{` of the first record, json.dumps(indent=2)
    assert got[:3] == [
        ("md5", "1", "Example hotline", "MediaID 7", line_7),
        ("sha1", "1", "Example hotline", "MediaID 7", line_7),
        ("photodna", "1", "Example hotline", "MediaID 7", line_7),
    ]
    assert [(e.algorithm, e.media_ref, e.source) for e in parsed.entries[3:]] == [
        ("pdq", "MediaID 9", "Project VIC"),
        ("sha256", "MediaID 9", "Project VIC"),
    ]
    text = vics(records).decode().splitlines()
    problems = {p.line: p for p in parsed.problems}
    assert len(problems) == 3 and parsed.rows == 5
    for line, problem in problems.items():
        assert text[line - 1].strip().startswith(("{", '"not a record"')), (line, problem)
    assert 'MediaID": 8' in "\n".join(text[min(problems) - 1 : min(problems) + 2])
    # hashes only: the thumbnail and the file name are nowhere in what would be stored
    stored = repr(parsed.entries)
    assert "/9j/" not in stored and "IMG_1" not in stored


def test_vics_1_3_cases_hold_their_media() -> None:
    records = [{"CaseID": "X-1", "Media": [{"MediaID": 1, "Category": 1, "MD5": H["MD5"]}, {"MediaID": 2}]}]
    parsed = parse_vics(vics(records, "1.3"), source="old.json")
    assert [(e.algorithm, e.media_ref) for e in parsed.entries] == [("md5", "MediaID 1")]
    assert [p.line for p in parsed.problems] == [12] and parsed.rows == 2


@pytest.mark.parametrize(
    ("data", "says"),
    [(b'{"value": [{"MD5": "aa"}, ', "valid JSON"), (b"[]", "a JSON object"), (b'{"Media": []}', "no `value`"),
     (b'{"value": []} {}', "after the JSON document")],
)  # fmt: skip
def test_a_vics_file_that_cannot_be_read_is_refused_whole(data: bytes, says: str) -> None:
    with pytest.raises(DocumentRejected, match=says):
        parse_vics(data, source="bad.json")


# -- PDQ -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("layout", [pdq.DEFAULT, pdq.EIGHT_BY_32, pdq.SIXTEEN_BY_16], ids=["12", "8x32", "16x16"])
def test_pdq_distances_0_31_match_and_32_does_not(layout: tuple[pdq.Chunk, ...]) -> None:
    bank_hex = [PDQ, flipped(PDQ, 200, 5), synthetic_hashes("other")["SHA256"]]
    queries = [PDQ, flipped(PDQ, 31), flipped(PDQ, 32), flipped(PDQ, 31, start=3), flipped(PDQ, 1)]
    q, b, d = pdq.near_pairs(pdq.from_hex(queries), pdq.from_hex(bank_hex), layout=layout)
    assert list(zip(q.tolist(), b.tolist(), d.tolist(), strict=True)) == [(0, 0, 0), (1, 0, 31), (3, 0, 31),
                                                                           (4, 0, 1)]  # fmt: skip


def test_every_layout_is_exact_and_a_short_one_is_refused() -> None:
    assert all(pdq.is_exact(layout) for layout in (pdq.DEFAULT, pdq.EIGHT_BY_32, pdq.SIXTEEN_BY_16))
    too_loose = tuple(pdq.Chunk(c.word, c.shift, c.bits, 1) for c in pdq.DEFAULT)  # Σ(t+1) = 24: misses pairs
    with pytest.raises(ValueError, match="does not guarantee"):
        pdq.near_pairs(pdq.from_hex([PDQ]), pdq.from_hex([PDQ]), layout=too_loose)


def test_multi_index_equals_brute_force_on_planted_pairs() -> None:
    rng = np.random.default_rng(20261203)
    bank = rng.integers(0, 2**64, size=(3000, 4), dtype=np.uint64)
    planted = []
    for i in range(80):  # copies of bank hashes at distances 0 … 39
        copy = bank[i].copy()
        for bit in rng.choice(256, size=i % 40, replace=False):
            copy[bit // 64] ^= np.uint64(1) << np.uint64(63 - bit % 64)
        planted.append(copy)
    queries = np.vstack([rng.integers(0, 2**64, size=(200, 4), dtype=np.uint64), np.array(planted)])
    want = pdq.brute_pairs(queries, bank)
    order = np.lexsort((want[1], want[0]))
    for layout in (pdq.DEFAULT, pdq.EIGHT_BY_32, pdq.SIXTEEN_BY_16):
        got = pdq.near_pairs(queries, bank, layout=layout, work=5000)  # small blocks: several per chunk
        assert all(np.array_equal(g, w[order]) for g, w in zip(got, want, strict=True))
    assert sorted(set(want[2].tolist())) == list(range(32))  # every planted distance up to 31, none above


def test_pdq_from_hex_refuses_what_is_not_a_pdq_hash() -> None:
    with pytest.raises(ValueError):
        pdq.from_hex(["abc"])
    assert pdq.from_hex([]).shape == (0, 4)


def test_the_layout_follows_the_bank_size() -> None:
    """Small banks: 16-bit chunks (few candidates share one); a million hashes: the 12-chunk layout."""
    assert pdq.choose(20_000, 50_000) == pdq.SIXTEEN_BY_16
    assert pdq.choose(1_000_000, 1_000_000) == pdq.DEFAULT


def test_a_declared_pdq_file_hash_is_checked_and_lower_cased() -> None:
    from tipfusion.normalise.cleaned import Context
    from tipfusion.normalise.hashes import clean_hash

    good = clean_hash(PDQ.upper(), Context(hash_type="PDQ"))
    assert good is not None and good.valid and good.canonical == f"pdq:{PDQ}"
    short = clean_hash("abc", Context(hash_type="pdq"))
    assert short is not None and not short.valid and short.flags == ("hash_length_mismatch",)
    undeclared = clean_hash(PDQ, Context())  # 64 hex digits without a type: SHA-256, as before
    assert undeclared is not None and undeclared.canonical == f"sha256:{PDQ}"
