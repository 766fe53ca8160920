"""Verifiable without tipfusion: the unit's key, sealed and signed packages, signed audit checkpoints, and the stored
evidence re-hashed — tampering of each kind is caught and named (store tests on SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import hashlib
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import bagit
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, delete, select, update
from typer.testing import CliRunner

from tests.conftest import FIXTURES
from tipfusion.audit import AuditEvent, append, signing_with, verify, verify_checkpoints
from tipfusion.audit.evidence import rehash_sources
from tipfusion.audit.log import GENESIS, chain_hash
from tipfusion.cli.main import app
from tipfusion.config import Settings, load_settings
from tipfusion.documents.manifest import (
    MANIFEST,
    PUBLIC_KEY,
    SIGNATURE,
    bag_info,
    fresh_folder,
    seal,
    verify_bag,
)
from tipfusion.errors import AuditChainBroken, ConfigurationError, IntegrityFailure, TipfusionError
from tipfusion.ingest import IngestService
from tipfusion.keys.signing import Signer, create_key, fingerprint, load_signer, public_path
from tipfusion.store import repository as repo
from tipfusion.store.tables import audit_checkpoints, audit_events, source_blobs

runner = CliRunner()


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    return create_key(tmp_path / "keys" / "signing-key.pem")


# -- the unit's key ------------------------------------------------------------------------------------------------
def test_a_key_is_created_private_and_never_overwritten(tmp_path: Path) -> None:
    key = create_key(tmp_path / "unit" / "signing-key.pem")
    assert stat.S_IMODE(key.path.stat().st_mode) == 0o600
    assert public_path(key.path).read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    groups = key.fingerprint.split(" ")
    assert len(groups) == 16 and all(len(g) == 4 for g in groups)
    raw = key.public_key.public_bytes_raw()
    assert key.fingerprint.replace(" ", "").lower() == hashlib.sha256(raw).hexdigest()
    before = key.path.read_bytes()
    with pytest.raises(ConfigurationError, match="never overwritten"):
        create_key(key.path)
    assert key.path.read_bytes() == before
    loaded = load_signer(Settings(signing_key=str(key.path)))
    assert loaded is not None and loaded.fingerprint == key.fingerprint
    assert load_signer(Settings()) is None
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_signer(Settings(signing_key=str(tmp_path / "nowhere.pem")))


def test_the_key_setting_comes_from_the_environment_or_the_toml_file(tmp_path: Path) -> None:
    config = tmp_path / "tipfusion.toml"
    config.write_text('signing_key = "/keys/from-file.pem"\n')
    assert load_settings({"TIPFUSION_CONFIG": str(config)}).signing_key == "/keys/from-file.pem"
    both = {"TIPFUSION_CONFIG": str(config), "TIPFUSION_SIGNING_KEY": "/keys/env.pem"}
    assert load_settings(both).signing_key == "/keys/env.pem"
    assert load_settings({}).signing_key is None


def test_keys_commands(tmp_path: Path, db_url: str) -> None:
    created = runner.invoke(app, ["--database", db_url, "keys", "create", "--out", str(tmp_path / "unit")])
    assert created.exit_code == 0, created.output
    private = tmp_path / "unit" / "signing-key.pem"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    again = runner.invoke(app, ["--database", db_url, "keys", "create", "--out", str(tmp_path / "unit")])
    assert again.exit_code != 0 and "never overwritten" in str(again.exception)
    env = {"TIPFUSION_SIGNING_KEY": str(private)}
    shown = runner.invoke(app, ["--database", db_url, "keys", "show"], env=env)
    expected = fingerprint(Ed25519PrivateKey.from_private_bytes(_raw_private(private)).public_key())
    assert shown.exit_code == 0 and expected in shown.output and expected in created.output
    exported = runner.invoke(app, ["keys", "export", "--out", str(tmp_path / "pub" / "unit.pem")], env=env)
    assert exported.exit_code == 0, exported.output
    checked = runner.invoke(app, ["keys", "show", "--key", str(tmp_path / "pub" / "unit.pem")])
    assert expected in checked.output
    missing = runner.invoke(app, ["keys", "show"], env={"TIPFUSION_SIGNING_KEY": ""})
    assert missing.exit_code != 0 and "no signing key configured" in str(missing.exception)


def _raw_private(path: Path) -> bytes:
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key.private_bytes_raw()


# -- sealed packages -----------------------------------------------------------------------------------------------
def sealed_package(folder: Path, signer: Signer | None) -> Path:
    fresh_folder(folder)
    (folder / "letter.pdf").write_bytes(b"%PDF-1.7 not really a pdf\n")
    (folder / "annex.csv").write_text("ip,port\n198.51.100.7,51322\n")
    info = bag_info("tipfusion test package", "TF/TEST/1", "Test Unit", "2026-12-02", synthetic=True)
    seal(folder, info, signer)
    return folder


def test_an_untouched_bag_passes_common_tools(tmp_path: Path, signer: Signer) -> None:
    folder = sealed_package(tmp_path / "package", signer)
    assert sorted(p.name for p in (folder / "data").iterdir()) == ["annex.csv", "letter.pdf"]
    info = (folder / "bag-info.txt").read_text()
    assert f"Signing-Key-Fingerprint: SHA-256 {signer.fingerprint}" in info and "External-Identifier: TF/TEST/1" in info
    check = verify_bag(folder)
    assert check.ok and check.signature == "valid" and check.key_fingerprint == signer.fingerprint
    assert set(check.files) == {"annex.csv", "letter.pdf"}
    bagit.Bag(str(folder)).validate()  # the Library of Congress's validator: payload and tag manifests
    validator = Path(sys.executable).with_name("bagit.py")
    if validator.exists():
        run = subprocess.run([sys.executable, str(validator), "--validate", str(folder)], capture_output=True)
        assert run.returncode == 0, run.stderr
    if shutil.which("sha256sum"):
        run = subprocess.run(["sha256sum", "-c", MANIFEST], cwd=folder, capture_output=True, text=True)
        assert run.returncode == 0 and run.stdout.count(": OK") == 2, run.stdout + run.stderr
    if shutil.which("openssl"):  # the command bag-info.txt gives a station
        command = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", PUBLIC_KEY, "-rawin", "-in", MANIFEST]
        run = subprocess.run([*command, "-sigfile", SIGNATURE], cwd=folder, capture_output=True, text=True)
        assert run.returncode == 0 and "Signature Verified Successfully" in run.stdout, run.stdout + run.stderr


def test_a_tampered_manifest_is_rejected(tmp_path: Path, signer: Signer) -> None:
    """A part changed and its manifest line recomputed passes the hashes, but not the signature."""
    folder = sealed_package(tmp_path / "package", signer)
    part = folder / "data" / "annex.csv"
    part.write_text("ip,port\n198.51.100.8,51322\n")
    assert verify_bag(folder).altered == ["data/annex.csv"]
    manifest = folder / MANIFEST
    lines = [
        f"{hashlib.sha256(part.read_bytes()).hexdigest()}  data/annex.csv" if line.endswith("data/annex.csv") else line
        for line in manifest.read_text().splitlines()
    ]
    manifest.write_text("\n".join(lines) + "\n")
    check = verify_bag(folder)
    assert "data/annex.csv" not in check.altered  # the payload now matches the forged manifest…
    assert check.altered == [MANIFEST]  # …which the tag manifest still catches,
    assert check.signature == "invalid" and not check.ok  # and the signature does not match it
    bagit.Bag(str(folder)).save()  # the tag manifest recomputed as well: every hash in the bag agrees again
    check = verify_bag(folder)
    assert check.intact and check.signature == "invalid" and not check.ok  # only the signature still tells
    assert check.signature_problem == f"the signature does not match {MANIFEST}"
    if shutil.which("openssl"):
        command = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", PUBLIC_KEY, "-rawin", "-in", MANIFEST]
        run = subprocess.run([*command, "-sigfile", SIGNATURE], cwd=folder, capture_output=True, text=True)
        assert run.returncode != 0


def test_a_bad_signature_is_rejected_and_a_missing_one_reported(tmp_path: Path, signer: Signer, db_url: str) -> None:
    folder = sealed_package(tmp_path / "package", signer)
    other = Ed25519PrivateKey.generate()
    (folder / SIGNATURE).write_bytes(other.sign((folder / MANIFEST).read_bytes()))  # someone else's signature
    check = verify_bag(folder)
    assert check.intact is False and check.altered == [SIGNATURE]  # the tag manifest listed the real one
    assert check.signature == "invalid" and "does not match" in (check.signature_problem or "")
    result = runner.invoke(app, ["--database", db_url, "refer", "verify", str(folder)])
    assert result.exit_code != 0 and "SIGNATURE DOES NOT MATCH" in result.output
    assert isinstance(result.exception, IntegrityFailure) and result.exception.exit_code == 5

    unsigned = sealed_package(tmp_path / "unsigned", None)
    assert not (unsigned / SIGNATURE).exists() and "none (the unit had no" in (unsigned / "bag-info.txt").read_text()
    check = verify_bag(unsigned)
    assert check.ok and check.signature == "absent"
    result = runner.invoke(app, ["--database", db_url, "refer", "verify", str(unsigned)])
    assert result.exit_code == 0 and "NO SIGNATURE" in result.output
    # a store that did not issue it says so; with no store at the path (SQLite, nothing ingested) it is not asked
    assert "not issued by this store" in result.output or "not checked against a store's record" in result.output
    strict = runner.invoke(app, ["--database", db_url, "refer", "verify", "--require-signature", str(unsigned)])
    assert strict.exit_code != 0 and "no signature present" in str(strict.exception)

    signed = sealed_package(tmp_path / "signed", signer)
    env = {"TIPFUSION_SIGNING_KEY": str(signer.path)}
    result = runner.invoke(app, ["--database", db_url, "refer", "verify", str(signed)], env=env)
    assert result.exit_code == 0, result.output
    assert "signature valid" in result.output and "this unit's configured key" in result.output


def test_a_sealed_package_is_never_overwritten(tmp_path: Path) -> None:
    folder = sealed_package(tmp_path / "package", None)
    with pytest.raises(TipfusionError, match="never overwritten"):
        fresh_folder(folder)
    with pytest.raises(FileNotFoundError, match="not a tipfusion package"):
        verify_bag(tmp_path)


# -- audit checkpoints ---------------------------------------------------------------------------------------------
def events(engine: Engine, count: int, signer: Signer | None) -> None:
    """`count` commands, each appending two events (and so writing one checkpoint)."""
    with signing_with(lambda: signer):
        for n in range(count):
            with engine.begin() as conn:
                pair = [AuditEvent("test.event", "thing", f"{n}-{i}", {"n": n}) for i in range(2)]
                append(conn, "tester", pair)


def problems(engine: Engine, signer: Signer | None) -> list[str]:
    with engine.connect() as conn:
        assert verify(conn).ok
        return verify_checkpoints(conn, [signer.public_key] if signer else []).problems


def test_checkpoints_are_signed_and_verify(engine: Engine, signer: Signer) -> None:
    events(engine, 3, signer)
    with engine.connect() as conn:
        rows = conn.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.id)).all()
        report = verify_checkpoints(conn, [signer.public_key])
    assert [r.seq for r in rows] == [2, 4, 6] and all(r.key_fingerprint == signer.fingerprint for r in rows)
    assert report.ok and report.checkpoints == 3 and report.last_signature == "valid" and report.unsigned == 0


def test_truncating_the_tail_is_detected(engine: Engine, signer: Signer) -> None:
    events(engine, 3, signer)
    with engine.begin() as conn:
        conn.execute(delete(audit_events).where(audit_events.c.seq > 3))  # the newest entries cut off
        assert verify(conn).ok  # the chain alone cannot tell
    (problem,) = problems(engine, signer)
    assert problem.startswith("audit log truncated") and "entries 4…6 have been removed" in problem


def test_a_rewritten_chain_is_detected(engine: Engine, signer: Signer) -> None:
    """One entry rewritten and every later hash recomputed: the chain verifies, the checkpoints do not."""
    events(engine, 3, signer)
    with engine.begin() as conn:
        rows = conn.execute(select(audit_events).order_by(audit_events.c.seq)).all()
        prev = GENESIS
        for row in rows:
            actor = "someone else" if row.seq == 2 else row.actor
            digest = chain_hash(prev, row.seq, row.at, actor, row.action, row.object_type, row.object_id, row.details)
            conn.execute(
                update(audit_events)
                .where(audit_events.c.seq == row.seq)
                .values(actor=actor, prev_hash=prev, hash=digest)
            )
            prev = digest
    found = problems(engine, signer)
    assert len(found) == 3 and all(p.startswith("audit chain rewritten") for p in found)
    assert "at entry 2" in found[0]


def test_a_forged_checkpoint_is_detected(engine: Engine, signer: Signer) -> None:
    events(engine, 2, signer)
    with engine.begin() as conn:  # an attacker moves the last checkpoint back, without the key
        last = conn.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.id.desc()).limit(1)).one()
        head = conn.execute(select(audit_events.c.hash).where(audit_events.c.seq == 3)).scalar_one()
        conn.execute(update(audit_checkpoints).where(audit_checkpoints.c.id == last.id).values(seq=3, head_hash=head))
        conn.execute(delete(audit_events).where(audit_events.c.seq == 4))
    (problem,) = problems(engine, signer)
    assert problem.startswith("forged checkpoint") and f"#{last.id}" in problem
    stranger = Ed25519PrivateKey.generate()
    with engine.begin() as conn:  # … or signs it with a key of their own
        conn.execute(
            update(audit_checkpoints)
            .where(audit_checkpoints.c.id == last.id)
            .values(signature=base64.b64encode(stranger.sign(b"anything")).decode(), key_fingerprint="0000 1111")
        )
    (problem,) = problems(engine, signer)
    assert "signed by key 0000 1111, not by a key given to check it" in problem


def test_unsigned_checkpoints_still_catch_a_cut_and_say_they_are_unsigned(engine: Engine, db_url: str) -> None:
    events(engine, 2, None)
    with engine.connect() as conn:
        report = verify_checkpoints(conn, [])
    assert report.ok and report.unsigned == 2 and report.last_signature == "unsigned"
    result = runner.invoke(app, ["--database", db_url, "audit", "verify"], env={"TIPFUSION_SIGNING_KEY": ""})
    assert result.exit_code == 0 and "2 checkpoint(s) are unsigned" in result.output
    with engine.begin() as conn:
        conn.execute(delete(audit_events).where(audit_events.c.seq == 4))
    result = runner.invoke(app, ["--database", db_url, "audit", "verify"], env={"TIPFUSION_SIGNING_KEY": ""})
    assert isinstance(result.exception, AuditChainBroken) and "entry 4 has been removed" in result.output


def test_commands_sign_their_checkpoints_with_the_configured_key(
    tmp_path: Path, db_url: str, engine: Engine, signer: Signer
) -> None:
    env = {"TIPFUSION_SIGNING_KEY": str(signer.path)}
    good = tmp_path / "in"
    good.mkdir()
    (good / "100000042.xml").write_bytes((FIXTURES / "100000042.xml").read_bytes())
    assert runner.invoke(app, ["--database", db_url, "ingest", str(good)], env=env).exit_code == 0
    with engine.connect() as conn:
        keys = set(conn.execute(select(audit_checkpoints.c.key_fingerprint)).scalars())
    assert keys == {signer.fingerprint}
    result = runner.invoke(app, ["--database", db_url, "audit", "verify"], env=env)
    assert result.exit_code == 0 and "(signature valid)" in result.output and "unsigned" not in result.output
    with engine.begin() as conn:
        head = conn.execute(select(audit_events.c.seq).order_by(audit_events.c.seq.desc()).limit(1)).scalar_one()
        conn.execute(delete(audit_events).where(audit_events.c.seq == head))
    result = runner.invoke(app, ["--database", db_url, "audit", "verify"], env=env)
    assert isinstance(result.exception, AuditChainBroken) and "truncated" in result.output
    assert result.exception.exit_code == 4


# -- evidence ------------------------------------------------------------------------------------------------------
def test_a_flipped_byte_in_stored_evidence_is_named(
    engine: Engine, settings: Settings, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repo, "BLOB_CHUNK", 1000)  # several chunks per document: the re-hash streams them in order
    batch = tmp_path / "batch"
    batch.mkdir()
    for name in ("100000042.xml", "file-0a1b2c3d.xml"):
        (batch / name).write_bytes((FIXTURES / name).read_bytes())
    IngestService(engine, settings, "tester").ingest_paths([batch])
    with engine.connect() as conn:
        report = rehash_sources(conn)
        sha = hashlib.sha256((FIXTURES / "100000042.xml").read_bytes()).hexdigest()
        chunk = conn.execute(select(source_blobs.c.data).where(source_blobs.c.sha256 == sha, source_blobs.c.chunk == 2))
        data = bytearray(chunk.scalar_one())
    assert report.ok and report.documents == 2
    result = runner.invoke(app, ["--database", db_url, "verify", "--evidence"])
    assert result.exit_code == 0 and "evidence intact: 2 source documents" in result.output, result.output

    data[17] ^= 0x01
    with engine.begin() as conn:
        conn.execute(
            update(source_blobs).where(source_blobs.c.sha256 == sha, source_blobs.c.chunk == 2).values(data=bytes(data))
        )
    with engine.connect() as conn:
        (difference,) = rehash_sources(conn).differ
    assert difference.sha256 == sha and difference.name.endswith("100000042.xml") and difference.found != sha
    result = runner.invoke(app, ["--database", db_url, "verify", "--evidence"])
    assert isinstance(result.exception, IntegrityFailure) and result.exception.exit_code == 5
    assert f"ALTERED {difference.name} (stored as {sha})" in result.output
    with engine.connect() as conn:
        logged = conn.execute(select(audit_events.c.details).where(audit_events.c.action == "evidence.verified")).all()
    assert [row.details["differ"] for row in logged] == [[], [sha]]  # each check is itself on the record
