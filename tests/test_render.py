"""Rendering: the processing model, golden files, the real letters, hostile input and generated bodies."""
from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from pathlib import Path

import lxml.html
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from edition import odd
from edition.diagnostics import Reporter
from edition.render import BEHAVIOURS, render_html, render_text
from edition.render.base import BEHAVIOUR_NAMES
from edition.tei import NS, TEI_NS, XML_LANG, read_xml

from conftest import DATA, REPO

GOLDEN = DATA / "render"
FIXTURES = sorted(GOLDEN.glob("*.xml"))
URLS = json.loads((GOLDEN / "urls.json").read_text(encoding="utf-8"))
DOCUMENTS = sorted((REPO / "tei").rglob("*.xml"))
WORD = re.compile(r"\w+")
#: Fixtures with deliberately unsafe links, which are reported.
EXPECTED_DIAGNOSTICS = {"hostile.xml": {"render.unsafe-link"}}


def parse(xml: str, name: str = "mem.xml"):
    return read_xml(Path(name), xml.encode("utf-8"), require_tei=False)


def body(inner: str) -> str:
    return f'<body xmlns="{TEI_NS}">{inner}</body>'


def html_tree(fragment: str) -> lxml.html.HtmlElement:
    return lxml.html.fragment_fromstring(fragment, create_parent="div")


def words_of_nodes(texts) -> Counter:
    """Words (\\w+) counted per text node, so that adjacent blocks never run together."""
    return Counter(w for t in texts for w in WORD.findall(t))


def lost_words(source: Counter, output: Counter) -> dict[str, int]:
    """Words of `source` missing from `output`; a word split by inline markup (1<hi>st</hi>) is found joined."""
    return {w: n for w, n in (source - output).items() if not any(w in o for o in output)}


def assert_no_word_lost(element: etree._Element, text: str, fragment: str) -> None:
    source = words_of_nodes(element.itertext())
    lost_text = lost_words(source, Counter(WORD.findall(text)))
    assert not lost_text, f"words missing from the text output: {lost_text}"
    lost_html = lost_words(source, words_of_nodes(html_tree(fragment).itertext()))
    assert not lost_html, f"words missing from the HTML output: {lost_html}"


def assert_safe_html(fragment: str) -> lxml.html.HtmlElement:
    tree = html_tree(fragment)
    assert tree.xpath("//script | //style | //iframe | //object | //embed") == []
    for el in tree.iter():
        for name, value in el.attrib.items():
            assert not name.lower().startswith("on"), f"event handler {name}={value!r}"
            assert name.lower() != "style"
        href = el.get("href")
        if href is not None:
            assert re.match(r"(https?://|#|\.\./|[\w-]+\.html)", href), f"unexpected href {href!r}"
    return tree


def diff(expected: str, actual: str, name: str) -> str:
    return "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                        f"{name} (expected)", f"{name} (rendered)"))


# ---------------------------------------------------------------- the processing model

def test_every_schema_element_has_a_behaviour():
    schema = odd.load(REPO / "schema" / "tei-edition.odd")
    missing = sorted(set(schema.elements) - set(BEHAVIOURS))
    assert not missing, f"elements of the schema without a behaviour: {missing}"


def test_table_uses_guideline_behaviours_and_always_has_a_default():
    for name, rules in BEHAVIOURS.items():
        assert rules, name
        for r in rules:
            assert r.behaviour in BEHAVIOUR_NAMES, (name, r)
            assert r.output in (None, "html", "text"), (name, r)
        assert any(r.when is None and r.output is None for r in rules), f"<{name}> has no catch-all rule"


def test_table_prints_as_data():
    assert str(BEHAVIOURS["choice"][0]) == "alternate[sic and corr](show='corr')"
    assert str(BEHAVIOURS["note"][0]) == "note[parent::(div | body)](place='block')"


# ---------------------------------------------------------------- golden files

@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda p: p.name)
def test_golden(fixture: Path):
    src = read_xml(fixture, require_tei=False)
    reporter = Reporter()
    html = render_html(src.root, resolve=URLS.get, reporter=reporter, source=src).fragment
    text = render_text(src.root, resolve=URLS.get)
    for suffix, actual in ((".html", html), (".txt", text)):
        golden = fixture.with_suffix(suffix)
        assert golden.exists(), f"{golden.name} is missing: run scripts/update_golden.py"
        expected = golden.read_bytes().decode("utf-8")
        if actual.encode("utf-8") != golden.read_bytes():
            pytest.fail(f"{golden.name} differs (run scripts/update_golden.py and review the diff):\n"
                        + diff(expected, actual, golden.name), pytrace=False)
    assert {d.code for d in reporter.diagnostics} == EXPECTED_DIAGNOSTICS.get(fixture.name, set())
    assert_safe_html(html)
    text_part = src.root.find("tei:text", NS)   # of a whole document, the header is metadata
    assert_no_word_lost(src.root if text_part is None else text_part, text, html)


