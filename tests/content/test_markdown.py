from __future__ import annotations

from fedi.content.markdown import plain_excerpt, render_markdown


def test_markdown_is_rendered_with_tables_and_strikethrough() -> None:
    html = render_markdown("# Title\n\n|a|b|\n|-|-|\n|1|2|\n\n~~old~~ **new**")
    assert "<h1>Title</h1>" in html
    assert "<table>" in html and "<td>1</td>" in html
    assert "<s>old</s>" in html and "<strong>new</strong>" in html


def test_raw_html_and_unsafe_links_never_pass() -> None:
    html = render_markdown(
        '<script>alert(1)</script>\n\n<img src=x onerror="alert(1)">\n\n'
        "[bad](javascript:alert(1)) [good](https://esf.test/a)"
    )
    # Raw HTML is shown as text, never as elements.
    assert "&lt;script&gt;" in html and "<script" not in html
    assert "&lt;img" in html and "<img" not in html
    assert 'href="javascript' not in html
    assert '<a href="https://esf.test/a" rel="nofollow noopener ugc">good</a>' in html


def test_an_excerpt_is_text_cut_at_a_word() -> None:
    assert plain_excerpt("<p>Short &amp; <b>sweet</b></p>") == "Short & sweet"
    cut = plain_excerpt("<p>" + "word " * 100 + "</p>", limit=23)
    assert cut == "word word word word…"
    assert len(cut) <= 23
