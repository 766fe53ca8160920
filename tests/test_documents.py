"""What every document shares, read back as a reader's software sees it: Word on A4 with repeating table headers and
the unit as author; Excel sheets with the header in row 1, real date-time cells, filters and a banner out of the
data; date-times to the second with their zone, unbroken; the unit profile from the environment and TOML."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from docx import Document
from docx.oxml.ns import qn
from openpyxl import Workbook, load_workbook

from tipfusion.config import Settings, UnitProfile, load_settings
from tipfusion.documents.blocks import DocumentSpec, Grid, Heading, Para, write_docx
from tipfusion.documents.clock import NBSP, clock
from tipfusion.documents.render import Described
from tipfusion.documents.sheets import DATE_TIME_FORMAT, Column, about_sheet, banner, write_table

WHEN = "2025-03-14T21:07:31Z"


def test_date_times_to_the_second_with_their_zone_in_one_piece() -> None:
    assert clock(WHEN) == f"2025-03-14{NBSP}21:07:31{NBSP}UTC"
    assert clock(WHEN, ZoneInfo("Asia/Kolkata")) == f"2025-03-15{NBSP}02:37:31{NBSP}IST"
    assert clock("2025-03-15T02:37:31+05:30") == f"2025-03-15{NBSP}02:37:31{NBSP}UTC+05:30"  # its own offset
    assert clock(None) == "" and clock("sometime in March") == "sometime in March"  # not a time: kept as it is
    assert " " not in clock(WHEN, ZoneInfo("America/New_York"))


def test_a_word_file_is_a4_with_repeating_headers_and_the_unit_as_author(tmp_path: Path) -> None:
    rows = [[str(n), "x" * 30, "y"] for n in range(120)]  # long enough to cross pages
    created = datetime(2026, 3, 1, 10, 30, tzinfo=ZoneInfo("Asia/Kolkata"))
    spec = DocumentSpec(
        "Referral TF/REF/2026/000001",
        "TF/REF/2026/000001",
        [
            Heading("Table", "तालिका"),
            Grid(["#", "Value", "Other"], rows, widths=(10, 60, 30)),
            Para("a\nb", style="lines"),
        ],
        synthetic=True,
        about=Described(
            "Referral TF/REF/2026/000001", "Cyber Crime PS, Example City", "CyberTipline referral", created=created
        ),
    )
    path = tmp_path / "r.docx"
    write_docx(spec, path)
    document = Document(str(path))
    section = document.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297  # A4, not US Letter
    assert (round(section.left_margin.mm), round(section.top_margin.mm)) == (13, 15)  # the PDF's margins
    (table,) = document.tables
    header = table.rows[0]._tr.trPr
    assert header is not None and header.find(qn("w:tblHeader")) is not None  # repeats on each page
    assert all(r._tr.trPr.find(qn("w:cantSplit")) is not None for r in table.rows[1:])
    widths = [c.width.mm for c in table.rows[5].cells]
    assert widths[1] > 5 * widths[0] and round(sum(widths)) == 184  # the layout's relative widths, text width
    properties = document.core_properties
    assert properties.author == "Cyber Crime PS, Example City" and properties.title == "Referral TF/REF/2026/000001"
    assert properties.subject == "CyberTipline referral" and properties.last_modified_by == properties.author
    assert "python-docx" not in f"{properties.author}{properties.comments}{properties.last_modified_by}"
    assert properties.created == created.astimezone(UTC)


def test_a_sheet_has_its_header_in_row_1_real_times_and_a_banner_out_of_the_data(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    columns = [
        Column("ip", "IP"),
        Column("time_utc", "Time (UTC)", "utc"),
        Column("time_local", "Time (Asia/Kolkata)", "local"),
        Column("reports", "Reports"),
        Column("note", "A long note"),
    ]
    rows = [
        ["198.18.0.1", WHEN, "2025-03-15T02:37:31+05:30", [1, 2], "n" * 200],
        ["198.18.0.2", None, "not a time", [], "short"],
    ]
    write_table(sheet, columns, rows)
    banner(sheet, "SYNTHETIC DATA")
    about_sheet(book, "Annex", [("Reference", "TF/REF/1")], "SYNTHETIC DATA")
    path = tmp_path / "a.xlsx"
    book.save(path)

    read = load_workbook(path)
    assert read.sheetnames == ["About", "Sheet"] and read.active is not None and read.active.title == "Sheet"
    data = read["Sheet"]
    assert [c.value for c in data[1]] == [c.heading for c in columns]  # the header, in row 1
    assert data.freeze_panes == "A2" and data.auto_filter.ref == "A1:E3"
    assert data["B2"].value == datetime(2025, 3, 14, 21, 7, 31) and data["B2"].number_format == DATE_TIME_FORMAT
    assert data["C2"].value == datetime(2025, 3, 15, 2, 37, 31)  # the wall time of the zone its heading names
    assert data["C3"].value == "not a time" and data["D2"].value == "1, 2"  # nothing lost
    assert data.column_dimensions["E"].width == 60 and data.column_dimensions["A"].width >= len("198.18.0.1")
    assert data.oddHeader.center.text == "SYNTHETIC DATA" and "SYNTHETIC DATA" in data.oddFooter.center.text
    assert data.print_title_rows == "$1:$1"
    about = read["About"]
    assert about["A2"].value == "SYNTHETIC DATA" and ("Reference", "TF/REF/1") in about.iter_rows(values_only=True)


def test_the_unit_profile_from_toml_and_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "tipfusion.toml"
    config.write_text(
        '[unit]\nname = "Cyber Crime Police Station, Example City"\naddress = "2nd Floor, Example Road"\n'
        'phone = "+91 80 0000 0000"\nemail = "cyberps@police.example"\nofficer_name = "A. Kumar"\n'
        'officer_designation = "Inspector of Police"\n'
    )
    settings = load_settings({"TIPFUSION_CONFIG": str(config), "TIPFUSION_UNIT_EMAIL": "desk@police.example"})
    assert settings.unit == UnitProfile(
        "Cyber Crime Police Station, Example City",
        "2nd Floor, Example Road",
        "+91 80 0000 0000",
        "desk@police.example",  # the environment wins
        "A. Kumar",
        "Inspector of Police",
    )
    assert settings.unit_name == settings.unit.name and settings.issuing_officer == "A. Kumar, Inspector of Police"
    assert settings.unit.contact == "Phone +91 80 0000 0000; desk@police.example"
    # the older names still work: [referrals] unit_name, issuing_officer, TIPFUSION_ISSUING_OFFICER
    old = tmp_path / "old.toml"
    old.write_text('issuing_officer = "SHO"\n[referrals]\nunit_name = "Old Unit"\n')
    legacy = load_settings({"TIPFUSION_CONFIG": str(old)})
    assert (legacy.unit.name, legacy.unit.officer_designation) == ("Old Unit", "SHO")
    assert load_settings({"TIPFUSION_ISSUING_OFFICER": "DCP"}).unit.officer_designation == "DCP"
    assert Settings().unit == UnitProfile() and UnitProfile().contact == ""
