"""The web application (issue 13): a thin shell over the same services as the command line.

`app.create_app(settings)` builds it. Pages live in `routes/`, one module per area, each with a module-level
`router: fastapi.APIRouter` (found by `app.discover`), and optionally `NAV: list[render.NavItem]` — the menu entries
it adds for the roles that may use it. Routes parse the request, call `tipfusion.workplace` (which enforces
need-to-know and audits refusals) and render with `render.page`; they hold no domain logic.
"""
