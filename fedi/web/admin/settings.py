"""The instance settings page: the name, description and rules the network shows, and whether
new partner offers wait for a moderator's validation (admins only)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from fedi.errors import ValidationError
from fedi.instance import context_of
from fedi.services import instance_settings
from fedi.services.instance_settings import MAX_DESCRIPTION, MAX_NAME, MAX_RULES
from fedi.web.access import Access, rule
from fedi.web.ui import i18n
from fedi.web.ui.forms import FormState, read_form
from fedi.web.ui.rendering import render

__all__ = ["routes"]

FIELDS = ("name", "description", "rules", "offers_need_validation")
CHOICES = ("yes", "no")


def _message(field: str) -> str:
    """The form's message for a value the settings service refused, one per field."""
    if field == "description":
        return i18n.gettext(
            "Write the description as plain text of at most %(max)s characters",
            max=MAX_DESCRIPTION,
        )
    if field == "rules":
        return i18n.gettext("Write the rules in at most %(max)s characters", max=MAX_RULES)
    return i18n.gettext(
        "Give the network a name of one line, at most %(max)s characters", max=MAX_NAME
    )


async def _page(request: Request, status: int = 200, form: FormState | None = None) -> Response:
    context = context_of(request)
    if form is None:
        async with context.sessions() as session:
            current = await instance_settings.load(session, context.settings)
        form = FormState(
            {
                "name": current.name,
                "description": current.description,
                "rules": current.rules,
                "offers_need_validation": "yes" if current.offers_need_validation else "no",
            }
        )
    return render(
        request,
        "admin/settings.html",
        {
            "form": form,
            "max_name": MAX_NAME,
            "saved": "saved" in request.query_params,
        },
        status_code=status,
    )


async def settings_page(request: Request) -> Response:
    return await _page(request)


def _refused(form: FormState, error: ValidationError) -> None:
    for field in error.errors or {"name": []}:
        form.fail(field if field in FIELDS else "name", _message(field))


async def save(request: Request) -> Response:
    context = context_of(request)
    form = await read_form(request, *FIELDS)
    try:
        instance_settings.check(form.value("name"), form.value("description"), form.value("rules"))
    except ValidationError as error:
        _refused(form, error)
    choice = form.value("offers_need_validation")
    if choice not in CHOICES:
        form.fail(
            "offers_need_validation",
            i18n.gettext("Choose whether new offers wait for a moderator's validation"),
        )
    if not form.ok:
        return await _page(request, 422, form)
    try:
        async with context.sessions.begin() as session:
            await instance_settings.save(
                session,
                context.settings,
                name=form.value("name"),
                description=form.value("description"),
                rules=form.value("rules"),
                offers_need_validation=choice == "yes",
            )
    except ValidationError as error:
        _refused(form, error)
        return await _page(request, 422, form)
    await request.app.state.instance_name.refresh(context)
    return RedirectResponse("/admin/settings?saved=1", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        rule("/admin/settings", settings_page, Access.ADMIN, methods=["GET"]),
        rule("/admin/settings", save, Access.ADMIN, methods=["POST"]),
    ]
