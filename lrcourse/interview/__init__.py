"""The interview study guide and its Anki deck, both generated from one data file.

``lrcourse/interview/questions.yml`` (package data) holds every question: a short answer to say out loud, a
longer one, the section of the book that measures it (``evidence``, as
``document#anchor``), topic tags and, optionally, a multiple-choice version for the quiz.
This module reads and checks that file and renders it twice:

* as HTML for the chapter ``book/interview-guide.ipynb``: answers folded in ``<details>``
  so they stay hidden until clicked, with no kernel and no JavaScript;
* as an Anki deck (``make anki``, or ``python -m lrcourse.interview OUT.apkg``): one note
  per question, with ids fixed once so that re-importing updates the cards.

Example::

    >>> from lrcourse import interview
    >>> guide = interview.load()
    >>> interview.check(guide)            # cited sections exist, every number is in them
    []
    >>> interview.topic_html(guide, "schedules")      # doctest: +SKIP
    <HTML: 10 questions on schedules>

Links from the page to the evidence are relative (``update-rule.html#anchor``); the deck
links to ``PUBLISHED_URL``, the address of the published book, which the environment
variable ``LRCOURSE_BOOK_URL`` sets. Without it the links are relative to the book's root
(``book/update-rule.html#anchor``).
"""

from __future__ import annotations

import html
import inspect
import json
import os
import posixpath
import re
import sys
from pathlib import Path
from typing import Mapping, NamedTuple

__all__ = [
    "PUBLISHED_URL",
    "QUESTIONS",
    "Topic",
    "Choice",
    "Question",
    "Rule",
    "Guide",
    "Section",
    "HTML",
    "load",
    "book_sections",
    "check",
    "numbers",
    "measured_numbers",
    "markdown",
    "definition_html",
    "topic_html",
    "quiz_html",
    "rules_html",
    "evidence_href",
    "evidence_url",
    "step_size",
    "defaults",
    "describe_defaults",
    "topics_table",
    "step_table",
    "later_steps_table",
    "defaults_text",
    "defaults_differences",
    "deck_fields",
    "deck_tags",
    "build_deck",
]

ROOT = Path(__file__).resolve().parents[2]  # the repository, where the book's chapters are (an editable install)
QUESTIONS = Path(__file__).with_name("questions.yml")  # package data: ships in the wheel
SECTION_INDEX = Path(__file__).with_name("sections.json")  # the cited sections' titles, shipped too
GUIDE_DOC = "book/interview-guide"  # the chapter that shows the questions
DEFINITION_ID = "what-is-the-learning-rate"

# The published book, for the deck's links: "https://…/" or "" (links relative to its root).
PUBLISHED_URL = os.environ.get("LRCOURSE_BOOK_URL", "")

# Anki identifies a note type and a deck by these numbers and a note by its GUID, derived
# from the question's id. They were chosen once at random; changing any of them makes every
# reader's next import add duplicates instead of updating their cards.
MODEL_ID = 1240404066
DECK_ID = 1681908403
GUID_NAMESPACE = "lrcourse-interview"
DECK_NAME = "The learning rate, measured: interview questions"

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_EVIDENCE = re.compile(r"^[\w./-]+#[a-z][a-z0-9-]*$")


# ------------------------------------------------------------------------------ data


class Topic(NamedTuple):
    id: str  # a tag, e.g. "update-rule"
    title: str  # its heading in the guide, e.g. "The update rule"


class Choice(NamedTuple):
    text: str  # Markdown
    correct: bool
    why: str  # shown when the choice is clicked


class Question(NamedTuple):
    id: str  # stable: the Anki GUID is derived from it
    question: str  # Markdown, $…$ for math
    short: str
    long: str
    evidence: tuple[str, ...]  # "book/update-rule#the-threshold-2-l-predicted-and-measured", …
    tags: tuple[str, ...]  # topic ids; the first groups the question on the page
    quiz_prompt: str  # the quiz's question ("" without a quiz)
    choices: tuple[Choice, ...]  # empty without a quiz

    @property
    def topic(self) -> str:
        return self.tags[0]


class Rule(NamedTuple):
    rule: str  # Markdown, one rule of thumb with the number that backs it
    evidence: tuple[str, ...]


