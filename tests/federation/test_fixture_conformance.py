"""Real payloads from other servers through our readers (the shared fixture corpus, not copied).

The corpus lives outside the repository: ``FEDI_FEDIVERSE_FIXTURES``, or ``../shared/fixtures/
fediverse`` next to it. Every actor document goes through the actor validation of
:mod:`fedi.actors.remote`, every activity and object through the shape readers the inbox
and the processor use. Refusals must be our own typed errors; nothing else may escape.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fedi.actors.document import ActorDocumentError, actor_type_of, parse_actor_document
from fedi.content import service as content
from fedi.errors import FediError
from fedi.federation.shapes import CONTENT_TYPES, ShapeError, read_activity, read_object, type_of
from fedi.federation.vocab import as_list, first_id
from fedi.testing.peers import InboxHarness
from fedi.testing.requirements import skip_or_fail

MAJOR = ("mastodon", "lemmy", "misskey", "pleroma", "gotosocial", "mbin")
# Actor documents of the major servers that are refused on purpose, with the reason.
EXPECTED_REFUSALS = {
    # The stub GoToSocial serves at a key URL (no inbox): the key resolver follows its id to the
    # full actor instead.
    "gotosocial/http_signatures__block01.json": "inbox",
}


def corpus_root() -> Path | None:
    configured = os.environ.get("FEDI_FEDIVERSE_FIXTURES")
    candidate = (
        Path(configured)
        if configured
        else Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "fediverse"
    )
    return candidate if candidate.is_dir() else None


ROOT = corpus_root()


@pytest.fixture(autouse=True)
def _corpus_present() -> None:
    # CI has the corpus beside the repository and lists "fixtures" in FEDI_TEST_REQUIRE.
    if ROOT is None:
        skip_or_fail(
            "fixtures",
            "fediverse fixture corpus not found: set FEDI_FEDIVERSE_FIXTURES or provide "
            "../shared/fixtures/fediverse next to the repository",
        )


def documents() -> Iterator[tuple[str, Any]]:
    assert ROOT is not None
    for path in sorted(ROOT.rglob("*.json")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith("_"):  # JSON-LD contexts, WebFinger and NodeInfo documents
            continue
        yield relative, json.loads(path.read_text(encoding="utf-8"))


def is_template(document: dict[str, Any]) -> bool:
    return "{{" in json.dumps(document.get("id"))


def nested_objects(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Embedded objects, depth first (Announce → Create → Note)."""
    for item in as_list(document.get("object")):
        if isinstance(item, dict):
            yield item
            yield from nested_objects(item)


def replay(document: Any) -> list[str]:
    """Run every reader that applies; return the refusals (typed errors) as strings."""
    refusals: list[str] = []
    if not isinstance(document, dict):
        return ["not an object"]
    candidates = [document, *nested_objects(document)]
    for item in candidates:
        try:
            if actor_type_of(item) is not None:
                ident = item.get("id")
                parse_actor_document(item, ident if isinstance(ident, str) else "")
            elif "actor" in item:
                read_activity(item)
            else:
                read_object(item)
        except (ActorDocumentError, ShapeError) as exc:
            refusals.append(str(exc))
    return refusals


def test_corpus_is_large_enough() -> None:
    # Guards against a moved corpus silently reducing the tests below to nothing.
    assert sum(1 for _ in documents()) > 300


def test_every_document_parses_or_is_refused_with_a_typed_error() -> None:
    crashes: list[str] = []
    for name, document in documents():
        try:
            replay(document)
        except FediError:  # a typed error of ours, even if not one the readers name
            continue
        except Exception as exc:
            crashes.append(f"{name}: {type(exc).__name__}: {exc}")
    assert crashes == []


def test_actors_of_major_servers_parse_with_inbox_and_key() -> None:
    seen: dict[str, int] = dict.fromkeys(MAJOR, 0)
    for name, document in documents():
        software = name.split("/", 1)[0]
        if software not in MAJOR or not isinstance(document, dict):
            continue
        if actor_type_of(document) is None or is_template(document):
            continue
        if name in EXPECTED_REFUSALS:
            with pytest.raises(ActorDocumentError, match=EXPECTED_REFUSALS[name]):
                parse_actor_document(document, document["id"])
            continue
        parsed = parse_actor_document(document, document["id"])
        assert parsed.inbox, name
        key_id = parsed.public_key_id or parsed.ed25519_key_id
        assert key_id is not None, name
        assert parsed.public_key(key_id) is not None, name
        seen[software] += 1
    assert all(seen.values()), seen