def test_golden_files_have_a_fixture():
    stale = [p.name for p in sorted(GOLDEN.glob("*.*"))
             if p.suffix in (".html", ".txt") and not p.with_suffix(".xml").exists()]
    assert not stale


# ---------------------------------------------------------------- the edition's documents

@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.relative_to(REPO).as_posix())
def test_documents_render_without_loss(path: Path):
    src = read_xml(path)
    element = src.root.find("tei:text/tei:body", NS)
    reporter = Reporter()
    result = render_html(element, resolve=lambda i: f"../x/{i}.html", reporter=reporter, source=src)
    text = render_text(element, reporter=reporter, source=src)
    assert reporter.diagnostics == []
    tree = assert_safe_html(result.fragment)
    if path.parent.name == "letters":
        assert tree.xpath("//section/h2"), "a letter has headed divisions"
    assert_no_word_lost(element, text, result.fragment)
    assert all(len(line) <= 72 or " " not in line.strip() for line in text.splitlines())


def test_letter_commentary_is_numbered_and_linked():
    src = read_xml(REPO / "tei" / "letters" / "tk-003.xml")
    element = src.root.find("tei:text/tei:body", NS)
    urls = {"tito": "../persons/tito.html"}
    result = render_html(element, resolve=urls.get)
    tree = html_tree(result.body)
    notes = tree.xpath("//section[contains(@class, 'commentary')]/div[contains(@class, 'tei-note')]")
    assert [n.get("id") for n in notes] == ["tk-003-n1", "tk-003-n2", "tk-003-n3", "tk-003-n4"]
    assert [n.find("span").text for n in notes] == ["[1]", "[2]", "[3]", "[4]"]
    assert {a.get("href") for a in tree.iter("a") if a.text == "Tito"} == {"../persons/tito.html"}
    # a register entry without a URL stays text
    assert not any(a.text == "Kim Il Sung" for a in tree.iter("a"))
    text = render_text(element)
    assert "\nRegest\n======\n" in "\n" + text
    assert "\n[4] The archival signature" in text


def test_rendering_is_deterministic():
    src = read_xml(REPO / "tei" / "edition.xml")
    element = src.root.find("tei:text/tei:body", NS)
    assert render_html(element) == render_html(element)
    assert render_text(element) == render_text(element)


# ---------------------------------------------------------------- details

def test_footnotes_are_returned_with_backlinks():
    src = parse(body('<p>One<note>first</note> two<note xml:id="n2">second <hi rend="bold">bold</hi></note>.</p>'))
    result = render_html(src.root)
    assert [(n.number, n.id, n.ref_id) for n in result.notes] == [(1, "fn:1", "fnref:1"), (2, "n2", "fnref:2")]
    assert result.notes[1].html == 'second <b class="tei-hi rend-bold">bold</b>'
    tree = html_tree(result.fragment)
    for n in result.notes:
        marker = tree.get_element_by_id(n.ref_id)
        assert marker.get("href") == f"#{n.id}"
        entry = tree.get_element_by_id(n.id)
        assert entry.tag == "li" and entry.get("value") == str(n.number)
        assert entry.xpath("a[@role='doc-backlink']/@href") == [f"#{n.ref_id}"]
    text = render_text(src.root)
    assert text == "One[1] two[2].\n\nNotes\n=====\n\n[1] first\n\n[2] second bold\n"


def test_heading_levels_follow_division_nesting():
    src = parse(body("<div><head>A</head><div><head>B</head><div><head>C</head></div></div></div>"))
    tree = html_tree(render_html(src.root, heading_level=3).body)
    assert [(h.tag, h.text) for h in tree.xpath("//h3 | //h4 | //h5")] == [("h3", "A"), ("h4", "B"), ("h5", "C")]
    deep = parse(body("<div>" * 7 + "<head>deep</head>" + "</div>" * 7))
    assert "<h6" in render_html(deep.root, heading_level=2).body


def test_ids_are_kept_sanitized_and_prefixed():
    src = parse(body('<div xml:id="d1"><p xml:id="p&lt;1&gt;">x <ref target="#d1">up</ref></p></div>'))
    tree = html_tree(render_html(src.root, id_prefix="tk-1-").body)
    assert tree.xpath("//section/@id") == ["tk-1-d1"]
    assert tree.xpath("//p/@id") == ["tk-1-p_1_"]
    assert tree.xpath("//a/@href") == ["#tk-1-d1"]


