"""Referrals from the analyst's side: build one from a suspect or network page, see what was built, download the
sealed package (a zip of the BagIt folder: PDF, DOCX, annex, certificate, manifest, signature) and verify it.

The central unit builds (analysts and admins, checked in the service); downloading and verifying follow the
referral's scope (a station opens what was sent to it). Each view and download is audited.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tipfusion.web.deps import CurrentPrincipal, Engine
from tipfusion.web.downloads import folder_zip
from tipfusion.web.render import audit_view, page
from tipfusion.workplace import FieldErrors, build_referral_for, referral_folder, referral_page, verify_referral

router = APIRouter(include_in_schema=False)
# References hold slashes (TF/REF/2026/000001), so the id is a path; the specific routes come before the page.

Short = Annotated[str, Form(max_length=200)]


def referrals_root(request: Request) -> Path:
    """Where the web app writes packages: the `referrals_dir` setting (`[referrals] output_dir` in the settings
    file, TIPFUSION_REFERRALS_DIR), kept on `app.state` when the app starts."""
    return Path(request.app.state.referrals_dir)


@router.post("/refer")
def build(
    request: Request,
    principal: CurrentPrincipal,
    engine: Engine,
    target: Short,
    to: Short = "",
    back: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    try:
        built = build_referral_for(
            engine, request.app.state.settings, principal, target, referrals_root(request), to or None
        )
    except FieldErrors as refused:
        return page(
            request,
            "analyst/refer_refused.html",
            principal,
            status_code=422,
            errors=refused.errors,
            target=target,
            to=to,
            back=back if back.startswith("/") and not back.startswith("//") else "",
        )
    return RedirectResponse(f"/refer/{built.referral_id}", status_code=303)


@router.post("/refer/{referral_id:path}/verify", response_class=HTMLResponse)
def verify(request: Request, principal: CurrentPrincipal, engine: Engine, referral_id: str) -> HTMLResponse:
    shown = referral_page(engine, principal, referral_id)
    check, issued = verify_referral(engine, principal, referral_id)
    audit_view(engine, principal, "referral", shown.reference, {"verified": check.ok})
    return page(request, "analyst/referral.html", principal, referral=shown, check=check, issued=issued)


@router.get("/refer/{referral_id:path}/package.zip")
def download(principal: CurrentPrincipal, engine: Engine, referral_id: str) -> Response:
    """The sealed folder as one zip (stored, not recompressed: the parts keep their bytes and their hashes)."""
    reference, folder = referral_folder(engine, principal, referral_id)
    response = folder_zip(folder, reference)
    audit_view(engine, principal, "referral", reference, {"download": "package.zip"})
    return response


@router.get("/refer/{referral_id:path}", response_class=HTMLResponse)
def referral(request: Request, principal: CurrentPrincipal, engine: Engine, referral_id: str) -> HTMLResponse:
    shown = referral_page(engine, principal, referral_id)
    audit_view(engine, principal, "referral", shown.reference)
    return page(request, "analyst/referral.html", principal, referral=shown, check=None, issued=None)