def test_activities_of_major_servers_are_read() -> None:
    read = 0
    for name, document in documents():
        software = name.split("/", 1)[0]
        if software not in MAJOR or not isinstance(document, dict) or "actor" not in document:
            continue
        if actor_type_of(document) is not None or not first_id(document.get("actor")):
            continue
        if document.get("id") == "SCRUBBED_ID":
            # Mbin's snapshots scrub ids; put one back on the actor's host.
            document = document | {"id": f"{first_id(document['actor'])}#activity"}
        if "id" not in document:
            continue  # documentation examples without an id (GoToSocial docs)
        shape = read_activity(document)
        assert shape.type and shape.actor, name
        read += 1
    assert read > 100


def _content_objects() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every content object of the corpus (top level or embedded) that the readers accept."""
    for name, document in documents():
        if not isinstance(document, dict):
            continue
        for item in [document, *nested_objects(document)]:
            if type_of(item) not in CONTENT_TYPES or is_template(item):
                continue
            try:
                read_object(item)
            except ShapeError:
                continue
            yield name, item


def _entries(document: dict[str, Any], key: str, kind: str) -> list[dict[str, Any]]:
    return [
        item
        for item in as_list(document.get(key))
        if isinstance(item, dict) and kind in as_list(item.get("type"))
    ]


async def test_what_the_corpus_carries_is_stored_in_rows(h: InboxHarness) -> None:
    """Each content object goes through the content service into the database: a Hashtag with a
    name ends as a row in object_tags, a Mention with an href in object_mentions, an Emoji with
    an icon in object_emojis, a media attachment with a url in object_attachments (its alt text
    kept), a ``contentMap`` as the language, a quote reference as ``quote_of``."""
    author = await h.actor_row("https://esf.test/users/anna")
    assert author is not None
    counts = dict.fromkeys(("tags", "mentions", "emojis", "attachments", "language", "quote"), 0)
    seen: set[str] = set()
    async with h.ctx.sessions() as session:
        for name, item in _content_objects():
            fields = read_object(item)
            if fields.uri in seen:
                continue
            seen.add(fields.uri)
            content.create(session, fields, item, author_id=author.id, local=False)
            await session.flush()
            row = await content.find(session, fields.uri)
            assert row is not None, name
            hashtags = [
                t for t in _entries(item, "tag", "Hashtag") if t.get("name") not in ("#", "")
            ]
            if hashtags:
                assert row.tags, name
                counts["tags"] += 1
            if any(isinstance(m.get("href"), str) for m in _entries(item, "tag", "Mention")):
                assert row.mentions, name
                counts["mentions"] += 1
            if _entries(item, "tag", "Emoji"):
                assert row.emojis, name
                counts["emojis"] += 1
            media = [
                a
                for kind in ("Document", "Image", "Video", "Audio")
                for a in _entries(item, "attachment", kind)
                if a.get("url")
            ]
            if media:
                assert len(row.attachments) >= len(media), name
                described = [a for a in media if isinstance(a.get("name"), str) and a["name"]]
                assert len([a for a in row.attachments if a.description]) >= len(described), name
                counts["attachments"] += 1
            mapped = item.get("contentMap")
            if isinstance(mapped, dict) and mapped:
                assert row.language in mapped, name
                counts["language"] += 1
            if any(
                isinstance(item.get(k), str) for k in ("quoteUrl", "_misskey_quote", "quoteUri")
            ):
                assert row.quote_of is not None, name
                counts["quote"] += 1
        await session.rollback()
    # The corpus has each of these shapes many times over; a reader that stops finding them fails.
    assert counts["tags"] >= 15 and counts["mentions"] >= 25, counts
    assert counts["emojis"] >= 2 and counts["attachments"] >= 15, counts
    assert counts["language"] >= 20 and counts["quote"] >= 4, counts