def test_text_is_wrapped_at_the_width():
    src = parse(body("<p>" + " ".join(["word"] * 60) + "</p><list><item>" + " ".join(["item"] * 30) + "</item></list>"))
    text = render_text(src.root, width=40)
    assert max(len(line) for line in text.splitlines()) <= 40
    assert text.splitlines()[-2].startswith("- item") or text.splitlines()[-1].startswith("  item")


def test_resolver_output_is_checked_too():
    src = parse(body('<p><persName ref="#a">A</persName> <persName ref="#b">B</persName></p>'))
    urls = {"a": "javascript:alert(1)", "b": " java\tscript:alert(2)"}
    tree = assert_safe_html(render_html(src.root, resolve=urls.get).body)
    assert tree.xpath("//a") == []
    assert tree.text_content().strip() == "A B"


# ---------------------------------------------------------------- unknown elements

def test_unknown_element_is_reported_and_kept():
    xml = body("\n<p>Before\n  <foo>kept <hi>words</hi></foo> after</p>\n")
    src = parse(xml)
    reporter = Reporter()
    result = render_html(src.root, reporter=reporter, source=src)
    text = render_text(src.root, reporter=reporter, source=src)
    assert [(d.code, d.level, d.path, d.line, d.column) for d in reporter.sorted()] == [
        ("render.unknown-element", "error", "mem.xml", 3, 3),
    ]
    assert len(reporter.diagnostics) == 2   # once per output
    assert '<span class="tei-unknown tei-foo">kept <span class="tei-hi">words</span></span>' in result.body
    assert text == "Before kept words after\n"


def test_unknown_element_without_source_has_column_zero():
    element = etree.fromstring(body("<p><foo>x</foo></p>"))
    reporter = Reporter()
    render_text(element, reporter=reporter)
    [d] = reporter.diagnostics
    assert (d.code, d.line, d.column) == ("render.unknown-element", 1, 0)


def test_element_of_another_namespace_is_unknown():
    src = parse(body('<p>a <x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(1)</x:script> b</p>'))
    reporter = Reporter()
    html = render_html(src.root, reporter=reporter, source=src).body
    assert "<script" not in html and "alert(1)" in html
    assert [d.code for d in reporter.diagnostics] == ["render.unknown-element"]
    assert "namespace http://www.w3.org/1999/xhtml" in reporter.diagnostics[0].message


# ---------------------------------------------------------------- hostile content

HOSTILE_TARGETS = [
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    "JaVaScRiPt:alert(1)",
    "  javascript:alert(1)",
    "java&#9;script:alert(1)",
    "java&#10;script:alert(1)",
    "&#x20;javascript:alert(1)",
    "&#106;avascript:alert(1)",
    "javascript&amp;colon;alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "//evil.example/x",
    "https:javascript:alert(1)",
    "http://",
]


@pytest.mark.parametrize("target", HOSTILE_TARGETS)
def test_unsafe_targets_are_never_links(target: str):
    src = parse(body(f'<p>see <ref target="{target}">this</ref> and <persName ref="{target}">him</persName></p>'))
    reporter = Reporter()
    result = render_html(src.root, resolve=lambda i: None, reporter=reporter, source=src)
    tree = assert_safe_html(result.body)
    assert tree.xpath("//a") == []
    assert tree.text_content().strip() == "see this and him"
    assert "javascript" not in result.body.lower()
    assert render_text(src.root) == "see this and him\n"
    assert {d.code for d in reporter.diagnostics} == {"render.unsafe-link"}


def test_markup_in_text_and_attributes_is_escaped():
    evil = '"><script>alert(1)</script>'
    esc = evil.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    src = parse(body(
        f'<div type="{esc}" xml:id="{esc}"><head rend="{esc}">{esc}</head>'
        f'<p n="{esc}"><foreign xml:lang="{esc}">x</foreign> <pb n="{esc}"/> <gap reason="{esc}"/>'
        f' <unclear reason="{esc}">y</unclear> <choice><sic>{esc}</sic><corr>z</corr></choice>'
        f' <ref target="https://example.org/{esc}">link</ref></p></div>'))
    result = render_html(src.root)
    assert "<script" not in result.body
    tree = assert_safe_html(result.body)
    assert tree.xpath("//h2")[0].text == evil                       # text survives as text
    assert tree.xpath("//span[@lang]/@lang") == [evil]              # attribute values survive escaped
    assert tree.xpath("//span[contains(@class, 'tei-pb')]/@data-n") == [evil]
    assert tree.xpath("//span[contains(@class, 'tei-gap')]/@title") == [f"omitted: {evil}"]
    assert tree.xpath("//span[contains(@class, 'tei-choice')]/@title") == [f"sic: {evil}"]
    assert tree.xpath("//a/@href") == [f"https://example.org/{evil}"]
    section = tree.xpath("//section")[0]
    assert re.fullmatch(r"[\w.-]+", section.get("id"))
    assert all(re.fullmatch(r"[\w-]+", c) for el in tree.iter() for c in el.get("class", "").split())


