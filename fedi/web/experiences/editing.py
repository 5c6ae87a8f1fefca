"""Writing an experience: ``/experiences/new``, ``/experiences/{key}/edit`` (a Markdown editor
with a preview rendered by the server, so it works without JavaScript) and
``/experiences/{key}/delete`` (a confirmation, then the deletion)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from fedi.content.experiences.fields import FIELDS
from fedi.content.experiences.service import (
    ExperienceView,
    create_experience,
    delete_experience,
    update_experience,
)
from fedi.content.markdown import render_markdown
from fedi.errors import ForbiddenError, ValidationError
from fedi.instance import context_of
from fedi.media.service import store_upload
from fedi.web.access import Access, principal_of, rule, signed_in_actor
from fedi.web.experiences.choices import choices
from fedi.web.experiences.reading import find_experience
from fedi.web.ui import i18n
from fedi.web.ui.forms import FormState
from fedi.web.ui.pages import forbidden_page
from fedi.web.ui.rendering import render

__all__ = ["routes"]

_TEXTS = (
    "kind", "language", "title", "summary", "body", "country", "programme_period",
    "organisation", "results", "transferability", "tags",
)  # fmt: skip
_LISTS = ("objectives", "themes", "target_groups", "attachments")
_SLOTS = 24  # at most one translation per EU language


class ExperienceForm(FormState):
    """The form's values (lists of codes apart) and the translation slots it shows."""

    def __init__(self) -> None:
        super().__init__()
        self.lists: dict[str, list[str]] = {name: [] for name in _LISTS}
        self.slots = 1

    @classmethod
    def of(cls, experience: ExperienceView) -> ExperienceForm:
        form = cls()
        fields = experience.data.as_fields()
        for name in _TEXTS:
            value = fields.get(name)
            form.values[name] = " ".join(value or []) if name == "tags" else str(value or "")
        for name in _LISTS:
            form.lists[name] = list(fields[name])
        for index, (language, texts) in enumerate(fields["translations"].items()):
            form.values[f"tr{index}_language"] = language
            for part in ("title", "summary", "body"):
                form.values[f"tr{index}_{part}"] = texts[part]
        form.slots = len(fields["translations"]) + 1
        return form

    @classmethod
    def read(cls, data: FormData) -> ExperienceForm:
        form = cls()
        for name in _TEXTS:
            value = data.get(name)
            form.values[name] = value if isinstance(value, str) else ""
        description = data.get("file_description")
        form.values["file_description"] = description if isinstance(description, str) else ""
        for name in _LISTS:
            form.lists[name] = [v for v in data.getlist(name) if isinstance(v, str)]
        used = 0
        for index in range(_SLOTS):
            for part in ("language", "title", "summary", "body"):
                value = data.get(f"tr{index}_{part}")
                form.values[f"tr{index}_{part}"] = value if isinstance(value, str) else ""
            if form.values[f"tr{index}_language"]:
                used = index + 1
        form.slots = min(used + 1, _SLOTS)
        return form

    def fields(self) -> dict[str, Any]:
        """The experience in the service's names."""
        fields: dict[str, Any] = {name: self.value(name) for name in _TEXTS}
        fields["tags"] = self.value("tags").replace(",", " ").split()
        fields.update({name: list(values) for name, values in self.lists.items()})
        fields["translations"] = {
            self.value(f"tr{i}_language"): {
                part: self.value(f"tr{i}_{part}") for part in ("title", "summary", "body")
            }
            for i in range(_SLOTS)
            if self.value(f"tr{i}_language")
        }
        return fields

    def fail_with(self, error: ValidationError) -> None:
        """Show each refused field's error next to it, in the reader's language."""
        slots = {
            self.value(f"tr{i}_language"): i for i in range(_SLOTS) if self.value(f"tr{i}_language")
        }
        for name, messages in error.errors.items():
            parts = name.split(".")
            if parts[0] == "translations" and len(parts) >= 2 and parts[1] in slots:
                index = slots[parts[1]]
                part = parts[2] if len(parts) > 2 else "language"
                self.fail(f"tr{index}_{part}", _message(part, messages[0]))
            elif name in ("file", "description"):
                target = "file" if name == "file" else "file_description"
                self.fail(target, _upload_message(messages[0]))
            elif name in FIELDS:
                self.fail(name, _message(name, messages[0]))
            else:
                self.fail("title", i18n.gettext("The form could not be read; try again."))


def _upload_message(message: str) -> str:
    if "alt text" in message:
        return i18n.gettext("Describe the image for people who cannot see it.")
    if "larger than" in message:
        return i18n.gettext("The file is too large.")
    if "at most" in message:
        return i18n.gettext("This text is too long.")
    return i18n.gettext(
        "Attach an image (PNG, JPEG, GIF, WebP) or a document (PDF, Word, Excel, PowerPoint, "
        "OpenDocument)."
    )


