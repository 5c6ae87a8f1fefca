"""The ``Page`` of a thread and the ``Note`` of a reply, as they are stored and sent
(docs/federation.md, "Forums and threads").

Both are addressed to the public and to the forum ``Group`` (``to``), with ``audience`` the
forum and ``context`` the thread's collection (FEP-7888: every post of a thread names the same
context, ``{page id}/context``, an ``OrderedCollection`` of the thread's posts), so that Lemmy,
Mbin and NodeBB file them under the forum and the thread. Each post's ``replies`` is the
collection of its direct replies, ``{post id}/replies``. ``content`` is
the sanitised HTML of the Markdown, ``source`` the Markdown itself. A solved thread's Page names
its accepted answer in ``acceptedAnswer``, a term of our JSON-LD context. A locked thread's
Page says ``commentsEnabled: false`` and a pinned one ``stickied: true``, the terms Lemmy and
Mbin read (PeerTube's and Lemmy's namespaces), both left out while they do not apply.
"""

from __future__ import annotations

from typing import Any

from fedi.content.markdown import render_markdown
from fedi.federation.vocab import AS2_CONTEXT, PUBLIC

__all__ = [
    "THREAD_CONTEXT",
    "context_collection",
    "replies_collection",
    "reply_note",
    "thread_context",
    "thread_page",
    "with_state",
]

NAMESPACE = "https://schemas.transnationality.eu/ns#"

# Our term for threads, one block of the Page's @context.
THREAD_CONTEXT: dict[str, Any] = {
    "tn": NAMESPACE,
    "acceptedAnswer": {"@id": "tn:acceptedAnswer", "@type": "@id"},
    "pt": "https://joinpeertube.org/ns#",
    "lemmy": "https://join-lemmy.org/ns#",
    "commentsEnabled": "pt:commentsEnabled",
    "stickied": "lemmy:stickied",
}


def thread_context() -> list[Any]:
    """``@context`` of a thread's Page and of a reply's Note."""
    return [AS2_CONTEXT, dict(THREAD_CONTEXT)]


def context_collection(page_id: str) -> str:
    """The id of the collection of the posts of the thread started by ``page_id``."""
    return f"{page_id}/context"


def replies_collection(object_id: str) -> str:
    """The id of the collection of the direct replies to ``object_id``."""
    return f"{object_id}/replies"


def _text(body: str, language: str) -> dict[str, Any]:
    html = render_markdown(body)
    return {
        "content": html,
        "contentMap": {language: html},
        "mediaType": "text/html",
        "source": {"content": body, "mediaType": "text/markdown"},
    }


def thread_page(
    *,
    object_id: str,
    url: str,
    author_uri: str,
    followers_uri: str,
    forum_uri: str,
    title: str,
    body: str,
    language: str,
    published: str,
    accepted_answer: str | None = None,
    updated: str | None = None,
    locked: bool = False,
    pinned: bool = False,
) -> dict[str, Any]:
    """The stored document (with ``@context``) of a thread's first post."""
    document: dict[str, Any] = {
        "@context": thread_context(),
        "id": object_id,
        "type": "Page",
        "attributedTo": author_uri,
        "name": title,
        "nameMap": {language: title},
        **_text(body, language),
        "url": url,
        "published": published,
        "to": [PUBLIC, forum_uri],
        "cc": [followers_uri],
        "audience": forum_uri,
        "context": context_collection(object_id),
        "replies": replies_collection(object_id),
    }
    if accepted_answer is not None:
        document["acceptedAnswer"] = accepted_answer
    if updated is not None:
        document["updated"] = updated
    return with_state(document, locked=locked, pinned=pinned)


def with_state(document: dict[str, Any], *, locked: bool, pinned: bool) -> dict[str, Any]:
    """``document`` (a thread's Page) saying whether it is locked and pinned."""
    found = {k: v for k, v in document.items() if k not in ("commentsEnabled", "stickied")}
    if locked:
        found["commentsEnabled"] = False
    if pinned:
        found["stickied"] = True
    return found


def reply_note(
    *,
    object_id: str,
    author_uri: str,
    followers_uri: str,
    forum_uri: str | None,
    thread_context_uri: str,
    parent_uri: str,
    also_to: list[str],
    body: str,
    language: str,
    published: str,
) -> dict[str, Any]:
    """The stored document (with ``@context``) of a reply to ``parent_uri`` in the thread whose
    context is ``thread_context_uri``; ``also_to`` are the authors of the thread and of the
    parent, told directly."""
    to = [PUBLIC, *([forum_uri] if forum_uri else [])]
    cc = list(dict.fromkeys([followers_uri, *(uri for uri in also_to if uri != author_uri)]))
    document: dict[str, Any] = {
        "@context": thread_context(),
        "id": object_id,
        "type": "Note",
        "attributedTo": author_uri,
        **_text(body, language),
        "inReplyTo": parent_uri,
        "context": thread_context_uri,
        "replies": replies_collection(object_id),
        "published": published,
        "to": to,
        "cc": cc,
    }
    if forum_uri:
        document["audience"] = forum_uri
    return document
