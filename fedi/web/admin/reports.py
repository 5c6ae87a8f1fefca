"""The reports queue: moderators read what members and remote servers reported and close it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from fedi.errors import ConflictError, NotFoundError, ValidationError
from fedi.instance import context_of
from fedi.services.members import member_by_id
from fedi.services.reports import MAX_NOTE, OUTCOMES, close_report, report_by_id, report_page
from fedi.web.access import Access, principal_of, rule
from fedi.web.ui import i18n
from fedi.web.ui.forms import FormState, read_form
from fedi.web.ui.pages import MAX_ROW_ID, not_found_page
from fedi.web.ui.rendering import render

__all__ = ["PAGE_SIZE", "routes"]

PAGE_SIZE = 20


def _before(request: Request) -> int | None:
    raw = request.query_params.get("before", "")
    if raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ROW_ID:
        return int(raw)
    return None


def _closed(request: Request) -> bool:
    return request.query_params.get("state") == "closed"


async def reports_page(request: Request) -> Response:
    context = context_of(request)
    closed = _closed(request)
    async with context.sessions() as session:
        page = await report_page(session, closed=closed, limit=PAGE_SIZE, before=_before(request))
    return render(
        request,
        "admin/reports.html",
        {
            "rows": page.rows,
            "total": page.total,
            "next_before": page.next_before,
            "first_page": _before(request) is None,
            "closed": closed,
            "done": request.query_params.get("done", ""),
            "max_note": MAX_NOTE,
        },
    )


async def _detail(
    request: Request,
    report_id: int,
    status: int = 200,
    form: FormState | None = None,
) -> Response:
    context = context_of(request)
    try:
        async with context.sessions() as session:
            row = await report_by_id(session, report_id)
    except NotFoundError as missing:
        return await not_found_page(request, missing)
    return render(
        request,
        "admin/report.html",
        {"row": row, "form": form or FormState(), "max_note": MAX_NOTE},
        status_code=status,
    )


async def report_detail(request: Request) -> Response:
    report_id: int = request.path_params["id"]
    if report_id > MAX_ROW_ID:
        return await not_found_page(request, NotFoundError("no such report"))
    return await _detail(request, report_id)


def _message(error: ValidationError) -> str:
    if error.field == "outcome":
        return i18n.gettext("Choose whether the report is resolved or dismissed")
    if "control" in str(error):
        return i18n.gettext("The note must not contain control characters")
    return i18n.gettext("The note can have at most %(num)s characters", num=MAX_NOTE)


async def close(request: Request) -> Response:
    context = context_of(request)
    report_id: int = request.path_params["id"]
    if report_id > MAX_ROW_ID:
        return await not_found_page(request, NotFoundError("no such report"))
    form = await read_form(request, "outcome", "note")
    outcome = form.value("outcome")
    if outcome not in OUTCOMES:
        form.fail("outcome", i18n.gettext("Choose whether the report is resolved or dismissed"))
        return await _detail(request, report_id, 422, form)
    principal = principal_of(request)
    assert principal is not None
    try:
        async with context.sessions.begin() as session:
            moderator = await member_by_id(session, principal.member_id)
            await close_report(
                session,
                report_id,
                outcome,
                form.value("note"),
                by=moderator,
                now=context.clock(),
            )
    except NotFoundError as missing:
        return await not_found_page(request, missing)
    except ValidationError as invalid:
        form.fail(invalid.field or "note", _message(invalid))
        return await _detail(request, report_id, 422, form)
    except ConflictError:
        form.fail("outcome", i18n.gettext("This report is already closed."))
        return await _detail(request, report_id, 409, form)
    return RedirectResponse(f"/admin/reports?done={outcome}", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        rule("/admin/reports", reports_page, Access.MODERATOR, methods=["GET"]),
        rule("/admin/reports/{id:int}", report_detail, Access.MODERATOR, methods=["GET"]),
        rule("/admin/reports/{id:int}/close", close, Access.MODERATOR, methods=["POST"]),
    ]