class Guide(NamedTuple):
    topics: tuple[Topic, ...]
    questions: tuple[Question, ...]
    rules: tuple[Rule, ...]

    def on(self, topic: str) -> list[Question]:
        """The questions grouped under ``topic`` (their first tag), in file order."""
        if topic not in {t.id for t in self.topics}:
            raise ValueError(f"Invalid topic: {topic!r} (expected one of {[t.id for t in self.topics]})")
        return [q for q in self.questions if q.topic == topic]

    def tagged(self, tag: str) -> list[Question]:
        """Every question carrying ``tag``, wherever it is grouped."""
        return [q for q in self.questions if tag in q.tags]

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise ValueError(f"Invalid question id: {question_id!r}")


def load(path=QUESTIONS) -> Guide:
    """Read and validate the questions file; a ``ValueError`` names the entry and the field."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"Invalid questions file: {str(path)!r} does not exist")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    _keys(data, "the questions file", required={"topics", "questions"}, optional={"rules_of_thumb"})
    topics = tuple(_topic(entry) for entry in _list(data["topics"], "topics"))
    topic_ids = [t.id for t in topics]
    _unique(topic_ids, "topic")
    questions = tuple(_question(entry, topic_ids) for entry in _list(data["questions"], "questions"))
    _unique([q.id for q in questions], "question")
    rules = tuple(_rule(entry, i) for i, entry in enumerate(data.get("rules_of_thumb") or []))
    return Guide(topics, questions, rules)


def _topic(entry) -> Topic:
    _keys(entry, "topic", required={"id", "title"})
    return Topic(_slug(entry["id"], "topic id"), _text(entry["title"], f"topic {entry['id']!r}", "title"))


def _question(entry, topic_ids) -> Question:
    where = f"question {entry.get('id')!r}" if isinstance(entry, dict) else "question"
    _keys(entry, where, required={"id", "question", "short", "long", "evidence", "tags"}, optional={"quiz"})
    tags = tuple(_list(entry["tags"], f"{where}: tags"))
    for tag in tags:
        if tag not in topic_ids:
            raise ValueError(f"Invalid tag in {where}: {tag!r} (expected one of {topic_ids})")
    _unique(tags, f"tag in {where}:")
    prompt, choices = "", ()
    if entry.get("quiz") is not None:
        prompt, choices = _quiz(entry["quiz"], where, default_prompt=entry["question"])
    return Question(
        id=_slug(entry["id"], "question id"),
        question=_text(entry["question"], where, "question"),
        short=_text(entry["short"], where, "short"),
        long=_text(entry["long"], where, "long"),
        evidence=_evidence(entry["evidence"], where),
        tags=tags,
        quiz_prompt=prompt,
        choices=choices,
    )


def _quiz(quiz, where, default_prompt):
    _keys(quiz, f"{where}: quiz", required={"choices"}, optional={"prompt"})
    choices = []
    for choice in _list(quiz["choices"], f"{where}: quiz choices"):
        _keys(choice, f"{where}: quiz choice", required={"text", "correct", "why"})
        if not isinstance(choice["correct"], bool):
            raise ValueError(f"Invalid correct value in {where}: {choice['correct']!r} (expected true or false)")
        choices.append(Choice(_text(choice["text"], where, "choice text"), choice["correct"],
                              _text(choice["why"], where, "choice why")))
    if len(choices) < 2 or sum(c.correct for c in choices) != 1:
        raise ValueError(f"Invalid quiz in {where}: {len(choices)} choices, "
                         f"{sum(c.correct for c in choices)} correct (expected at least 2, exactly 1 correct)")
    return _text(quiz.get("prompt", default_prompt), where, "quiz prompt"), tuple(choices)


def _rule(entry, index) -> Rule:
    where = f"rule of thumb {index}"
    _keys(entry, where, required={"rule", "evidence"})
    return Rule(_text(entry["rule"], where, "rule"), _evidence(entry["evidence"], where))


def _keys(entry, where, required, optional=frozenset()):
    if not isinstance(entry, dict):
        raise ValueError(f"Invalid {where}: {entry!r} (expected a mapping)")
    missing, unknown = set(required) - set(entry), set(entry) - set(required) - set(optional)
    if missing:
        raise ValueError(f"Invalid {where}: missing {sorted(missing)}")
    if unknown:
        raise ValueError(f"Invalid {where}: unknown field {sorted(unknown)}")


def _list(value, where) -> list:
    if not isinstance(value, list) or not value:
        raise ValueError(f"Invalid {where}: {value!r} (expected a non-empty list)")
    return value


def _text(value, where, field) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"Invalid {field} in {where}: {value!r} (expected non-empty text)")
    return value.strip()


def _slug(value, what) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise ValueError(f"Invalid {what}: {value!r} (expected lowercase words joined by '-')")
    return value


def _unique(values, what):
    seen = set()
    for value in values:
        if value in seen:
            raise ValueError(f"Invalid {what} {value!r}: it appears twice")
        seen.add(value)


def _evidence(value, where) -> tuple[str, ...]:
    values = [value] if isinstance(value, str) else value
    for item in _list(values, f"{where}: evidence"):
        if not isinstance(item, str) or not _EVIDENCE.match(item):
            raise ValueError(f"Invalid evidence in {where}: {item!r} (expected 'book/chapter#heading-anchor')")
    return tuple(values)


# -------------------------------------------------------------------------- the book


class Section(NamedTuple):
    doc: str  # "book/update-rule"
    anchor: str  # the heading's id in the built HTML
    title: str  # the heading, Markdown
    chapter: str  # the document's first heading, Markdown
    text: str  # the section's Markdown, code and text outputs, subsections included


def book_sections(root=ROOT) -> dict[str, Section]:
    """Every heading of the book's documents (those in ``_toc.yml``), keyed ``"doc#anchor"``.

    The anchor is the id Sphinx gives the heading (``docutils.nodes.make_id`` of its text),
    so ``update-rule.html#anchor`` finds it in the built book. A section's text holds its
    Markdown, its code and the code's text outputs (not HTML, which holds explorers' data).
    """
    import yaml

    root = Path(root)
    if not (root / "_toc.yml").is_file():
        return shipped_sections()
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    docs = [toc["root"]] + [entry["file"] for entry in toc.get("chapters", []) if "file" in entry]
    sections = {}
    for doc in docs:
        for suffix in (".ipynb", ".md"):
            if (root / f"{doc}{suffix}").is_file():
                sections.update(_sections(doc, _chunks(root / f"{doc}{suffix}")))
                break
    return sections


def shipped_sections(path=SECTION_INDEX) -> dict[str, Section]:
    """The cited sections' titles as the package ships them, for an install without the book
    (a wheel, Colab): enough to draw the guide and the deck, not to :func:`check` them."""
    index = json.loads(Path(path).read_text(encoding="utf-8"))
    return {key: Section(key.partition("#")[0], key.partition("#")[2], title, chapter, "")
            for key, (title, chapter) in index.items()}


def section_index(guide: Guide, sections: dict[str, Section]) -> dict[str, list[str]]:
    """``{"doc#anchor": [title, chapter]}`` for every section the guide cites (``sections.json``)."""
    cited = sorted({e for q in guide.questions for e in q.evidence} | {e for r in guide.rules for e in r.evidence})
    missing = [e for e in cited if e not in sections]
    if missing:
        raise ValueError(f"Invalid evidence: {missing} are not sections of the book")
    return {e: [sections[e].title, sections[e].chapter] for e in cited}


def write_section_index(path=SECTION_INDEX, root=ROOT) -> Path:
    """Rewrite ``sections.json`` from the book (``python -m lrcourse.interview --index``)."""
    index = section_index(load(), book_sections(root))
    Path(path).write_text(json.dumps(index, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return Path(path)


def _chunks(path: Path):
    """``(kind, text)`` pieces of a document in reading order: Markdown, code, outputs."""
    if path.suffix == ".md":
        return [("markdown", path.read_text(encoding="utf-8"))]
    chunks = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"])
        chunks.append((cell["cell_type"] if cell["cell_type"] == "markdown" else "text", source))
        for output in cell.get("outputs", []):
            text = output.get("text") or output.get("data", {}).get("text/plain") or ""
            chunks.append(("text", "".join(text)))
    return chunks


def _sections(doc, chunks) -> dict[str, Section]:
    from docutils.nodes import make_id

    found, open_ = {}, []  # open_: (level, key, parts) of the headings enclosing the text
    chapter = None
    for kind, text in chunks:
        pieces = _split_headings(text) if kind == "markdown" else [(None, None, text)]
        for level, title, body in pieces:
            if level is not None:
                while open_ and open_[-1][0] >= level:
                    open_.pop()
                chapter = chapter or title
                anchor = make_id(_plain(title))
                key = f"{doc}#{anchor}"
                if key not in found:  # Sphinx renames a repeated heading's id; cite the first
                    found[key] = (title, chapter, [])
                open_.append((level, key, found[key][2]))
            for _, _, parts in open_:
                parts.append(body)
    return {key: Section(doc, key.split("#", 1)[1], title, ch, "\n".join(parts))
            for key, (title, ch, parts) in found.items()}


def _split_headings(text):
    """Split Markdown at its headings: ``[(level or None, title, text below it), …]``."""
    lines = text.splitlines()
    tokens = _parser().parse(text)
    pieces, start, current = [], 0, (None, None)
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.map:
            first = token.map[0]
            pieces.append((*current, "\n".join(lines[start:first])))
            current = (int(token.tag[1]), tokens[i + 1].content.strip())
            start = token.map[1]
    pieces.append((*current, "\n".join(lines[start:])))
    return [p for p in pieces if p[0] is not None or p[2].strip()]


def _plain(markdown_inline: str) -> str:
    """The text Sphinx sees in a heading: math and code kept, Markdown markup dropped."""
    children = _parser().parseInline(markdown_inline)[0].children or []
    return "".join(t.content for t in children if t.type in ("text", "math_inline", "code_inline"))


# --------------------------------------------------------------------------- checks

# A number as written in prose or printed: 14, 0.20000, 8.4e+09, 1e-08. Not part of a name
# (w_1, L2, beta1) and not the start of a longer number.
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?:e[+-]?\d+)?(?!\.?\d)")


def numbers(text: str) -> list[str]:
    """The numbers written in ``text``, as written: ``numbers("α = 0.5 at step 14") == ['0.5', '14']``."""
    return _NUMBER.findall(text)


# The year of a citation by author: "Cohen et al., 2021", "Keskar et al. (2017)", "Kingma & Ba 2015".
# It names a paper, not a measurement, so the check does not look for it in the book.
_CITATION_YEAR = re.compile(r"(?:\bet al\.|\b[A-Z][^\s\d,;()]*),?\s\(?((?:19|20)\d\d)(?!\.?\d)")


def measured_numbers(text: str) -> list[str]:
    """The numbers of ``text`` that the book must show: all but the years of citations.

    ``measured_numbers("0.969 (Cohen et al., 2021)") == ['0.969']``.
    """
    return numbers(_CITATION_YEAR.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)], text))


def _shows(text: str, number: str) -> bool:
    return re.search(r"(?<![\w.])" + re.escape(number) + r"(?!\.?\d)", text) is not None


def check(guide: Guide, root=ROOT) -> list[str]:
    """What is wrong with ``guide`` against the book; an empty list when nothing is.

    * every cited section exists (a heading of a document in ``_toc.yml``);
    * every number in a question, answer or rule is shown (printed or written) in the
      sections it cites, and every number in a quiz explanation somewhere in the book;
      the years of citations ("Cohen et al., 2021") are not measurements and are skipped.
    """
    sections = book_sections(root)
    book_text = "\n".join(s.text for s in sections.values())
    problems = []

    def audit(where, evidence, texts, anywhere=()):
        cited = [sections[e] for e in evidence if e in sections]
        problems.extend(f"{where}: cites {e}, which is not a section of the book"
                        for e in evidence if e not in sections)
        if len(cited) == len(evidence):
            text = "\n".join(s.text for s in cited)
            for number in dict.fromkeys(n for t in texts for n in measured_numbers(t)):
                if not _shows(text, number):
                    problems.append(f"{where}: {number} is not shown in {', '.join(evidence)}")
        for number in dict.fromkeys(n for t in anywhere for n in measured_numbers(t)):
            if not _shows(book_text, number):
                problems.append(f"{where}: {number} (quiz) is not shown anywhere in the book")

    for q in guide.questions:
        audit(f"question {q.id!r}", q.evidence, [q.question, q.short, q.long],
              anywhere=[c.why for c in q.choices])
    for i, rule in enumerate(guide.rules):
        audit(f"rule of thumb {i}", rule.evidence, [rule.rule])
    return problems


# ------------------------------------------------------------------------ rendering


def _parser():
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    global _MD
    if _MD is None:
        md = MarkdownIt("commonmark", {"html": False}).use(dollarmath_plugin, double_inline=True)
        # The same markup Sphinx writes for math, which the book's build turns into MathML (and
        # Anki's MathJax reads \( \) and \[ \] too).
        md.add_render_rule("math_inline", lambda self, tokens, i, options, env:
                           f'<span class="math notranslate nohighlight">\\({html.escape(tokens[i].content)}\\)</span>')
        md.add_render_rule("math_inline_double", lambda self, tokens, i, options, env:
                           f'<span class="math notranslate nohighlight">\\[{html.escape(tokens[i].content)}\\]</span>')
        md.add_render_rule("math_block", lambda self, tokens, i, options, env:
                           f'<div class="math notranslate nohighlight">\\[{html.escape(tokens[i].content)}\\]</div>\n')
        _MD = md
    return _MD


_MD = None


def markdown(text: str, inline: bool = False) -> str:
    """Markdown with ``$…$`` math to HTML; raw HTML in the text is escaped."""
    return _parser().renderInline(text) if inline else _parser().render(text).strip()


class HTML(str):
    """A rendered fragment: a ``str`` that Jupyter displays as HTML."""

    def __new__(cls, content: str, summary: str):
        self = super().__new__(cls, content)
        self.summary = summary
        return self

    def _repr_html_(self):
        return str(self)

    def __repr__(self):
        return f"<HTML: {self.summary}>"


_STYLE = """<style>
.lrc-q, .lrc-choice { border: 1px solid var(--pst-color-border, #d0d7de); border-radius: 6px;
  padding: 0.45em 0.8em; margin: 0.5em 0; }
.lrc-q > summary, .lrc-choice > summary { cursor: pointer; }
.lrc-q > summary { font-weight: 600; }
.lrc-q[open] > summary { margin-bottom: 0.6em; }
.lrc-short { border-left: 3px solid var(--pst-color-primary, #0a7d91); padding-left: 0.7em; }
.lrc-short p, .lrc-long p, .lrc-choice p { margin: 0.3em 0; }
.lrc-meta { font-size: 0.9em; margin: 0.4em 0 0; }
.lrc-label { font-weight: 600; margin: 0.8em 0 0.2em; }
.lrc-quiz { margin: 1.2em 0; }
.lrc-right { color: var(--pst-color-success, #1a7f37); font-weight: 600; }
.lrc-wrong { color: var(--pst-color-danger, #cf222e); font-weight: 600; }
</style>"""


def evidence_href(evidence: str, from_doc: str = GUIDE_DOC) -> str:
    """A link from the page ``from_doc`` to the cited section: ``"update-rule.html#anchor"``."""
    doc, anchor = evidence.split("#", 1)
    if doc == from_doc:
        return f"#{anchor}"
    return f"{posixpath.relpath(doc, posixpath.dirname(from_doc))}.html#{anchor}"


def evidence_url(evidence: str, base: str | None = None) -> str:
    """The cited section in the published book: ``PUBLISHED_URL + "book/update-rule.html#anchor"``."""
    base = PUBLISHED_URL if base is None else base
    if base and not base.endswith("/"):
        base += "/"
    doc, anchor = evidence.split("#", 1)
    return f"{base}{doc}.html#{anchor}"


def _evidence_links(evidence, sections, href) -> str:
    links = []
    for e in evidence:
        if e not in sections:
            raise ValueError(f"Invalid evidence: {e!r} is not a section of the book")
        s = sections[e]
        where = markdown(s.title, inline=True)
        if s.title != s.chapter:
            where = f"{markdown(s.chapter, inline=True)} › {where}"
        links.append(f'<a href="{html.escape(href(e))}">{where}</a>')
    return "; ".join(links)


def _question_html(q: Question, guide: Guide, sections) -> str:
    titles = {t.id: t.title for t in guide.topics}
    also = [titles[t] for t in q.tags[1:]]
    meta = f'<p class="lrc-meta">Evidence: {_evidence_links(q.evidence, sections, evidence_href)}'
    if also:
        meta += f"<br>Also about: {', '.join(html.escape(a) for a in also)}"
    return (f'<details class="lrc-q" id="q-{q.id}">\n<summary>{markdown(q.question, inline=True)}</summary>\n'
            f'<div class="lrc-short">{markdown(q.short)}</div>\n'
            f'<div class="lrc-long">{markdown(q.long)}</div>\n{meta}</p>\n</details>')


def definition_html(guide: Guide, question_id: str = DEFINITION_ID, root=ROOT) -> HTML:
    """The definition, open: its short answer (two sentences) and its long one (a paragraph)."""
    q = guide.question(question_id)
    sections = book_sections(root)
    body = (f'{_STYLE}\n<div class="lrc-definition">\n'
            f'<p class="lrc-label">In two sentences</p>\n<div class="lrc-short">{markdown(q.short)}</div>\n'
            f'<p class="lrc-label">In one paragraph</p>\n<div class="lrc-long">{markdown(q.long)}</div>\n'
            f'<p class="lrc-meta">Evidence: {_evidence_links(q.evidence, sections, evidence_href)}</p>\n</div>')
    return HTML(body, f"the definition ({q.id})")


def topic_html(guide: Guide, topic: str, root=ROOT) -> HTML:
    """The questions of one topic, each answer folded until its question is clicked."""
    questions = guide.on(topic)
    sections = book_sections(root)
    blocks = [_question_html(q, guide, sections) for q in questions]
    return HTML("\n".join([_STYLE, *blocks]), f"{len(questions)} questions on {topic}")


def quiz_html(guide: Guide) -> HTML:
    """The self-check quiz: click a choice to see whether it is right, and why."""
    items = [q for q in guide.questions if q.choices]
    blocks = [_STYLE]
    for number, q in enumerate(items, start=1):
        choices = []
        for letter, c in zip("ABCDEFGH", q.choices):
            verdict = ('<span class="lrc-right">✓ Right.</span>' if c.correct
                       else '<span class="lrc-wrong">✗ Not quite.</span>')
            choices.append(f'<details class="lrc-choice">\n<summary>{letter}. {markdown(c.text, inline=True)}'
                           f'</summary>\n<p>{verdict} {markdown(c.why, inline=True)}</p>\n</details>')
        blocks.append(f'<div class="lrc-quiz" id="quiz-{q.id}">\n'
                      f'<p><strong>{number}.</strong> {markdown(q.quiz_prompt, inline=True)}</p>\n'
                      + "\n".join(choices)
                      + f'\n<p class="lrc-meta">The full answer: <a href="#q-{q.id}">'
                        f'{markdown(q.question, inline=True)}</a></p>\n</div>')
    return HTML("\n".join(blocks), f"a quiz of {len(items)} questions")


def rules_html(guide: Guide, root=ROOT) -> HTML:
    """The rules of thumb, each with the measurement behind it and a link to it."""
    sections = book_sections(root)
    items = [f'<li>{markdown(r.rule, inline=True)} '
             f'<span class="lrc-meta">({_evidence_links(r.evidence, sections, evidence_href)})</span></li>'
             for r in guide.rules]
    return HTML("\n".join([_STYLE, '<ul class="lrc-rules">', *items, "</ul>"]), f"{len(items)} rules of thumb")


# ------------------------------------------------------------------- the cheat sheet


def step_size(optimizer, grad: float, steps: int = 1, theta: float = 0.0) -> float:
    """How far the last of ``steps`` steps moves one parameter under a constant gradient.

    ``step_size(optim.adam(lr=1e-3), grad=1000.0)`` is Adam's first step, ``|θ₁ − θ₀|``.
    """
    import numpy as np

    from lrcourse import _checks

    _checks.positive_int(steps, "steps")
    theta = np.array([float(theta)])
    state = optimizer.init(theta)
    for _ in range(steps):
        new_theta, state = optimizer.step(theta, np.array([float(grad)]), state)
        size, theta = abs(new_theta[0] - theta[0]), new_theta
    return float(size)


def topics_table(guide: Guide) -> str:
    """Per topic: the questions listed under it (their first tag) and those tagged with it."""
    from lrcourse.results.tables import format_table

    rows = [[t.title, len(guide.on(t.id)), len(guide.tagged(t.id))] for t in guide.topics]
    return format_table(["topic", "listed here", "tagged"], rows)


def step_table(optimizers: Mapping[str, object], grads) -> str:
    """The first step |Δθ| of each optimizer (rows) for each constant gradient g (columns)."""
    from lrcourse.results.tables import format_table

    if not optimizers:
        raise ValueError("Invalid optimizers value: {} (expected at least one name -> optimizer)")
    rows = [[name, *(f"{step_size(opt, g):.3g}" for g in grads)] for name, opt in optimizers.items()]
    return format_table(["g", *(f"{g:g}" for g in grads)], rows)


def later_steps_table(cases: Mapping[str, tuple]) -> str:
    """|Δθ| at chosen steps under a constant gradient. ``cases`` maps a label to
    ``(optimizer, gradient, θ₀, steps)``; a step a case does not list is left blank."""
    from lrcourse.results.tables import format_table

    if not cases:
        raise ValueError("Invalid cases value: {} (expected at least one label -> case)")
    columns = sorted({t for *_, at in cases.values() for t in at})
    rows = []
    for label, (opt, grad, theta, at) in cases.items():
        sizes = {t: f"{step_size(opt, grad, t, theta):.3g}" for t in at}
        rows.append([label, f"{grad:g}", f"{theta:g}", *(sizes.get(t, "") for t in columns)])
    return format_table(["", "g", "θ₀", *(f"step {t}" for t in columns)], rows)


def defaults_text(functions, width: int = 72) -> str:
    """One paragraph per optimizer or scheduler: ``Name: its defaults``, wrapped at ``width``."""
    import textwrap

    return "\n".join(textwrap.fill(f"{fn.__name__}: {describe_defaults(fn)}", width=width,
                                   subsequent_indent="    ") for fn in functions)


def defaults_differences(pairs: Mapping[str, tuple]) -> str:
    """Which defaults of lrcourse's optimizers differ from torch's: ``pairs`` maps a name to
    ``(lrcourse factory, torch class)``; compared on lrcourse's arguments."""
    from lrcourse.results.tables import format_table

    rows = []
    for name, (ours_fn, torch_class) in pairs.items():
        ours, theirs = defaults(ours_fn), defaults(torch_class)
        differ = [arg for arg in ours if ours[arg] != theirs.get(arg)]
        rows.append([name, torch_class.__name__, ", ".join(differ) or "nothing"])
    return format_table(["lrcourse.optim", "torch.optim", "defaults that differ"], rows, align="lll")


# Arguments of torch.optim's classes that switch implementations rather than the math.
_NOT_HYPERPARAMETERS = {"self", "params", "optimizer", "last_epoch", "verbose",
                        "foreach", "maximize", "capturable", "differentiable", "fused",
                        "decoupled_weight_decay"}  # a switch to AdamW's decay, not a hyperparameter


def defaults(fn) -> dict:
    """The hyperparameters of an optimizer or scheduler (torch's or lrcourse's) and their defaults.

    A required argument maps to ``inspect.Parameter.empty``.
    ``defaults(torch.optim.Adam)["betas"] == (0.9, 0.999)``.
    """
    import inspect

    return {name: p.default for name, p in inspect.signature(fn).parameters.items()
            if name not in _NOT_HYPERPARAMETERS and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}


def describe_defaults(fn) -> str:
    """``"step_size (required), gamma=0.1"``: the defaults of ``fn`` as one line, floats in %g."""
    import inspect

    def show(value):
        if isinstance(value, float):
            return f"{value:g}"
        if isinstance(value, tuple):
            return "(" + ", ".join(show(v) for v in value) + ")"
        return repr(value)

    return ", ".join(f"{name} (required)" if value is inspect.Parameter.empty else f"{name}={show(value)}"
                     for name, value in defaults(fn).items())


# ------------------------------------------------------------------------------ deck

_CARD_CSS = """.card { font-family: system-ui, sans-serif; font-size: 18px; line-height: 1.45;
  text-align: left; max-width: 40em; margin: 0 auto; color: black; background: white; }
.nightMode.card, .night_mode .card { color: #e6e6e6; background: #1e1e1e; }
.short { border-left: 3px solid #0a7d91; padding-left: 0.7em; }
.long, .evidence { font-size: 0.9em; }
.evidence { margin-top: 0.8em; }"""

_FIELDS = ["Question", "Answer", "Details", "Evidence", "Id"]


def _deck_model():
    import genanki

    return genanki.Model(
        MODEL_ID,
        "lrcourse interview question",
        fields=[{"name": name} for name in _FIELDS],
        templates=[{
            "name": "Question → answer",
            "qfmt": "{{Question}}",
            "afmt": ('{{FrontSide}}<hr id="answer"><div class="short">{{Answer}}</div>'
                     '<div class="long">{{Details}}</div><div class="evidence">Evidence: {{Evidence}}</div>'),
        }],
        css=_CARD_CSS,
    )


def deck_fields(q: Question, sections, base: str | None = None) -> list[str]:
    """The note's fields: question, short answer, long answer, links to the evidence, id."""
    links = _evidence_links(q.evidence, sections, lambda e: evidence_url(e, base))
    return [markdown(q.question, inline=True), markdown(q.short), markdown(q.long), links, q.id]


def deck_tags(q: Question) -> list[str]:
    """Anki tags (no spaces allowed): ``lrcourse::update-rule``, one per topic."""
    return [f"lrcourse::{tag}" for tag in q.tags]


def build_deck(guide: Guide, path, base_url: str | None = None, root=ROOT) -> Path:
    """Write the Anki deck (``.apkg``) to ``path``: one note per question, stable ids."""
    import genanki

    sections = book_sections(root)
    model = _deck_model()
    deck = genanki.Deck(DECK_ID, DECK_NAME, description=(
        "Interview questions on the learning rate, each answered with a measurement from the "
        "book <i>The learning rate, measured</i>. Re-import a newer deck to update these cards."))
    for q in guide.questions:
        deck.add_note(genanki.Note(model=model, fields=deck_fields(q, sections, base_url),
                                   tags=deck_tags(q), guid=genanki.guid_for(GUID_NAMESPACE, q.id)))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    genanki.Package(deck).write_to_file(str(path))
    return path


def main(argv=None) -> int:
    """``python -m lrcourse.interview [OUT.apkg]``: check the questions, then write the deck;
    ``python -m lrcourse.interview --index``: rewrite the shipped section titles."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--index"]:
        print(f"wrote {write_section_index()}")
        return 0
    out = Path(argv[0]) if argv else ROOT / "_build" / "lrcourse-interview.apkg"
    guide = load()
    problems = check(guide)
    if problems:
        print("The questions do not match the book:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    build_deck(guide, out)
    where = PUBLISHED_URL or "paths relative to the book (set LRCOURSE_BOOK_URL to link the published book)"
    print(f"wrote {len(guide.questions)} notes to {out}; links: {where}")
    return 0


def _default_text(parameter: inspect.Parameter) -> str:
    return "required" if parameter.default is inspect.Parameter.empty else repr(parameter.default)


def defaults_table(pairs: Mapping[str, tuple]) -> str:
    """torch's defaults next to the core's, one block of rows per optimizer.

    ``pairs`` maps a name to ``(torch class, core factory)``, e.g.
    ``{"Adam": (torch.optim.Adam, optim.adam)}``. Arguments that only torch has (``foreach``,
    ``fused``, ... the implementation switches) are left out; a mismatch is flagged with ``≠``.
    """
    rows = [f"{'optimizer':<9}  {'argument':<25}  {'torch':>12}  {'lrcourse':>12}"]
    for name, (torch_class, factory) in pairs.items():
        theirs = {k: p for k, p in inspect.signature(torch_class).parameters.items() if k not in _NOT_HYPERPARAMETERS}
        ours = dict(inspect.signature(factory).parameters)
        for key in list(theirs) + [k for k in ours if k not in theirs]:
            t = _default_text(theirs[key]) if key in theirs else "–"
            o = _default_text(ours[key]) if key in ours else "–"
            flag = "" if t == o else "  ≠"
            rows.append(f"{name:<9}  {key:<25}  {t:>12}  {o:>12}{flag}")
            name = ""
    return "\n".join(rows)
