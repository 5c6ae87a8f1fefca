"""The question ``Note`` as written and read back, the text of a plain reply's HTML, and the
shared parts of direct messages: a written text's bounds and the hourly limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fedi.errors import RateLimitedError, ValidationError
from fedi.services.direct_messages import check_hourly, plain_text_of, written_text
from fedi.services.question_note import question_note, read_question_note

EXPERT = "https://pl.test/users/anna"
ASKER = "https://it.test/users/marco"


def _question() -> dict[str, object]:
    return question_note(
        object_id="https://it.test/objects/1",
        author_uri=ASKER,
        recipient_uri=EXPERT,
        recipient_handle="@anna@pl.test",
        subject="Mentors <for> NEETs",
        message="First line\nsecond line\n\nA <b>second</b> paragraph",
        published="2026-12-04T10:00:00Z",
    )


def test_a_question_is_a_direct_note_to_the_expert_alone() -> None:
    note = _question()
    assert note["to"] == [EXPERT] and note["cc"] == []
    assert note["tag"] == [{"type": "Mention", "href": EXPERT, "name": "@anna@pl.test"}]
    assert "inReplyTo" not in note and "expertQuestion" not in note
    content = str(note["content"])
    assert 'class="u-url mention">@anna@pl.test</a>' in content
    assert "<strong>Mentors &lt;for&gt; NEETs</strong>" in content
    assert "<p>First line<br>second line</p><p>A &lt;b&gt;second&lt;/b&gt; paragraph</p>" in content
    read = read_question_note(note)
    assert read.subject == "Mentors <for> NEETs" and read.in_reply_to is None
    assert read.message == "First line\nsecond line\n\nA <b>second</b> paragraph"
    assert read.recipients == (EXPERT,) and read.author == ASKER


def test_an_answer_names_its_question_and_the_message_it_answers() -> None:
    note = question_note(
        object_id="https://pl.test/objects/2",
        author_uri=EXPERT,
        recipient_uri=ASKER,
        recipient_handle="@marco@it.test",
        message="Gladly.",
        published="2026-12-04T11:00:00Z",
        question_uri="https://it.test/objects/1",
        in_reply_to="https://it.test/objects/1",
    )
    assert note["expertQuestion"] == note["inReplyTo"] == "https://it.test/objects/1"
    assert "questionSubject" not in note
    read = read_question_note(note)
    assert read.subject is None and read.message == "Gladly."


def test_a_plain_reply_is_read_from_its_html() -> None:
    html = (
        '<p><span class="h-card" translate="no"><a href="https://it.test/users/marco" '
        'class="u-url mention">@<span>marco</span></a></span> Yes &amp; no,<br>really.</p>'
        "<p>Second   paragraph</p>"
    )
    assert plain_text_of(html) == "Yes & no,\nreally.\n\nSecond paragraph"
    read = read_question_note(
        {
            "id": "https://mastodon.test/users/anna/statuses/1",
            "type": "Note",
            "attributedTo": EXPERT,
            "inReplyTo": "https://it.test/objects/1",
            "to": [ASKER],
            "content": html,
        }
    )
    assert read.message == "Yes & no,\nreally.\n\nSecond paragraph" and read.subject is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"to": ["https://www.w3.org/ns/activitystreams#Public"]}, "to"),
        ({"cc": ["as:Public"]}, "to"),
        ({"attributedTo": [ASKER, EXPERT]}, "attributedTo"),
        ({"questionSubject": " "}, "questionSubject"),
        ({"questionSubject": "x" * 201}, "questionSubject"),
        ({"questionMessage": "x" * 5001}, "questionMessage"),
        ({"questionMessage": None, "content": "<p>@anna</p>"}, "questionMessage"),
        ({"id": None}, "id"),
    ],
)
def test_a_malformed_or_public_question_is_refused(change: dict[str, object], field: str) -> None:
    note = _question() | change
    with pytest.raises(ValidationError) as caught:
        read_question_note(note)
    assert field in caught.value.errors


def test_an_answer_without_our_terms_must_reply_to_something() -> None:
    with pytest.raises(ValidationError) as caught:
        read_question_note({"id": "https://x.test/1", "attributedTo": EXPERT, "content": "hi"})
    assert "inReplyTo" in caught.value.errors


def test_written_text_is_trimmed_bounded_and_not_empty() -> None:
    assert written_text("  a\r\nb \r\n", "message", 5) == "a\nb"
    for value, reason in ((" \n ", "empty"), ("abcdef", "at most 5"), (3, "text")):
        with pytest.raises(ValidationError) as caught:
            written_text(value, "message", 5)
        assert reason in caught.value.errors["message"][0]


def test_the_hourly_limit_says_when_to_come_back() -> None:
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    check_hourly(9, now - timedelta(minutes=50), 10, "questions", now)
    with pytest.raises(RateLimitedError) as caught:
        check_hourly(10, now - timedelta(minutes=50), 10, "questions", now)
    assert 600 <= caught.value.retry_after <= 601
    assert "at most 10 questions an hour" in str(caught.value)
