"""The book's build step that writes math as MathML (book/_ext/offline_assets.py): no MathJax."""

import importlib.util

import pytest
from conftest import ROOT

pytest.importorskip("latex2mathml")
spec = importlib.util.spec_from_file_location("offline_assets", ROOT / "book" / "_ext" / "offline_assets.py")
offline_assets = importlib.util.module_from_spec(spec)
spec.loader.exec_module(offline_assets)


def test_inline_and_displayed_math_become_mathml():
    body = ('<p>From <span class="math notranslate nohighlight">\\(0 &lt; \\alpha &lt; 2/L\\)</span>:</p>\n'
            '<div class="math notranslate nohighlight">\n\\[\nx = \\frac{a}{b}\n\\]</div>')
    html, failed = offline_assets.render_math(body)
    assert failed == []
    assert '<span class="math notranslate"><math display="inline">' in html
    assert '<div class="math notranslate"><math display="block">' in html
    assert "<mfrac>" in html and "<mi>α</mi>" in html  # characters, not &#x003B1; references
    assert html.count("&#x0003C;") == 2 and "\\(" not in html and "\\[" not in html
    assert "xmlns" not in html  # implied in HTML


def test_each_formula_is_converted_on_its_own():
    body = ('<span class="math notranslate nohighlight">\\(a\\)</span> and '
            '<span class="math notranslate nohighlight">\\(\\mathcal{L}(w)\\)</span>')
    html, _ = offline_assets.render_math(body)
    assert html.count("<math") == 2 and " and <span" in html and "ℒ" in html


def test_a_formula_the_converter_cannot_read_is_reported_and_left_as_it_was():
    body = '<span class="math notranslate nohighlight">\\(\\frac{1}{\\)</span>'
    html, failed = offline_assets.render_math(body)
    assert failed == ["\\frac{1}{"] and html == body