# ---------------------------------------------------------------- generated bodies

IDS = ["tito", "kim_il_sung", "n1", "d1"]
WORDS = st.text(alphabet="abcxyzäšćжΩ0<>&\"'", min_size=1, max_size=6)
TEXT = st.lists(WORDS, min_size=1, max_size=4).map(lambda ws: " " + " ".join(ws) + " ")


def _node(tag, attrs=None, children=()):
    return (tag, attrs or {}, list(children))


def _phrase(children):
    return st.one_of(
        st.builds(lambda r, c: _node("persName", {"ref": f"#{r}"} if r else {}, c), st.sampled_from(IDS + [None]), children),
        st.builds(lambda r, c: _node("hi", {"rend": r}, c), st.sampled_from(["italic", "bold", "superscript", "x"]), children),
        st.builds(lambda c: _node("foreign", {XML_LANG: "sr"}, c), children),
        st.builds(lambda c: _node("note", {}, c), children),
        st.builds(lambda a, b: _node("choice", {}, [_node("sic", {}, a), _node("corr", {}, b)]), children, children),
        st.builds(lambda c: _node("unclear", {}, c), children),
        st.builds(lambda c: _node("supplied", {}, c), children),
        st.builds(lambda t, c: _node("ref", {"target": t}, c),
                  st.sampled_from(["#" + i for i in IDS] + ["https://example.org/x", "#missing"]), children),
    )


LEAF = st.one_of(TEXT.map(lambda t: [t]), st.just([_node("gap")]), st.just([_node("lb")]))
MIXED = st.recursive(
    LEAF,
    lambda inner: st.lists(st.one_of(TEXT.map(lambda t: [t]), _phrase(inner).map(lambda n: [n])), min_size=1, max_size=4)
    .map(lambda parts: [x for part in parts for x in part]),
    max_leaves=12,
)
PARAGRAPH = MIXED.map(lambda c: _node("p", {}, c))
DIV = st.recursive(
    st.builds(lambda h, ps: _node("div", {}, ([_node("head", {}, h)] if h else []) + ps),
              st.none() | MIXED, st.lists(PARAGRAPH, min_size=1, max_size=3)),
    lambda inner: st.builds(lambda h, ds: _node("div", {"type": "section"}, [_node("head", {}, h)] + ds),
                            MIXED, st.lists(inner, min_size=1, max_size=2)),
    max_leaves=4,
)
BODY = st.lists(DIV, min_size=1, max_size=3).map(lambda ds: _node("body", {}, ds))


def _build(node, parent=None) -> etree._Element:
    tag, attrs, children = node
    el = etree.Element(f"{{{TEI_NS}}}{tag}", nsmap={None: TEI_NS}) if parent is None \
        else etree.SubElement(parent, f"{{{TEI_NS}}}{tag}")
    for k, v in attrs.items():
        el.set(k, v)
    last = None
    for child in children:
        if isinstance(child, str):
            if last is None:
                el.text = (el.text or "") + child
            else:
                last.tail = (last.tail or "") + child
        else:
            last = _build(child, el)
    return el


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BODY)
def test_generated_bodies_render_safely_and_losslessly(tree):
    data = etree.tostring(_build(tree), encoding="utf-8")
    src = read_xml(Path("generated.xml"), data, require_tei=False)
    reporter = Reporter()
    urls = {"tito": "../persons/tito.html", "kim_il_sung": "../persons/kim_il_sung.html"}
    result = render_html(src.root, resolve=urls.get, reporter=reporter, source=src)
    text = render_text(src.root, resolve=urls.get, reporter=reporter, source=src, width=30)
    assert reporter.diagnostics == []
    assert_safe_html(result.fragment)
    assert_no_word_lost(src.root, text, result.fragment)
    assert len(result.notes) == len(src.root.findall(".//tei:note", NS))   # none stands in a div


def test_letter_parts_are_the_html_parts_of_the_fragments(monkeypatch):
    """The EPUB outside a build renders a letter's regest and commentary as the build does, without
    the plain text it would not use."""
    from edition import render
    from edition.site import letter_fragments, letter_parts
    from edition.tei import read_xml

    path = REPO / "tei" / "letters" / "tk-006.xml"
    fragments = letter_fragments(read_xml(path), Reporter())

    def no_text(*args, **kwargs):
        raise AssertionError("letter_parts rendered the plain text")

    monkeypatch.setattr(render, "render_text", no_text)
    parts = letter_parts(read_xml(path), Reporter())
    assert set(parts) == {"regest", "commentary"} and set(fragments) == {"regest", "commentary", "text"}
    assert parts == {k: v for k, v in fragments.items() if k != "text"}
