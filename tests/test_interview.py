"""The interview study guide and the Anki deck: one data file, checked against the book."""

import json
import re
import sqlite3
import subprocess
import sys
import zipfile

import genanki
import pytest

from conftest import ROOT
from lrcourse import interview
from lrcourse.core import optim

TOPICS = ["definition", "update-rule", "schedules", "adaptive-methods", "case-studies", "nuances"]
GUIDE = ROOT / "book" / "interview-guide.ipynb"


@pytest.fixture(scope="module")
def guide():
    return interview.load()


# ------------------------------------------------------------------------- the data


def test_at_least_40_questions_covering_the_six_topics(guide):
    assert len(guide.questions) >= 40
    assert [t.id for t in guide.topics] == TOPICS
    for topic in TOPICS:
        assert len(guide.on(topic)) >= 3, f"too few questions listed under {topic}"
    assert len({q.id for q in guide.questions}) == len(guide.questions)
    assert sum(bool(q.choices) for q in guide.questions) >= 10, "the quiz needs at least ten questions"
    definition = guide.question(interview.DEFINITION_ID)
    assert definition.topic == "definition"
    sentences = re.findall(r"[.!?](?=\s|$)", re.sub(r"\$[^$]*\$", "", definition.short))
    assert len(sentences) == 2, "the short definition is two sentences"


def test_the_landing_page_counts_the_questions_right(guide):
    row = next(line for line in (ROOT / "book" / "index.md").read_text().splitlines() if "interview-guide" in line)
    assert f"{len(guide.questions)} questions" in row, f"book/index.md: {row}"


def test_every_cited_section_exists_and_shows_every_number_quoted(guide):
    assert interview.check(guide) == []


def test_answers_cite_the_chapter_that_measures_them_not_only_the_cheat_sheet(guide):
    # The guide's own cheat sheet is the evidence only for torch's default values.
    own = interview.GUIDE_DOC + "#"
    for q in guide.questions:
        if all(e.startswith(own) for e in q.evidence):
            assert q.evidence == (own + "torch-s-default-hyperparameters",), q.id


@pytest.mark.parametrize("chapter", ["schedules", "adaptive-methods", "case-cnn", "case-lstm", "case-rl"])
def test_each_measured_chapter_backs_several_questions(guide, chapter):
    citing = [q.id for q in guide.questions if any(e.startswith(f"book/{chapter}#") for e in q.evidence)]
    assert len(citing) >= 3, f"only {citing} cite book/{chapter}"


def test_the_check_fails_on_a_missing_section_or_an_invented_number(guide):
    q = guide.questions[0]
    missing = q._replace(evidence=("book/update-rule#no-such-heading",))
    invented = q._replace(short=q.short + " It converged in 123457 steps.")
    problems = interview.check(guide._replace(questions=(missing, invented)))
    assert any("no-such-heading" in p and "not a section" in p for p in problems)
    assert any("123457 is not shown" in p for p in problems)
    wrong_quiz = q._replace(choices=(interview.Choice("x", True, "It took 98765 steps."),
                                     interview.Choice("y", False, "No.")))
    assert any("98765" in p for p in interview.check(guide._replace(questions=(wrong_quiz,))))


def test_citation_years_are_not_quoted_numbers(guide):
    text = "0.969 (Cohen et al., 2021), Keskar et al. (2017), Kingma & Ba 2015; step 2015 at B = 128."
    assert interview.measured_numbers(text) == ["0.969", "2015", "128"]
    invented = "Gilmer et al. 2022 measured 123457 steps."
    q = guide.questions[0]
    problems = interview.check(guide._replace(questions=(q._replace(long=invented),)))
    assert any("123457" in p for p in problems) and not any("2022" in p for p in problems)


def _plain(markdown):
    """Text outside math and code: where a quoted measurement would be read as a fact."""
    return re.sub(r"`[^`]*`", "", re.sub(r"\$[^$]*\$", "", markdown))


