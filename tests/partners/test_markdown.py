from __future__ import annotations

from fedi.content.markdown import plain_excerpt, render_markdown


def test_markdown_renders_tables_and_strikethrough_without_raw_html() -> None:
    html = render_markdown("**a** ~~b~~\n\n| x | y |\n|---|---|\n| 1 | 2 |\n\n<script>x</script>")
    assert "<strong>a</strong>" in html and "<s>b</s>" in html
    assert "<table>" in html and "<td>1</td>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_links_are_marked_and_unsafe_schemes_dropped() -> None:
    html = render_markdown("[a](https://example.org) [b](javascript:alert(1))")
    assert 'rel="nofollow noopener ugc"' in html
    assert html.count("href=") == 1 and 'href="javascript' not in html


def test_plain_excerpt_cuts_at_a_word() -> None:
    assert plain_excerpt("<p>Hello &amp; <b>world</b></p>") == "Hello & world"
    assert plain_excerpt("<p>one two three four</p>", limit=10) == "one two…"
