"""``/notifications``: the signed-in member's notifications, paged newest first, each linked to
what it is about, with forms to mark one or all of them read."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from fedi.db.models import Actor, Notification
from fedi.instance import context_of
from fedi.services.notifications import actors_of, mark_read, notifications_page
from fedi.vocabulary import vocabulary
from fedi.web.access import Access, Principal, principal_of, rule
from fedi.web.ui import i18n
from fedi.web.ui.forms import read_form
from fedi.web.ui.pages import MAX_ROW_ID, not_found_page
from fedi.web.ui.rendering import render

__all__ = ["PAGE_SIZE", "routes"]

PAGE_SIZE = 20


@dataclass(frozen=True)
class Shown:
    """A notification as the page lists it: what happened, and the link to what it is about."""

    id: int
    text: str
    link: str | None
    link_text: str
    comment: str
    created: object
    read: bool


def _signed_in(request: Request) -> Principal:
    principal = principal_of(request)
    assert principal is not None  # the route's rule asks for a member
    return principal


def _handle(actor: Actor | None) -> str:
    return i18n.gettext("someone") if actor is None else f"@{actor.username}@{actor.domain}"


def _shown(row: Notification, actors: dict[int, Actor]) -> Shown:
    actor = actors.get(row.actor_id) if row.actor_id is not None else None
    who = _handle(actor)
    profile = None if actor is None else (actor.url or actor.uri)
    comment = ""
    if row.kind == "follow":
        text = i18n.gettext("%(actor)s follows you.", actor=who)
        link, link_text = profile, i18n.gettext("Profile of %(actor)s", actor=who)
    elif row.kind == "follow_request":
        text = i18n.gettext("%(actor)s asks to follow you.", actor=who)
        link, link_text = profile, i18n.gettext("Profile of %(actor)s", actor=who)
    elif row.kind == "report":
        text = i18n.gettext("%(actor)s sent a report.", actor=who)
        report_id = row.data.get("report")
        queued = isinstance(report_id, int) and not isinstance(report_id, bool)
        if queued:
            link, link_text = f"/admin/reports/{report_id}", i18n.gettext("The report in the queue")
        else:
            link, link_text = row.object_uri, i18n.gettext("What is reported")
        comment = str(row.data.get("comment") or "")
    elif row.kind == "mention":
        text = i18n.gettext("%(actor)s mentioned you.", actor=who)
        link, link_text = row.object_uri, i18n.gettext("The post")
    elif row.kind == "saved_search":
        text = i18n.gettext(
            "A new partner offer matches your saved search “%(search)s”: %(title)s",
            search=str(row.data.get("search", "")),
            title=str(row.data.get("title", "")),
        )
        offer_id = row.data.get("offer")
        local = isinstance(offer_id, int) and not isinstance(offer_id, bool)
        link = f"/offers/{offer_id}" if local else row.object_uri
        link_text = i18n.gettext("The offer")
    elif row.kind in ("interest", "interest_reply"):
        text, comment = _interest_text(row, who), str(row.data.get("comment") or "")
        interest = row.data.get("interest")
        held = isinstance(interest, int) and not isinstance(interest, bool)
        link = f"/interests/{interest}" if held else row.object_uri
        link_text = i18n.gettext("Read and answer")
    elif row.kind in ("question", "question_answer"):
        subject = str(row.data.get("subject") or "")
        if row.kind == "question":
            text = i18n.gettext(
                "%(actor)s asks you a question: “%(subject)s”.", actor=who, subject=subject
            )
        else:
            text = i18n.gettext(
                "%(actor)s answered about the question “%(subject)s”.", actor=who, subject=subject
            )
        comment = str(row.data.get("comment") or "")
        question = row.data.get("question")
        held = isinstance(question, int) and not isinstance(question, bool)
        link = f"/questions/{question}" if held else None
        link_text = i18n.gettext("Read and answer")
    else:
        text = i18n.gettext("Something happened that concerns you.")
        link, link_text = row.object_uri, i18n.gettext("What it is about")
    return Shown(row.id, text, link, link_text, comment, row.created_at, row.read_at is not None)


def _interest_text(row: Notification, who: str) -> str:
    """Who is interested in which offer, for which organisation and from which country."""
    title = str(row.data.get("offer_title") or "")
    if row.kind == "interest_reply":
        return i18n.gettext(
            "%(actor)s answered about the offer “%(title)s”.", actor=who, title=title
        )
    country = row.data.get("country")
    kind = row.data.get("organisation_type")
    organisation = str(row.data.get("organisation") or "")
    facts = [organisation] if organisation else []
    if isinstance(kind, str) and kind:
        facts.append(vocabulary("organisation-types").label(kind, i18n.current_locale()))
    if isinstance(country, str) and country:
        facts.append(vocabulary("countries").label(country, i18n.current_locale()))
    return i18n.gettext(
        "%(actor)s is interested in your offer “%(title)s”, for %(organisation)s.",
        actor=who,
        title=title,
        organisation=", ".join(facts) or i18n.gettext("an organisation not named"),
    )


def _before(request: Request) -> int | None:
    raw = request.query_params.get("before", "")
    return int(raw) if raw.isdigit() and 0 < int(raw) <= MAX_ROW_ID else None


async def notifications(request: Request) -> Response:
    context = context_of(request)
    principal = _signed_in(request)
    before = _before(request)
    async with context.sessions() as session:
        keyset = await notifications_page(
            session, principal.member_id, unread=None, limit=PAGE_SIZE, before=before
        )
        actors = await actors_of(session, keyset.rows)
    return render(
        request,
        "notifications/notifications.html",
        {
            "shown": [_shown(row, actors) for row in keyset.rows],
            "total": keyset.total,
            "older": keyset.next_before,
            "paged": before is not None,
            "marked": request.query_params.get("marked"),
        },
    )


def _back(form_before: str, marked: str) -> str:
    """Where a mark-read form returns to: the same page of the list, with a notice."""
    before = form_before if form_before.isdigit() and 0 < int(form_before) <= MAX_ROW_ID else ""
    return "/notifications?" + (f"before={before}&" if before else "") + f"marked={marked}"


async def read_all(request: Request) -> Response:
    context = context_of(request)
    form = await read_form(request, "before")
    async with context.sessions.begin() as session:
        await mark_read(session, _signed_in(request).member_id, context.clock())
    return RedirectResponse(_back(form.value("before"), "all"), status_code=303)


async def read_one(request: Request) -> Response:
    context = context_of(request)
    notification_id: int = request.path_params["id"]
    if notification_id > MAX_ROW_ID:
        return await not_found_page(request, LookupError("no such notification"))
    form = await read_form(request, "before")
    async with context.sessions.begin() as session:
        # Another member's id, or one already read, marks nothing (as the API does).
        await mark_read(session, _signed_in(request).member_id, context.clock(), [notification_id])
    return RedirectResponse(_back(form.value("before"), "one"), status_code=303)


def routes() -> list[BaseRoute]:
    return [
        rule("/notifications", notifications, Access.MEMBER, methods=["GET"]),
        rule("/notifications/read", read_all, Access.MEMBER, methods=["POST"]),
        rule("/notifications/{id:int}/read", read_one, Access.MEMBER, methods=["POST"]),
    ]
