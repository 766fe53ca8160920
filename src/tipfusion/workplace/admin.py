"""What the administrator maintains besides accounts: the station boundary layer, the ISP table, and a look at the
referral statements and unit profile every package is written with.

Uploads are checked by the same readers as the command line (`route.jurisdictions.read_layer`,
`enrich.isp_table.load_isp_table`), so a file either lands whole with its problems listed, or is refused with the
reason beside the form field; nothing half-lands. Every change is audited with the file's SHA-256.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, func, select

from tipfusion.accounts.policy import ADMINS  # as the CLI's admin commands
from tipfusion.accounts.principal import Principal
from tipfusion.audit import UnitOfWork
from tipfusion.config import CaseDeadlines, Settings, UnitProfile
from tipfusion.enrich.isp_table import Isp, load_isp_table
from tipfusion.errors import InputRefused, TipfusionError
from tipfusion.store.tables import police_stations
from tipfusion.workplace.cases import FieldErrors
from tipfusion.workplace.scope import require_roles

if TYPE_CHECKING:
    from tipfusion.accounts.service import Account

LAYER_SUFFIXES = (".geojson", ".json", ".gpkg")
"""Boundary files a single upload can carry (a shapefile needs its companion files: use the command line)."""
TABLE_SUFFIXES = (".csv", ".yaml", ".yml")


def _name(filename: str, suffixes: tuple[str, ...], field: str) -> str:
    """The upload's own name without folders, with a suffix the reader knows (else the field's error)."""
    name = Path(filename.replace("\\", "/")).name.strip()
    if not name.lower().endswith(suffixes):
        raise FieldErrors({field: f"{name or 'the file'}: expected a file ending in {', '.join(suffixes)}"})
    return name


@dataclass(frozen=True, slots=True)
class LayerLoaded:
    name: str
    sha256: str
    stations: int
    districts: int
    problems: tuple[str, ...]  # features left out, each with its line and field


def upload_jurisdiction(
    engine: Engine,
    principal: Principal,
    filename: str,
    data: bytes,
    *,
    station_field: str = "station",
    district_field: str = "district",
) -> LayerLoaded:
    """Replace the station layer with an uploaded GeoJSON or GeoPackage (as `tipfusion jurisdictions import`).

    The routing already stored is kept; re-run routing for it to use the new boundaries.
    """
    from tipfusion.route.service import import_jurisdiction

    with engine.connect() as conn:
        require_roles(conn, principal, ADMINS, "jurisdiction upload", "jurisdiction.import")
    name = _name(filename, LAYER_SUFFIXES, "layer")
    if not data:
        raise FieldErrors({"layer": f"{name}: the file is empty"})
    digest = hashlib.sha256(data).hexdigest()
    with tempfile.TemporaryDirectory(prefix="tipfusion-layer-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            count, problems = import_jurisdiction(
                engine, principal.username, path, station_field=station_field, district_field=district_field
            )
        except TipfusionError as error:
            raise FieldErrors({"layer": str(error).replace(str(path), name)}) from error
    with UnitOfWork(engine, principal.username) as uow:
        uow.conn.execute(police_stations.update().values(source=f"{name} (sha256 {digest}, uploaded)"))
        districts = uow.conn.execute(select(func.count(func.distinct(police_stations.c.district)))).scalar_one()
        uow.record("jurisdiction.uploaded", "jurisdiction", name, {"sha256": digest, "stations": count})
    return LayerLoaded(name, digest, count, int(districts), tuple(p.replace(str(path), name) for p in problems))


@dataclass(frozen=True, slots=True)
class LayerSummary:
    stations: int
    districts: tuple[tuple[str, int], ...]  # district → stations
    source: str | None
    imported_at: Any


def jurisdiction_summary(engine: Engine, principal: Principal) -> LayerSummary:
    with engine.connect() as conn:
        require_roles(conn, principal, ADMINS, "jurisdiction layer")
        per = conn.execute(
            select(police_stations.c.district, func.count())
            .group_by(police_stations.c.district)
            .order_by(police_stations.c.district)
        ).all()
        latest = conn.execute(
            select(police_stations.c.source, police_stations.c.imported_at)
            .order_by(police_stations.c.imported_at.desc())
            .limit(1)
        ).first()
    return LayerSummary(
        sum(int(n) for _, n in per),
        tuple((str(d), int(n)) for d, n in per),
        None if latest is None else str(latest.source),
        None if latest is None else latest.imported_at,
    )


@dataclass(frozen=True, slots=True)
class IspTableView:
    path: str | None  # where the configured table lives (TIPFUSION_ISP_TABLE); None: not configured
    version: str
    isps: tuple[Isp, ...]
    problems: tuple[str, ...]


def isp_table(settings: Settings, principal: Principal, engine: Engine) -> IspTableView:
    """The configured ISP table as the enrichment and the ISP notices read it."""
    with engine.connect() as conn:
        require_roles(conn, principal, ADMINS, "ISP table")
    if not settings.isp_table:
        return IspTableView(None, "none", (), ())
    try:
        table = load_isp_table(Path(settings.isp_table))
    except TipfusionError as error:
        return IspTableView(settings.isp_table, "unreadable", (), (str(error),))
    isps = tuple(sorted(table.isps.values(), key=lambda i: i.name.lower()))
    return IspTableView(settings.isp_table, table.version, isps, tuple(str(p) for p in table.problems))


def upload_isp_table(
    engine: Engine, settings: Settings, principal: Principal, filename: str, data: bytes
) -> IspTableView:
    """Replace the configured ISP table with an uploaded CSV or YAML, after reading it as enrichment would.

    A table with no usable ISP is refused (the old one stays); rows with problems are listed and left out, as on the
    command line. The file replaces the one at TIPFUSION_ISP_TABLE in one step (written beside it, then renamed).
    """
    with engine.connect() as conn:
        require_roles(conn, principal, ADMINS, "ISP table upload", "isp_table.upload")
    name = _name(filename, TABLE_SUFFIXES, "table")
    if not settings.isp_table:
        raise FieldErrors(
            {"table": "no ISP table is configured: set TIPFUSION_ISP_TABLE (or [enrich] isp_table) to where it lives"}
        )
    target = Path(settings.isp_table)
    yaml = {".yaml", ".yml"}
    if (Path(name).suffix.lower() in yaml) != (target.suffix.lower() in yaml):
        raise FieldErrors({"table": f"{name}: the configured table {target.name} is {target.suffix}; upload that"})
    digest = hashlib.sha256(data).hexdigest()
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".upload-", suffix=target.suffix, dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        try:
            table = load_isp_table(Path(temporary))
        except TipfusionError as error:
            raise FieldErrors({"table": str(error).replace(temporary, name)}) from error
        except UnicodeDecodeError:
            raise FieldErrors({"table": f"{name}: not UTF-8 text"}) from None
        problems = tuple(str(p).replace(temporary, name) for p in table.problems)
        if not table.isps:
            raise FieldErrors({"table": f"{name}: no usable ISP row" + (f" ({problems[0]})" if problems else "")})
        os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)
    with UnitOfWork(engine, principal.username) as uow:
        details = {"sha256": digest, "file": name, "isps": len(table.isps), "problems": list(problems)}
        uow.record("isp_table.replaced", "isp_table", str(target), details)
    isps = tuple(sorted(table.isps.values(), key=lambda i: i.name.lower()))
    return IspTableView(str(target), f"isp-table:{digest[:12]}", isps, problems)


@dataclass(frozen=True, slots=True)
class StatementsView:
    unit: UnitProfile
    deadlines: CaseDeadlines
    referral_prefix: str
    source: str  # the unit's statements file, or "built-in"
    statements: tuple[dict[str, Any], ...]
    problem: str | None  # the statements file cannot be read (packages would fail to build)


def referral_statements(engine: Engine, settings: Settings, principal: Principal) -> StatementsView:
    """The unit profile and the standard statements every referral is written with (read-only: they are set in the
    deployment's configuration, where a change is reviewed)."""
    from tipfusion.refer.guidance import load_statements

    with engine.connect() as conn:
        require_roles(conn, principal, ADMINS, "referral statements")
    problem = None
    try:
        statements = tuple(load_statements(settings.referral_statements))
    except TipfusionError as error:
        statements, problem = (), str(error)
    return StatementsView(
        settings.unit,
        settings.case_deadlines,
        settings.referral_prefix,
        settings.referral_statements or "built-in",
        statements,
        problem,
    )


def _account_errors(error: TipfusionError) -> FieldErrors:
    """An account refusal beside the form field it names (`InputRefused.fields`), else beside the username."""
    names = error.fields if isinstance(error, InputRefused) and error.fields else ("username",)
    return FieldErrors(
        {name: str(error).replace("--district", "a district").replace("--station", "a station") for name in names}
    )


def accounts(engine: Engine, principal: Principal) -> Sequence[Account]:
    """Every account, with its role, jurisdiction and whether it is disabled or locked (admins only)."""
    from tipfusion.accounts.service import list_accounts

    with engine.connect() as conn:
        require_roles(conn, principal, ADMINS, "accounts")
    return list_accounts(engine)


def create_account(
    engine: Engine,
    principal: Principal,
    *,
    username: str,
    password: str,
    role: str,
    district: str = "",
    station: str = "",
) -> Account:
    """A new account under the admin's name (`accounts.service.create_user`); refusals beside their field."""
    from tipfusion.accounts.service import create_user

    with engine.connect() as conn:
        require_roles(conn, principal, ADMINS, "accounts", "account.create")
    try:
        return create_user(
            engine, principal.username, username, password, role, district=district or None, station=station or None
        )
    except TipfusionError as error:
        raise _account_errors(error) from error


def set_account_disabled(engine: Engine, principal: Principal, username: str, disabled: bool) -> Account:
    """Disable an account (its sessions and API tokens end at once) or enable it again; an admin cannot disable
    their own account (the unit would risk having no admin left)."""
    from tipfusion.accounts.service import get_account, set_disabled

    with engine.connect() as conn:
        require_roles(conn, principal, ADMINS, "accounts", "account.disable" if disabled else "account.enable")
    get_account(engine, username)  # NotFound for a name the store does not hold
    if disabled and username.strip().lower() == principal.username:
        raise FieldErrors({"username": "you cannot disable your own account; another admin can"})
    return set_disabled(engine, principal.username, username, disabled)