def _clogged(short):
    """Why ``short`` is not a principle an interviewee can say out loud: "" if it is one."""
    plain = _plain(short)
    sentences = re.findall(r"[.!?](?=\s|$)", re.sub(r"\b(?:et al|e\.g|i\.e|vs)\.", "", plain))
    quoted = interview.measured_numbers(plain)
    if len(sentences) > 3:
        return f"{len(sentences)} sentences"
    return f"it quotes {quoted}" if len(quoted) > 2 else ""


def test_short_answers_state_the_principle_without_toy_numbers(guide):
    # The numbers of a measurement belong in the long answer, labelled with their setting.
    assert _clogged("It held from B = 16 to 64 (0.978, 0.979 and 0.977 at α/B = 1/128).")
    assert _clogged("One. Two. Three. Four.")
    assert _clogged("Multiply $\\alpha$ by $k$ (Goyal et al., 2017), up to the stability limit.") == ""
    for q in guide.questions:
        assert _clogged(q.short) == "", f"{q.id}: {_clogged(q.short)}"


def test_rules_of_thumb_put_the_principle_first_then_one_labelled_number(guide):
    for i, rule in enumerate(guide.rules):
        principle, rest = re.fullmatch(r"\*\*(.+?)\*\*(.*)", rule.rule, re.S).groups()
        assert interview.measured_numbers(_plain(principle)) == [], f"rule {i}: {principle}"
        quoted = interview.measured_numbers(_plain(rest))
        assert len(quoted) <= 2, f"rule {i} quotes {quoted}"
        if quoted:
            assert "book's" in rest, f"rule {i} quotes {quoted} without saying where they were measured"


def test_numbers_are_read_as_written():
    text = "α = 0.5 at step 14; w_1, L2, beta1 and 10^{-6}; loss 8.4e+09, eps 1e-08; 0.20000."
    assert interview.numbers(text) == ["0.5", "14", "10", "6", "8.4e+09", "1e-08", "0.20000"]


def test_anchors_are_the_ids_sphinx_gives_the_headings():
    sections = interview.book_sections()
    threshold = sections["book/update-rule#the-threshold-2-l-predicted-and-measured"]
    assert threshold.title == "The threshold $2/L$, predicted and measured"
    assert threshold.chapter == "The update rule"
    assert re.search(r"largest α that did not move away\s+0\.20000", threshold.text)  # a printed output
    assert "## The best constant" not in threshold.text                    # the next section is not
    assert "book/what-is-the-learning-rate#where-you-meet-in-code" in sections   # "α" is dropped
    chapter = sections["book/update-rule#the-update-rule"]                       # a chapter holds its sections
    assert "0.20000" in chapter.text and "0.226" in chapter.text   # the double well's limit, in a subsection


def _write(tmp_path, text):
    path = tmp_path / "questions.yml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
topics:
  - {id: definition, title: Definition}
questions:
  - id: a-question
    question: Why?
    short: Because.
    long: Because, at length.
    evidence: book/update-rule#one-step-by-hand
    tags: [definition]
