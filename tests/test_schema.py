"""The project schema: compiled from the ODD, committed, compact, and a subset of TEI."""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree, isoschematron

from edition import odd
from edition.diagnostics import SchemaError
from edition.tei import RNG_NS, read_xml
from edition.validate.schematron import Schematron

from conftest import DATA, ODD, REPO


FILES = odd.SchemaFiles(ODD)


def test_generated_schema_is_up_to_date():
    stale = FILES.stale()
    assert not stale, f"run `edition schema`: {[str(p) for p in stale]} differ from what the ODD compiles to"


def test_relaxng_is_compact():
    grammar = etree.parse(str(FILES.rng)).getroot()
    assert list(grammar.iter(f"{{{RNG_NS}}}notAllowed")) == []
    assert list(grammar.iter(f"{{{RNG_NS}}}interleave")) == []
    defined = {d.get("name") for d in grammar.iter(f"{{{RNG_NS}}}define")}
    used = {r.get("name") for r in grammar.iter(f"{{{RNG_NS}}}ref")}
    assert defined == used, f"unused definitions: {sorted(defined - used)}"
    schema = odd.load(ODD)
    elements = {e.get("name") for e in grammar.iter(f"{{{RNG_NS}}}element")}
    assert elements == set(schema.elements)


def test_every_element_and_attribute_is_documented():
    schema = odd.load(ODD)
    for el in schema.elements.values():
        assert el.desc, f"<{el.name}> has no desc in the ODD"
        for att in el.attributes.values():
            assert att.desc, f"@{att.name} of <{el.name}> has no desc in the ODD"


def test_closed_value_lists_the_issue_names():
    schema = odd.load(ODD)
    for element, attribute in [("correspAction", "type"), ("div", "type"), ("idno", "type"), ("note", "type")]:
        att = schema.elements[element].attributes[attribute]
        assert att.closed and att.values, f"{element}/@{attribute} should have a closed value list"


def test_constraints_compile_to_one_pattern_each():
    schema = odd.load(ODD)
    sch = etree.parse(str(FILES.sch)).getroot()
    ids = [p.get("id") for p in sch.iterfind("{http://purl.oclc.org/dsdl/schematron}pattern")]
    assert ids == [c.ident for c in schema.constraints]
    assert len(ids) == len(set(ids))


def _write_odd(tmp_path: Path, replace: tuple[str, str]) -> Path:
    text = ODD.read_text(encoding="utf-8")
    assert replace[0] in text
    path = tmp_path / "custom.odd"
    path.write_text(text.replace(replace[0], replace[1], 1), encoding="utf-8")
    return path


def test_odd_with_undefined_reference_is_reported_with_its_line(tmp_path):
    path = _write_odd(tmp_path, ('<elementRef key="editionStmt" minOccurs="0"/>', '<elementRef key="editionStatement" minOccurs="0"/>'))
    with pytest.raises(SchemaError) as err:
        odd.load(path)
    assert "editionStatement" in str(err.value)
    assert err.value.line and err.value.path == path


def test_changing_the_odd_changes_the_generated_grammar(tmp_path):
    path = _write_odd(tmp_path, ('<valItem ident="catalogue">', '<valItem ident="archive"><desc>x</desc></valItem><valItem ident="catalogue">'))
    files = odd.SchemaFiles(path)
    files.write()
    assert b"<value>archive</value>" in files.rng.read_bytes()
    assert files.stale() == []


def test_our_schematron_runner_agrees_with_lxml_isoschematron():
    """Same failures (pattern and element) as the reference XSLT implementation, on faulty documents."""
    ours = Schematron(FILES.sch)
    reference = isoschematron.Schematron(etree.parse(str(FILES.sch)), store_report=True)
    documents = sorted((DATA / "validate").rglob("*.xml")) + sorted((REPO / "tei").rglob("*.xml"))
    compared = 0
    for path in documents:
        try:
            tree = read_xml(path).tree
        except Exception:
            continue
        mine = sorted((f.pattern, tree.getpath(f.element)) for f in ours.failures(tree))
        reference.validate(tree)
        theirs = []
        pattern = None
        for node in reference.validation_report.getroot():
            if not isinstance(node.tag, str):
                continue
            name = etree.QName(node).localname
            if name == "active-pattern":
                pattern = node.get("id")
            elif name == "failed-assert" or name == "successful-report":
                element = tree.xpath(node.get("location"))[0]
                theirs.append((pattern, tree.getpath(element)))
        assert mine == sorted(theirs), path
        compared += 1
    assert compared >= 3


def test_documents_are_tei_conformant(tei_all):
    """Every document of tei/ and every valid fixture passes TEI's own tei_all."""
    paths = sorted((REPO / "tei").rglob("*.xml")) + sorted((DATA / "validate" / "good").rglob("*.xml"))
    assert paths
    failures = []
    for path in paths:
        tree = read_xml(path).tree
        if not tei_all.validate(tree):
            failures.append(f"{path.relative_to(REPO)}: " + "; ".join(f"{e.line}: {e.message}" for e in tei_all.error_log[:3]))
    assert not failures, "\n".join(failures)
