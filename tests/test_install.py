"""Install as the README says: nothing beyond PyPI (no npm), the PDF fonts in the package with their licence, and the
demo-only libraries (Faker, mmdb-writer) optional — imported only by the commands that generate synthetic data."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tipfusion.cli.main import app, run
from tipfusion.documents.fonts import _FACES, font_folder, vendored_fonts
from tipfusion.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[1]
DEMO_MODULES = ("faker", "mmdb_writer", "netaddr")


def test_the_pdf_fonts_are_in_the_package_with_their_licence() -> None:
    folder = font_folder()
    assert sorted(vendored_fonts()) == sorted(name for _, name, _ in _FACES)
    assert (folder / "OFL-NotoSans.txt").is_file() and (folder / "OFL-NotoSansDevanagari.txt").is_file()
    assert "SIL Open Font License" in (folder / "OFL-NotoSansDevanagari.txt").read_text()
    listed = (folder / "README.txt").read_text()
    for _, name, _ in _FACES:
        digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
        assert f"{digest}  {name}" in listed, f"{name} is not the file README.txt describes"


def test_installing_needs_no_npm_and_the_demo_libraries_are_an_extra() -> None:
    assert "npm" not in (ROOT / "Makefile").read_text()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = " ".join(project["dependencies"]).lower()
    assert "faker" not in runtime and "mmdb-writer" not in runtime
    assert {"faker>=25", "mmdb-writer>=0.2.5"} <= {d.lower() for d in project["optional-dependencies"]["demo"]}
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "assets/fonts/*.ttf" in package_data["tipfusion"]


def test_the_command_line_starts_without_the_demo_libraries() -> None:
    """Importing the CLI (every command registered) loads none of the demo-only modules."""
    code = f"import sys, tipfusion.cli.main\nprint(','.join(m for m in {DEMO_MODULES!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == ""


# Libraries that cost tenths of a second each to import: a command that needs one imports it in its own body, so
# `tipfusion --help` and `tipfusion cases list` start fast (benchmarks/startup.py measures it).
HEAVY_MODULES = ("weasyprint", "docx", "openpyxl", "igraph", "scipy", "numpy", "shapely", "pyproj", "pymisp", "stix2")
HEAVY_MODULES += ("lxml", "fastapi", "uvicorn", "cryptography", "bagit", "jinja2", "pydantic", "pydantic_settings")


def test_the_command_line_starts_without_the_heavy_libraries() -> None:
    """Importing the CLI (every command registered) loads none of the libraries only some commands need."""
    code = f"import sys, tipfusion.cli.main\nprint(','.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == ""


# What the commands that only read or check load: `search`, `suspect show`, `network show`, `report show`, `cases …`,
# `refer verify`, `export …` (a chart, a referral as STIX), `requests list` and `requests sent`, and the web's case
# pages. Linking (NumPy, SciPy, igraph, Arrow) and the document writers (WeasyPrint, Word, Excel, Jinja) are for
# `link`, `refer build` and `requests build`.
READERS = (
    "tipfusion.search",
    "tipfusion.store.links",
    "tipfusion.workplace.access",
    "tipfusion.workplace.views",
    "tipfusion.track.service",
    "tipfusion.triage.service",
    "tipfusion.refer.verification",
    "tipfusion.refer.subjects",
    "tipfusion.exports.service",
    "tipfusion.requests.service",
    "tipfusion.workplace.isp_requests",
)
WRITERS_AND_LINKING = ("weasyprint", "docx", "openpyxl", "jinja2", "igraph", "scipy", "numpy", "pyarrow")


def test_the_reading_commands_load_neither_linking_nor_the_document_writers() -> None:
    """Each command is a process of its own: what a read loads, every `suspect show` pays (~0.5 s of the ~1.3 s
    it took when the search pulled in linking and the referral writers)."""
    code = (
        "import importlib, sys\n"
        f"for name in {READERS!r}:\n"
        "    importlib.import_module(name)\n"
        f"    loaded = [m for m in {WRITERS_AND_LINKING!r} if m in sys.modules]\n"
        "    if loaded:\n"
        "        print(name, 'loads', ', '.join(loaded))\n"
        "        break\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert result.stdout.strip() == ""


def test_no_test_installs_packages() -> None:
    """Chromium, Java, Tesseract and the Python packages come from the Makefile (`make browser spark ocr`, the `dev`
    extra): a test that ran `apt-get install` or `pip install` itself would hide a missing step of `make test`."""
    installing = re.compile(r"""["'](?:apt-get|apt|pip|pip3|uv)["'],\s*["']install["']|-m["'],\s*["']pip["']""")
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if installing.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_synth_without_the_demo_extra_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "faker", None)  # as if Faker were not installed
    for name in [m for m in sys.modules if m.startswith("tipfusion.synth")]:
        monkeypatch.delitem(sys.modules, name)
    result = CliRunner().invoke(app, ["synth", "--reports", "5", "--out", str(tmp_path / "b")])
    assert isinstance(result.exception, ConfigurationError) and result.exception.exit_code == 2
    message = str(result.exception)
    assert "\n" not in message and "tipfusion[demo]" in message and "faker" in message
    assert not (tmp_path / "b").exists()
    monkeypatch.setattr(sys, "argv", ["tipfusion", "synth", "--reports", "5", "--out", str(tmp_path / "b")])
    with pytest.raises(SystemExit) as stopped:
        run()
    assert stopped.value.code == 2
    printed = capsys.readouterr().err
    assert "pip install 'tipfusion[demo]'" in printed and printed.strip().count("\n") == 0, printed