"""


def test_a_minimal_file_loads(tmp_path):
    guide = interview.load(_write(tmp_path, GOOD))
    assert guide.questions[0].evidence == ("book/update-rule#one-step-by-hand",)
    assert guide.questions[0].choices == () and guide.rules == ()


@pytest.mark.parametrize("change, message", [
    (("tags: [definition]", "tags: [definitions]"), r"Invalid tag in question 'a-question': 'definitions'"),
    (("    long: Because, at length.\n", ""), r"missing \['long'\]"),
    (("    short: Because.", "    short: Because.\n    answer: 42"), r"unknown field \['answer'\]"),
    (("#one-step-by-hand", " one step"), r"Invalid evidence in question 'a-question'"),
    (("id: a-question", "id: A Question"), r"Invalid question id: 'A Question'"),
    (("    tags: [definition]", "    tags: [definition]\n    quiz: {choices: [{text: a, correct: true, why: x},"
                                 " {text: b, correct: true, why: y}]}"), r"2 correct"),
])
def test_a_bad_file_is_refused_with_the_entry_and_the_field(tmp_path, change, message):
    with pytest.raises(ValueError, match=message):
        interview.load(_write(tmp_path, GOOD.replace(*change)))


def test_a_duplicate_id_is_refused(tmp_path):
    entry = GOOD.split("questions:\n")[1]
    with pytest.raises(ValueError, match=r"Invalid question 'a-question': it appears twice"):
        interview.load(_write(tmp_path, GOOD + entry))


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        interview.load(tmp_path / "nope.yml")


# ----------------------------------------------------------------------- the page


def test_each_answer_is_folded_until_clicked_and_links_its_evidence(guide):
    page = interview.topic_html(guide, "update-rule")
    q = guide.question("critical-learning-rate")
    block = re.search(r'<details class="lrc-q" id="q-critical-learning-rate">.*?</details>', page, re.S).group()
    assert block.index("<summary>") < block.index("lrc-short") < block.index("lrc-long")
    assert 'href="update-rule.html#the-threshold-2-l-predicted-and-measured"' in block
    assert r'<span class="math notranslate nohighlight">\(2/L\)</span>' in block
    assert page.count('class="lrc-q"') == len(guide.on("update-rule")) and q in guide.on("update-rule")
    assert repr(page) == f"<HTML: {len(guide.on('update-rule'))} questions on update-rule>"


def test_the_quiz_reveals_answers_on_click_without_any_script(guide):
    quiz = interview.quiz_html(guide)
    assert quiz.count('class="lrc-quiz"') == sum(bool(q.choices) for q in guide.questions)
    assert quiz.count("✓ Right.") == quiz.count('class="lrc-quiz"')
    for forbidden in ("<script", "<input", "onclick", "<form"):
        assert forbidden not in quiz


def test_markdown_escapes_raw_html_and_keeps_math():
    html = interview.markdown("a <script>x</script> and $a < b$")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert r"\(a &lt; b\)" in html


def test_evidence_links_relative_in_the_book_and_absolute_in_the_deck():
    evidence = "book/update-rule#one-step-by-hand"
    assert interview.evidence_href(evidence) == "update-rule.html#one-step-by-hand"
    assert interview.evidence_href("book/interview-guide#update-rules") == "#update-rules"
    assert interview.evidence_url(evidence, base="https://x.org/lr") == "https://x.org/lr/book/update-rule.html#one-step-by-hand"
    assert interview.evidence_url(evidence, base="") == "book/update-rule.html#one-step-by-hand"


def test_the_published_url_comes_from_the_environment():
    code = "from lrcourse import interview; print(interview.PUBLISHED_URL)"
    env = {"LRCOURSE_BOOK_URL": "https://example.org/lrcourse/", "PATH": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    assert out.stdout.strip() == "https://example.org/lrcourse/", out.stderr


def _rendered_outputs():
    """(source, stored text/html) of the guide's cells that render the data file."""
    cells = json.loads(GUIDE.read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.startswith("interview.") and "_html(" in source:
            (output,) = [o for o in cell["outputs"] if "text/html" in o.get("data", {})]
            yield source, "".join(output["data"]["text/html"])


def test_the_committed_guide_shows_the_current_data_file(guide):
    rendered = list(_rendered_outputs())
    assert len(rendered) == 1 + len(TOPICS) + 2   # definition, topics, quiz, rules
    for source, stored in rendered:
        fresh = eval(source, {"interview": interview, "guide": guide})
        assert stored == fresh, f"`{source}` is stale: re-run book/interview-guide.ipynb"
    page = "\n".join(stored for _, stored in rendered)
    for q in guide.questions:
        assert page.count(f'id="q-{q.id}"') == 1, f"{q.id} is not listed exactly once"


# ---------------------------------------------------------------- the cheat sheet


def test_step_size_measures_the_last_step():
    assert interview.step_size(optim.sgd(lr=0.1), grad=2.0) == pytest.approx(0.2)
    assert interview.step_size(optim.adam(lr=1e-3), grad=1e3) == pytest.approx(1e-3)
    heavy = optim.sgd(lr=0.01, momentum=0.9)
    assert interview.step_size(heavy, 1.0, steps=2) == pytest.approx(0.01 * 1.9)
    with pytest.raises(ValueError, match="steps"):
        interview.step_size(heavy, 1.0, steps=0)


def test_defaults_read_torch_and_lrcourse_alike():
    torch = pytest.importorskip("torch")
    assert interview.defaults(torch.optim.AdamW)["weight_decay"] == 0.01
    assert interview.defaults(optim.adamw) == interview.defaults(torch.optim.AdamW)
    assert "foreach" not in interview.defaults(torch.optim.Adam)
    assert interview.describe_defaults(torch.optim.lr_scheduler.StepLR) == "step_size (required), gamma=0.1"


# ------------------------------------------------------------------------ the deck


def _notes(apkg):
    with zipfile.ZipFile(apkg) as archive:
        db = apkg.parent / "collection.anki2"
        db.write_bytes(archive.read("collection.anki2"))
    with sqlite3.connect(db) as con:
        notes = con.execute("select guid, mid, tags, flds from notes").fetchall()
        decks = set(r[0] for r in con.execute("select did from cards"))
        models = json.loads(con.execute("select models from col").fetchone()[0])
    return notes, decks, models


def test_the_deck_holds_one_note_per_question_with_stable_ids(guide, tmp_path):
    apkg = interview.build_deck(guide, tmp_path / "a" / "deck.apkg", base_url="https://example.org/lr/")
    notes, decks, models = _notes(apkg)
    assert decks == {interview.DECK_ID} and str(interview.MODEL_ID) in models
    assert len(notes) == len(guide.questions)
    sections = interview.book_sections()
    by_guid = {guid: (mid, tags, flds.split("\x1f")) for guid, mid, tags, flds in notes}
    for q in guide.questions:
        mid, tags, fields = by_guid[genanki.guid_for(interview.GUID_NAMESPACE, q.id)]
        assert mid == interview.MODEL_ID
        assert fields == interview.deck_fields(q, sections, "https://example.org/lr/")
        assert fields[-1] == q.id and interview.markdown(q.short) == fields[1]
        assert tags.split() == [f"lrcourse::{t}" for t in q.tags]
        for evidence in q.evidence:
            assert f'href="https://example.org/lr/{interview.evidence_url(evidence, "")}"' in fields[3]
    # a second build (say, after an edit) keeps every id, so Anki updates instead of duplicating
    again, _, _ = _notes(interview.build_deck(guide, tmp_path / "b" / "deck.apkg"))
    assert sorted(n[0] for n in again) == sorted(by_guid)


def test_the_command_line_writes_the_deck(tmp_path, capsys):
    assert interview.main([str(tmp_path / "deck.apkg")]) == 0
    assert (tmp_path / "deck.apkg").stat().st_size > 10_000
    assert f"wrote {len(interview.load().questions)} notes" in capsys.readouterr().out


# -------------------------------------------------------------------- the built book


@pytest.mark.book
def test_every_link_of_the_built_guide_resolves(built_book, guide):
    page = built_book / "book" / "interview-guide.html"
    html = page.read_text(encoding="utf-8")
    assert html.count('<details class="lrc-q"') == len(guide.questions)
    links = re.findall(r'<a href="([^"]*)"', html[html.index('class="lrc-definition"'):])
    checked = 0
    for href in links:
        if href.startswith(("http:", "https:", "mailto:")) or "#" not in href:
            continue
        target, anchor = href.split("#", 1)
        target_html = (page.parent / target).read_text(encoding="utf-8") if target else html
        assert f'id="{anchor}"' in target_html, f"{href} does not resolve"
        checked += 1
    assert checked >= len(guide.questions)


@pytest.mark.book
def test_every_cited_anchor_is_an_id_in_the_built_book(built_book, guide):
    cited = {e for q in guide.questions for e in q.evidence} | {e for r in guide.rules for e in r.evidence}
    for evidence in cited:
        doc, anchor = evidence.split("#")
        assert f'id="{anchor}"' in (built_book / f"{doc}.html").read_text(encoding="utf-8"), evidence
