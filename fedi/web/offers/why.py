"""Why a result matched, as a sentence in the reader's language (the results page and the
API's ``why`` details alike)."""

from __future__ import annotations

from fedi.partners.search import Reason
from fedi.vocabulary import vocabulary
from fedi.web.ui import i18n

__all__ = ["sentence"]

_VOCABULARIES = {"objective": "objectives", "theme": "themes", "target_group": "target-groups"}


def _label(name: str, code: str) -> str:
    return vocabulary(name).label(code, i18n.current_locale())


def _shared(reason: Reason) -> str:
    _ = i18n.gettext
    label = _label(_VOCABULARIES[reason.code], reason.value)
    if reason.label:
        return _("Your words “%(words)s” name %(label)s.", words=reason.label, label=label)
    if reason.code == "objective":
        return _("It shares the ESF+ objective %(label)s.", label=label)
    if reason.code == "theme":
        return _("It shares the theme %(label)s.", label=label)
    return _("It shares the target group %(label)s.", label=label)


def sentence(reason: Reason) -> str:
    """``reason`` said in the request's locale."""
    _ = i18n.gettext
    code = reason.code
    if code == "text":
        return _("Its text contains %(words)s.", words=", ".join(reason.terms))
    if code in _VOCABULARIES:
        return _shared(reason)
    if code == "country":
        country = _label("countries", reason.value)
        if reason.sought:
            return _("It seeks partners in %(country)s.", country=country)
        return _("Its organisation is in %(country)s.", country=country)
    if code == "reciprocity":
        country = _label("countries", reason.value)
        return _("It seeks partners in your country, %(country)s.", country=country)
    if code == "deadline":
        return i18n.ngettext(
            "Its call closes in %(num)s day.", "Its call closes in %(num)s days.", reason.days
        )
    if code == "freshness":
        if reason.days == 0:
            return _("It was published today.")
        return i18n.ngettext(
            "It was published %(num)s day ago.", "It was published %(num)s days ago.", reason.days
        )
    return _("It works in %(language)s.", language=_label("languages", reason.value))