def _message(field: str, message: str) -> str:
    """The service's reason for refusing ``field``, said in the reader's language."""
    if "is required" in message:
        return i18n.gettext("This field is required.")
    if "at most" in message and "characters" in message:
        return i18n.gettext("This text is too long.")
    if "original language" in message:
        return i18n.gettext("This is the language of the original; choose another one.")
    if "hashtag" in message:
        return i18n.gettext("Hashtags are single words of letters, digits or _, at most 20.")
    if "media" in message:
        return i18n.gettext("An attachment could not be found; add it again.")
    return i18n.gettext("Choose one of the values offered.")


ERROR_ORDER = [
    "kind", "language", "title", "summary", "body", "country", "objectives", "themes",
    "target_groups", "programme_period", "organisation", "results", "transferability", "tags",
    "attachments", "file", "file_description",
    *(f"tr{i}_{part}" for i in range(_SLOTS) for part in ("language", "title", "summary", "body")),
]  # fmt: skip


def _form_page(
    request: Request,
    form: ExperienceForm,
    *,
    experience: ExperienceView | None,
    preview: bool = False,
    status: int = 200,
) -> Response:
    preview_html = render_markdown(form.value("body")) if preview else None
    return render(
        request,
        "experiences/form.html",
        {
            "form": form,
            "experience": experience,
            "options": choices(),
            "preview_html": preview_html,
            "error_order": ERROR_ORDER,
            "attachment_options": [
                (item["id"], item.get("name") or item["id"])
                for item in (experience.attachments if experience else [])
            ],
        },
        status_code=status,
    )


async def _posted(request: Request) -> tuple[ExperienceForm, str, bytes | None]:
    """The posted form, its action (``preview`` or ``save``) and the bytes of a chosen file
    (at most one more than the limit, so that a larger file is refused by the service)."""
    limit = context_of(request).settings.media_max_bytes
    async with request.form(max_part_size=limit + 1024) as data:
        form = ExperienceForm.read(data)
        action = data.get("action")
        upload = data.get("file")
        content = None
        if isinstance(upload, UploadFile) and upload.filename:
            content = await upload.read(limit + 1)
    return form, action if isinstance(action, str) else "save", content


async def _save(
    request: Request, form: ExperienceForm, upload: bytes | None, key: str | None
) -> str:
    """Store the upload, if any, and the experience, in one transaction; the experience's key."""
    context = context_of(request)
    author = await signed_in_actor(request)
    fields = form.fields()
    async with context.sessions.begin() as session:
        if upload is not None:
            stored = store_upload(
                session, context.settings, author, upload, form.value("file_description")
            )
            await session.flush()
            fields["attachments"] = [*fields["attachments"], stored.name]
        if key is None:
            return (await create_experience(session, context.settings, author, fields)).key
        await update_experience(session, context.settings, author, key, fields)
        return key


async def new_experience(request: Request) -> Response:
    if request.method == "GET":
        form = ExperienceForm()
        form.values["language"] = i18n.current_locale()
        form.values["kind"] = (
            "resource" if request.query_params.get("kind") == "resource" else "experience"
        )
        return _form_page(request, form, experience=None)
    form, action, upload = await _posted(request)
    if action == "preview":
        return _form_page(request, form, experience=None, preview=True)
    try:
        key = await _save(request, form, upload, None)
    except ValidationError as error:
        form.fail_with(error)
        return _form_page(request, form, experience=None, status=422)
    return RedirectResponse(f"/experiences/{key}?created=1", status_code=303)


async def _own(request: Request) -> ExperienceView | Response:
    found = await find_experience(request)
    if isinstance(found, Response):
        return found
    principal = principal_of(request)
    if principal is None or principal.actor_id != found.author.id:
        return forbidden_page(request, i18n.gettext("Only its author can change this experience."))
    return found


async def edit_experience(request: Request) -> Response:
    found = await _own(request)
    if isinstance(found, Response):
        return found
    if request.method == "GET":
        return _form_page(request, ExperienceForm.of(found), experience=found)
    form, action, upload = await _posted(request)
    if action == "preview":
        return _form_page(request, form, experience=found, preview=True)
    try:
        await _save(request, form, upload, found.key)
    except ValidationError as error:
        form.fail_with(error)
        return _form_page(request, form, experience=found, status=422)
    except ForbiddenError:
        return forbidden_page(request, i18n.gettext("Only its author can change this experience."))
    return RedirectResponse(f"/experiences/{found.key}?saved=1", status_code=303)


async def remove_experience(request: Request) -> Response:
    found = await _own(request)
    if isinstance(found, Response):
        return found
    if request.method == "GET":
        return render(request, "experiences/delete.html", {"experience": found})
    context = context_of(request)
    author = await signed_in_actor(request)
    async with context.sessions.begin() as session:
        await delete_experience(session, context.settings, author, found.key)
    return RedirectResponse("/experiences?deleted=1", status_code=303)


def routes() -> list[BaseRoute]:
    return [
        rule("/experiences/new", new_experience, Access.MEMBER, methods=["GET", "POST"]),
        rule("/experiences/{key}/edit", edit_experience, Access.MEMBER, methods=["GET", "POST"]),
        rule(
            "/experiences/{key}/delete", remove_experience, Access.MEMBER, methods=["GET", "POST"]
        ),
    ]
