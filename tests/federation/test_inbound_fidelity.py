"""What servers send is kept: our own small documents shaped as Mastodon, Lemmy, Mbin, Misskey,
Pleroma and GoToSocial send them, delivered signed to the instance and worked by its processor,
land with their hashtags, mentions, emoji, attachments, warnings, language and quotes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from fedi.content.service import display_text
from fedi.db.models import ActivityState, ContentObject, Member, Notification
from fedi.testing.peers import PUBLIC, InboxHarness, alice, bob
from tests.federation.test_inbound import ANNA, activity, all_rows, receive

AS2 = "https://www.w3.org/ns/activitystreams"


async def stored(h: InboxHarness, uri: str) -> ContentObject:
    async with h.ctx.sessions() as session:
        row = await session.scalar(select(ContentObject).where(ContentObject.uri == uri))
    assert row is not None
    return row


def mastodon_note() -> dict[str, Any]:
    return {
        "id": "https://alice.test/users/alice/statuses/1",
        "type": "Note",
        "summary": "Funding rules",
        "sensitive": True,
        "attributedTo": alice().uri,
        "to": [PUBLIC],
        "cc": [alice().uri + "/followers", ANNA],
        "content": '<p>Hello <span class="h-card"><a href="https://esf.test/@anna">@anna</a>'
        '</span> about <a href="https://alice.test/tags/ESF" rel="tag">#<span>ESF</span></a> '
        ":blob:</p>",
        "contentMap": {"en": "<p>Hello @anna about #ESF :blob:</p>"},
        "attachment": [
            {
                "type": "Document",
                "mediaType": "image/png",
                "url": "https://alice.test/media/1.png",
                "name": "Chart of the regions",
                "blurhash": "U9Fhk$",
                "width": 400,
                "height": 300,
            }
        ],
        "tag": [
            {"type": "Mention", "href": ANNA, "name": "@anna@esf.test"},
            {"type": "Hashtag", "href": "https://alice.test/tags/esf", "name": "#ESF"},
            {
                "id": "https://alice.test/emojis/1",
                "type": "Emoji",
                "name": ":blob:",
                "icon": {
                    "type": "Image",
                    "mediaType": "image/png",
                    "url": "https://alice.test/e.png",
                },
            },
        ],
    }


async def test_a_mastodon_note_lands_with_every_field(h: InboxHarness) -> None:
    async with h.ctx.sessions() as session, session.begin():
        anna = await h.actor_row(ANNA)
        assert anna is not None
        session.add(Member(actor_id=anna.id, login="anna", password_hash="x"))
    note = mastodon_note()
    row = await receive(h, alice(), activity(alice(), "Create", note, "c1", to=[PUBLIC]))
    assert row.state is ActivityState.PROCESSED, row.error
    obj = await stored(h, note["id"])
    assert obj.language == "en"
    assert obj.sensitive and obj.content_warning == "Funding rules"
    assert [(t.name, t.href) for t in obj.tags] == [("esf", "https://alice.test/tags/esf")]
    assert [(m.actor_uri, m.name) for m in obj.mentions] == [(ANNA, "@anna@esf.test")]
    assert [(e.shortcode, e.icon_url, e.media_type) for e in obj.emojis] == [
        ("blob", "https://alice.test/e.png", "image/png")
    ]
    [media] = obj.attachments
    assert (media.kind, media.url, media.media_type, media.description) == (
        "image",
        "https://alice.test/media/1.png",
        "image/png",
        "Chart of the regions",
    )
    assert (media.width, media.height, media.blurhash) == (400, 300, "U9Fhk$")
    # anna was mentioned: she is told, once.
    [told] = await all_rows(h, Notification)
    assert (told.kind, told.object_uri) == ("mention", note["id"])


async def test_a_revision_replaces_the_details_and_a_delete_removes_them(h: InboxHarness) -> None:
    note = mastodon_note()
    await receive(h, alice(), activity(alice(), "Create", note, "c1"))
    revised = note | {
        "summary": None,
        "sensitive": False,
        "tag": [{"type": "Hashtag", "name": "#Inclusion"}],
        "attachment": [],
        "updated": "2024-05-02T10:00:00Z",
    }
    row = await receive(h, alice(), activity(alice(), "Update", revised, "u1"))
    assert row.state is ActivityState.PROCESSED, row.error
    obj = await stored(h, note["id"])
    assert [t.name for t in obj.tags] == ["inclusion"]
    assert obj.mentions == [] and obj.emojis == [] and obj.attachments == []
    assert not obj.sensitive and obj.content_warning is None
    await receive(h, alice(), activity(alice(), "Delete", note["id"], "d1"))
    obj = await stored(h, note["id"])
    assert obj.deleted_at is not None and obj.tags == [] and obj.content_warning is None


async def test_a_lemmy_page_keeps_its_link_language_and_tags(h: InboxHarness) -> None:
    page: dict[str, Any] = {
        "id": "https://alice.test/post/7",
        "type": "Page",
        "attributedTo": alice().uri,
        "name": "Cooperation agreement template",
        "content": "<p>Here it is</p>",
        "mediaType": "text/html",
        "source": {"content": "Here it is", "mediaType": "text/markdown"},
        "attachment": [{"type": "Link", "href": "https://docs.test/template.odt"}],
        "to": ["https://alice.test/c/esf", PUBLIC],
        "audience": "https://alice.test/c/esf",
        "sensitive": False,
        "language": {"identifier": "pl", "name": "Polski"},
        "contentMap": {"pl": "<p>Here it is</p>"},
        "tag": [{"type": "Hashtag", "href": "https://alice.test/c/esf", "name": "#esf"}],
    }
    await receive(h, alice(), activity(alice(), "Create", page, "c1"))
    obj = await stored(h, page["id"])
    assert obj.language == "pl" and obj.name == "Cooperation agreement template"
    assert [(a.kind, a.url) for a in obj.attachments] == [
        ("link", "https://docs.test/template.odt")
    ]
    assert [t.name for t in obj.tags] == ["esf"] and not obj.sensitive


async def test_an_mbin_entry_with_an_image_and_tags(h: InboxHarness) -> None:
    entry: dict[str, Any] = {
        "id": "https://alice.test/m/esf/t/1",
        "type": "Page",
        "attributedTo": alice().uri,
        "name": "Results",
        "content": "<p>Results of the call</p>",
        "image": {"type": "Image", "url": "https://alice.test/cover.jpg"},
        "attachment": [
            {
                "type": "Image",
                "mediaType": "image/jpeg",
                "url": "https://alice.test/cover.jpg",
                "name": "Cover photo",
            }
        ],
        "to": [PUBLIC],
        "tag": [
            {"type": "Hashtag", "href": "https://alice.test/tag/youth", "name": "#youth"},
            {"type": "Mention", "href": bob().uri, "name": "@bob@bob.test"},
        ],
        "contentMap": {"de": "<p>Results of the call</p>"},
    }
    await receive(h, alice(), activity(alice(), "Create", entry, "c1"))
    obj = await stored(h, entry["id"])
    assert obj.language == "de"
    assert [(a.kind, a.description) for a in obj.attachments] == [("image", "Cover photo")]
    assert [t.name for t in obj.tags] == ["youth"]
    assert [m.actor_uri for m in obj.mentions] == [bob().uri]


async def test_a_misskey_note_with_a_quote_and_emoji_and_cw(h: InboxHarness) -> None:
    note: dict[str, Any] = {
        "id": "https://alice.test/notes/9abc",
        "type": "Note",
        "attributedTo": alice().uri,
        "content": "<p>Look :party_parrot:</p>",
        "_misskey_content": "Look :party_parrot:",
        "_misskey_quote": "https://bob.test/notes/1",
        "quoteUrl": "https://bob.test/notes/1",
        "summary": "spoiler",
        "sensitive": False,
        "to": [PUBLIC],
        "tag": [
            {
                "id": "https://alice.test/emojis/party_parrot",
                "type": "Emoji",
                "name": ":party_parrot:",
                "updated": "2024-01-01T00:00:00.000Z",
                "icon": {
                    "type": "Image",
                    "mediaType": "image/gif",
                    "url": "https://alice.test/p.gif",
                },
            }
        ],
    }
    await receive(h, alice(), activity(alice(), "Create", note, "c1"))
    obj = await stored(h, note["id"])
    assert obj.quote_of == "https://bob.test/notes/1"
    assert obj.content_warning == "spoiler" and obj.sensitive
    assert [(e.shortcode, e.media_type) for e in obj.emojis] == [("party_parrot", "image/gif")]


async def test_a_pleroma_note_with_a_fep_e232_quote_link_and_a_single_tag(h: InboxHarness) -> None:
    note: dict[str, Any] = {
        "id": "https://alice.test/objects/5",
        "type": "Note",
        "attributedTo": alice().uri,
        "content": "RE: https://bob.test/notes/2",
        "to": [PUBLIC],
        "tag": {
            "type": "Link",
            "mediaType": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
            "rel": ["https://misskey-hub.net/ns#_misskey_quote"],
            "href": "https://bob.test/notes/2",
        },
        "sensitive": None,
    }
    await receive(h, alice(), activity(alice(), "Create", note, "c1"))
    obj = await stored(h, note["id"])
    assert obj.quote_of == "https://bob.test/notes/2" and not obj.sensitive
    assert obj.tags == []


async def test_a_gotosocial_image_only_post_keeps_its_image_and_a_text(h: InboxHarness) -> None:
    note: dict[str, Any] = {
        "@context": [AS2, {"@language": "nl"}],
        "id": "https://alice.test/users/alice/statuses/01HX",
        "type": "Note",
        "attributedTo": alice().uri,
        "content": "",
        "to": [PUBLIC],
        "attachment": {
            "type": "Image",
            "mediaType": "image/webp",
            "url": "https://alice.test/fileserver/01.webp",
            "name": "Volunteers planting trees",
        },
    }
    await receive(h, alice(), activity(alice(), "Create", note, "c1"))
    obj = await stored(h, note["id"])
    assert obj.content == "" and obj.language == "nl"
    assert [a.description for a in obj.attachments] == ["Volunteers planting trees"]
    assert display_text(obj) == "Volunteers planting trees"


async def test_an_embedded_object_without_author_belongs_to_the_actor_on_its_host(
    h: InboxHarness,
) -> None:
    note: dict[str, Any] = {
        "id": "https://alice.test/notes/anon",
        "type": "Note",
        "content": "hi",
        "to": [PUBLIC],
    }
    row = await receive(h, alice(), activity(alice(), "Create", note, "c1"))
    assert row.state is ActivityState.PROCESSED, row.error
    obj = await stored(h, note["id"])
    author = await h.actor_row(alice().uri)
    assert author is not None and obj.attributed_to_id == author.id
    # the same without author from another host is refused at the door (a third host)
    foreign = note | {"id": "https://bob.test/notes/anon"}
    response = await h.deliver(alice(), activity(alice(), "Create", foreign, "c2"))
    assert response.status_code == 400
