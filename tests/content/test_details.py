"""Reading tags, mentions, emoji, attachments, warnings and quotes from the shapes servers send."""

from __future__ import annotations

from fedi.content.details import AttachmentRef, EmojiRef, MentionRef, TagRef, read_details
from fedi.federation.shapes import read_object


def test_tag_as_one_object_or_a_list_with_href_or_id() -> None:
    one = read_details({"tag": {"type": "Hashtag", "name": "#ESF"}}, object_type="Note")
    assert one.tags == [TagRef("esf", None)]
    many = read_details(
        {
            "tag": [
                {"type": "Hashtag", "name": "#Écoles", "href": "https://a.test/tags/ecoles"},
                {"type": "Hashtag", "name": "#ÉCOLES"},  # the same tag, spelt again
                {"type": "Hashtag", "id": "https://b.test/t/x", "name": "x"},
                {"type": "Hashtag", "name": "#"},  # nothing left: skipped
                "not an object",
            ]
        },
        object_type="Note",
    )
    assert many.tags == [
        TagRef("écoles", "https://a.test/tags/ecoles"),
        TagRef("x", "https://b.test/t/x"),
    ]


def test_decomposed_unicode_is_stored_composed() -> None:
    decomposed = "#E\u0301coles"
    [tag] = read_details(
        {"tag": [{"type": "Hashtag", "name": decomposed}]}, object_type="Note"
    ).tags
    assert tag.name == "\u00e9coles"


def test_mentions_and_emoji_of_mastodon_misskey_and_pleroma() -> None:
    details = read_details(
        {
            "tag": [
                {"type": "Mention", "href": "https://a.test/users/ann", "name": "@ann@a.test"},
                {"type": "Mention", "href": "https://b.test/u/bo"},
                {"type": "Mention", "name": "@nobody"},  # no actor: skipped
                {
                    "type": "Emoji",
                    "name": ":blobcat:",
                    "icon": {
                        "type": "Image",
                        "mediaType": "image/png",
                        "url": "https://a.test/e.png",
                    },
                },
                {"type": "Emoji", "name": ":misskey:", "icon": {"url": "https://m.test/e.webp"}},
                {"type": "Emoji", "name": ":bare:", "icon": "https://p.test/e.gif"},
            ]
        },
        object_type="Note",
    )
    assert details.mentions == [
        MentionRef("https://a.test/users/ann", "@ann@a.test"),
        MentionRef("https://b.test/u/bo", None),
    ]
    assert details.emojis == [
        EmojiRef("blobcat", "https://a.test/e.png", "image/png"),
        EmojiRef("misskey", "https://m.test/e.webp", None),
        EmojiRef("bare", "https://p.test/e.gif", None),
    ]


def test_attachments_in_order_with_alt_text_and_every_url_shape() -> None:
    details = read_details(
        {
            "attachment": [
                {
                    "type": "Document",
                    "mediaType": "image/jpeg",
                    "url": "https://a.test/1.jpg",
                    "name": "A map of the regions",
                    "blurhash": "UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH",
                    "width": 800,
                    "height": 600,
                },
                {"type": "Image", "url": {"type": "Link", "href": "https://b.test/2.png"}},
                {
                    "type": "Video",
                    "url": [
                        {"type": "Link", "mediaType": "text/html", "href": "https://c.test/v"},
                        {"type": "Link", "mediaType": "video/mp4", "href": "https://c.test/v.mp4"},
                    ],
                },
                {"type": "Link", "href": "https://d.test/article"},
                {"type": "PropertyValue", "name": "Website", "value": "x"},
                {"type": "Document", "name": "no url"},
            ]
        },
        object_type="Note",
    )
    assert [a.url for a in details.attachments] == [
        "https://a.test/1.jpg",
        "https://b.test/2.png",
        "https://c.test/v",
        "https://d.test/article",
    ]
    first = details.attachments[0]
    assert first == AttachmentRef(
        "image",
        "https://a.test/1.jpg",
        "image/jpeg",
        "A map of the regions",
        800,
        600,
        "UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH",
    )
    assert [a.kind for a in details.attachments] == ["image", "image", "video", "link"]


def test_content_warning_only_on_notes_and_sensitive_kept() -> None:
    warned = read_details({"summary": "politics", "sensitive": True}, object_type="Note")
    assert warned.content_warning == "politics" and warned.sensitive
    flagged = read_details({"sensitive": True}, object_type="Note")
    assert flagged.content_warning is None and flagged.sensitive
    article = read_details({"summary": "An excerpt"}, object_type="Article")
    assert article.content_warning is None and not article.sensitive


def test_quote_references_of_every_server() -> None:
    target = "https://q.test/notes/1"
    for key in ("quoteUrl", "_misskey_quote", "quoteUri", "quote"):
        assert read_details({key: target}, object_type="Note").quote_of == target
    fep_e232 = {
        "tag": [
            {
                "type": "Link",
                "mediaType": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
                "rel": "https://misskey-hub.net/ns#_misskey_quote",
                "href": target,
            }
        ]
    }
    assert read_details(fep_e232, object_type="Note").quote_of == target
    plain_link = {"tag": [{"type": "Link", "href": target}]}
    assert read_details(plain_link, object_type="Note").quote_of is None


def test_language_from_content_map_matching_content_else_first_key() -> None:
    base = {"id": "https://a.test/n/1", "type": "Note"}
    matching = read_object(
        base | {"content": "<p>Cześć</p>", "contentMap": {"en": "<p>Hi</p>", "pl": "<p>Cześć</p>"}}
    )
    assert (matching.content, matching.language) == ("<p>Cześć</p>", "pl")
    differing = read_object(base | {"content": "<p>Hallo</p>", "contentMap": {"de": "Hallo"}})
    assert (differing.content, differing.language) == ("<p>Hallo</p>", "de")
    only_map = read_object(base | {"contentMap": {"fr": "<p>Salut</p>"}})
    assert (only_map.content, only_map.language) == ("<p>Salut</p>", "fr")
    context = read_object(
        base
        | {
            "@context": ["https://www.w3.org/ns/activitystreams", {"@language": "it"}],
            "content": "Ciao",
        }
    )
    assert context.language == "it"
