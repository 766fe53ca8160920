"""The administrator's pages: accounts and roles (list, create, disable, enable), the station boundary layer upload,
the ISP table upload, and the referral statements and unit profile every package is written with.

Every action goes through `tipfusion.workplace.admin` (admins only there too; a refusal is beside its form field);
other roles get the 404 page, audited by the services.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from tipfusion.accounts.policy import ADMINS
from tipfusion.accounts.principal import Principal, Role
from tipfusion.web.deps import CurrentPrincipal, Engine
from tipfusion.web.render import NavItem, audit_view, page
from tipfusion.workplace import FieldErrors
from tipfusion.workplace.admin import (
    accounts,
    create_account,
    isp_table,
    jurisdiction_summary,
    referral_statements,
    set_account_disabled,
    upload_isp_table,
    upload_jurisdiction,
)
from tipfusion.workplace.supervision import all_stations

router = APIRouter(include_in_schema=False)
ADMIN = ADMINS
NAV = [
    NavItem("Users", "/admin/users", ADMIN, order=5),
    NavItem("Jurisdiction", "/admin/jurisdiction", ADMIN, order=70),
    NavItem("ISP table", "/admin/isp-table", ADMIN, order=71),
    NavItem("Statements", "/admin/statements", ADMIN, order=72),
]
Admin = CurrentPrincipal  # the services admit admins only, and audit anyone else's attempt as `access.denied`
Text = Annotated[str, Form(max_length=2000)]
LAYER_LIMIT = 64 * 1024 * 1024  # a force's station polygons; bigger layers go through `tipfusion jurisdictions import`
TABLE_LIMIT = 8 * 1024 * 1024


async def _read(upload: UploadFile, limit: int) -> bytes | None:
    """The upload's bytes, or None when it is larger than `limit` (read in chunks, never more than the limit)."""
    data = bytearray()
    while chunk := await upload.read(1024 * 1024):
        data.extend(chunk)
        if len(data) > limit:
            return None
    return bytes(data)


def _users_page(
    request: Request,
    principal: Principal,
    engine: Any,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    listed = accounts(engine, principal)
    audit_view(engine, principal, "list", "accounts", {"count": len(listed)})
    stations = all_stations(engine)
    return page(
        request,
        "admin/users.html",
        principal,
        status_code=status_code,
        accounts=listed,
        roles=[r.value for r in Role],
        districts=sorted({d for d, _ in stations}),
        stations=[s for _, s in stations],
        current_form="create" if errors else None,
        current_errors=errors or {},
        current_values=values or {},
        done=request.query_params.get("done", ""),
    )


@router.get("/admin/users")
def users(request: Request, principal: Admin, engine: Engine) -> Response:
    return _users_page(request, principal, engine)


@router.post("/admin/users")
def create(
    request: Request,
    principal: Admin,
    engine: Engine,
    username: Text = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    role: Text = "",
    district: Text = "",
    station: Text = "",
) -> Response:
    values = {"username": username, "role": role, "district": district, "station": station}  # never the password
    try:
        made = create_account(
            engine, principal, username=username, password=password, role=role, district=district, station=station
        )
    except FieldErrors as error:
        return _users_page(request, principal, engine, errors=error.errors, values=values, status_code=422)
    return RedirectResponse(f"/admin/users?done=created+{made.username}", status_code=303)


@router.post("/admin/users/{username}/disable")
def disable(request: Request, username: str, principal: Admin, engine: Engine) -> Response:
    try:
        set_account_disabled(engine, principal, username, True)
    except FieldErrors as error:
        return _users_page(request, principal, engine, errors=error.errors, status_code=422)
    return RedirectResponse(f"/admin/users?done=disabled+{username}", status_code=303)


@router.post("/admin/users/{username}/enable")
def enable(username: str, principal: Admin, engine: Engine) -> Response:
    set_account_disabled(engine, principal, username, False)
    return RedirectResponse(f"/admin/users?done=enabled+{username}", status_code=303)


def _layer_page(
    request: Request,
    principal: Principal,
    engine: Any,
    *,
    loaded: Any = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    summary = jurisdiction_summary(engine, principal)
    audit_view(engine, principal, "jurisdiction", "stations")
    return page(
        request,
        "admin/jurisdiction.html",
        principal,
        status_code=status_code,
        summary=summary,
        loaded=loaded,
        current_form="layer" if errors else None,
        current_errors=errors or {},
        current_values={},
    )


@router.get("/admin/jurisdiction")
def jurisdiction(request: Request, principal: Admin, engine: Engine) -> Response:
    return _layer_page(request, principal, engine)


@router.post("/admin/jurisdiction")
async def jurisdiction_upload(
    request: Request,
    principal: Admin,
    engine: Engine,
    layer: Annotated[UploadFile, File()],
    station_field: Text = "station",
    district_field: Text = "district",
) -> Response:
    data = await _read(layer, LAYER_LIMIT)
    if data is None:
        errors = {"layer": f"larger than {LAYER_LIMIT // (1024 * 1024)} MiB: use `tipfusion jurisdictions import`"}
        return _layer_page(request, principal, engine, errors=errors, status_code=422)
    try:
        loaded = upload_jurisdiction(
            engine,
            principal,
            layer.filename or "",
            data,
            station_field=station_field or "station",
            district_field=district_field or "district",
        )
    except FieldErrors as error:
        return _layer_page(request, principal, engine, errors=error.errors, status_code=422)
    return _layer_page(request, principal, engine, loaded=loaded)


def _table_page(
    request: Request,
    principal: Principal,
    engine: Any,
    *,
    uploaded: bool = False,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    view = isp_table(request.app.state.settings, principal, engine)
    audit_view(engine, principal, "isp_table", view.path or "none")
    return page(
        request,
        "admin/isp_table.html",
        principal,
        status_code=status_code,
        view=view,
        uploaded=uploaded,
        current_form="table" if errors else None,
        current_errors=errors or {},
        current_values={},
    )


@router.get("/admin/isp-table")
def isp_table_page(request: Request, principal: Admin, engine: Engine) -> Response:
    return _table_page(request, principal, engine)


@router.post("/admin/isp-table")
async def isp_table_upload(
    request: Request, principal: Admin, engine: Engine, table: Annotated[UploadFile, File()]
) -> Response:
    data = await _read(table, TABLE_LIMIT)
    if data is None:
        errors = {"table": f"larger than {TABLE_LIMIT // (1024 * 1024)} MiB"}
        return _table_page(request, principal, engine, errors=errors, status_code=422)
    try:
        upload_isp_table(engine, request.app.state.settings, principal, table.filename or "", data)
    except FieldErrors as error:
        return _table_page(request, principal, engine, errors=error.errors, status_code=422)
    return _table_page(request, principal, engine, uploaded=True)


@router.get("/admin/statements")
def statements(request: Request, principal: Admin, engine: Engine) -> Response:
    view = referral_statements(engine, request.app.state.settings, principal)
    audit_view(engine, principal, "referral_statements", view.source)
    return page(request, "admin/statements.html", principal, view=view)
