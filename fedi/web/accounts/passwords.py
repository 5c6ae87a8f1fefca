"""The rules a new password is checked against on every form that sets one."""

from __future__ import annotations

from fedi.services.members import MIN_PASSWORD_LENGTH
from fedi.web.ui import i18n
from fedi.web.ui.forms import FormState

__all__ = ["check_new_password"]


def check_new_password(form: FormState, field: str, confirm: str) -> None:
    password = form.value(field)
    if len(password) < MIN_PASSWORD_LENGTH:
        form.fail(
            field,
            i18n.ngettext(
                "The password must have at least %(num)s character",
                "The password must have at least %(num)s characters",
                MIN_PASSWORD_LENGTH,
            ),
        )
    elif form.value(confirm) != password:
        form.fail(confirm, i18n.gettext("The two passwords are not the same"))
