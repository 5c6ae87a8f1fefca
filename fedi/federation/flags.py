"""``Flag``: a remote server reports an object or an actor to our moderators.

Mastodon sends one from its instance actor, ``object`` listing the reported account and then
its posts, ``content`` the reporter's comment as plain text. The report is stored with what
this instance holds of each named object, and every admin and moderator is notified
(:func:`fedi.services.reports.report`).
"""

from __future__ import annotations

from fedi.federation.job import Dropped, Job
from fedi.federation.vocab import ids_of
from fedi.services.reports import clean_comment, is_reportable_uri, report

__all__ = ["MAX_FLAGGED", "handle_flag"]

MAX_FLAGGED = 20


async def handle_flag(job: Job) -> str:
    named = [uri for uri in ids_of(job.activity.document.get("object")) if is_reportable_uri(uri)]
    if not named:
        raise Dropped("flag without an object")
    content = job.activity.document.get("content")
    comment = clean_comment(content) if isinstance(content, str) else ""
    await report(
        job.session, job.ctx.settings, job.actor, named[:MAX_FLAGGED], comment, uri=job.shape.id
    )
    return "flag recorded"
