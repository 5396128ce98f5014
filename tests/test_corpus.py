"""The encoded corpus against the facts gathered for it, and the corpus commands (stats, new)."""
from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from edition import corpus as corpus_mod
from edition.cli import main
from edition.tei import NS, read_xml

from conftest import DATA, REPO

TEI = REPO / "tei"


def _facts_file(name: str) -> Path:
    """The research material in ../shared/corpus (the source of truth); the copy in tests/data elsewhere."""
    shared = REPO.parent / "shared" / "corpus" / name
    return shared if shared.exists() else DATA / name


FACTS = yaml.safe_load(_facts_file("facts.yaml").read_text(encoding="utf-8"))
AUTHORITIES = yaml.safe_load(_facts_file("authorities.yaml").read_text(encoding="utf-8"))
ITEMS = {f"tk-{item['seq']:03d}": item for item in FACTS["items"]}


@pytest.fixture(scope="module")
def corpus():
    return corpus_mod.load(TEI)


def test_one_document_per_item(corpus):
    assert sorted(l.id for l in corpus.letters) == sorted(ITEMS)
    for letter in corpus.letters:
        assert letter.path.name == f"{letter.id}.xml"


@pytest.mark.parametrize("letter_id", sorted(ITEMS))
def test_header_agrees_with_facts(corpus, letter_id):
    item = ITEMS[letter_id]
    letter = corpus.letter(letter_id)
    # the date of the item is the first date of the sent action; an alternative date is encoded too
    assert letter.dates[0].when == item["date"]
    if item.get("date_alt"):
        assert item["date_alt"] in [d.when for d in letter.dates[1:]]
        assert all(d.type and d.cert for d in letter.dates)
    for role, party in (("sender", letter.sender), ("recipient", letter.recipient)):
        expected = re.split(r" \(|, ", item[role]["name"])[0]
        assert party.name == expected, role
        assert corpus.entry(party.ref) is not None, f"{role} {party.ref} is not in a register"
    assert letter.title == " ".join(item["title"].split())
    replies_to = item.get("replies_to")
    replied_by = item.get("replied_by")
    assert letter.links.get("repliesTo") == (f"tk-{replies_to:03d}" if replies_to else None)
    assert letter.links.get("repliedBy") == (f"tk-{replied_by:03d}" if replied_by else None)
    seq = item["seq"]
    assert letter.links.get("prev") == (f"tk-{seq - 1:03d}" if seq > 1 else None)
    assert letter.links.get("next") == (f"tk-{seq + 1:03d}" if seq < len(ITEMS) else None)
    signature = item["source"].get("signature")
    if signature:
        assert letter.signature and letter.signature in signature
    else:
        assert letter.signature is None, "a signature that was not seen must not be encoded"


def test_every_register_entry_is_referenced():
    referenced = set()
    ids = {}
    for path in TEI.rglob("*.xml"):
        root = read_xml(path).root
        for el in root.iter():
            for att in ("ref", "target", "corresp"):
                referenced.update(t[1:] for t in (el.get(att) or "").split() if t.startswith("#"))
        for kind in ("person", "place", "org", "event"):
            for entry in root.iter(f"{{{NS['tei']}}}{kind}"):
                ids[entry.get("{http://www.w3.org/XML/1998/namespace}id")] = path.name
    assert ids, "no register entries found"
    unreferenced = sorted(set(ids) - referenced)
    assert not unreferenced, f"register entries referenced nowhere: {unreferenced}"


def _verified_ids() -> set[tuple[str, str]]:
    out = set()
    for section in ("persons", "places", "organisations"):
        for entry in AUTHORITIES.get(section) or []:
            for kind, ident in (entry.get("identifiers") or {}).items():
                if isinstance(ident, dict) and ident.get("value") and str(ident.get("status", "")).startswith("verified"):
                    out.add((kind, "".join(str(ident["value"]).split())))
    return out


def test_authority_ids_are_only_verified_ones():
    verified = _verified_ids()
    aliases = {"lccn": "lcnaf"}
    verified |= {(aliases.get(k, k), v) for k, v in verified}
    used = []
    for path in (TEI / "registers").glob("*.xml"):
        for idno in read_xml(path).root.iter(f"{{{NS['tei']}}}idno"):
            used.append((idno.get("type"), "".join(idno.text.split()), path.name, idno.sourceline))
    assert used, "the registers carry no authority ids at all"
    wrong = [u for u in used if (u[0], u[1]) not in verified]
    assert not wrong, f"authority ids not marked verified in authorities.yaml: {wrong}"
    values = {u[1] for u in used}
    assert "Q915" not in values and "Q39464" not in values


def test_regests_are_of_the_asked_length(corpus):
    for letter in corpus.letters:
        root = read_xml(letter.path).root
        regest = root.find(".//tei:body/tei:div[@type='regest']", NS)
        words = len(" ".join(p.xpath("string()") for p in regest.iterfind("tei:p", NS)).split())
        assert 80 <= words <= 320, f"{letter.id}: regest has {words} words"


def test_regests_do_not_copy_the_summaries():
    """Regests are written anew: no run of 10 words from the collected summaries reappears."""
    def grams(text: str, n: int = 10) -> set[tuple[str, ...]]:
        words = re.findall(r"[\w'’-]+", text.lower())
        return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}

    source, identifiers = set(), set()
    for item in FACTS["items"]:
        source |= grams(item.get("summary") or "")
        identifiers |= grams(item["title"])
    for person in FACTS["persons"]:
        # an office title, alone or after the name, is a name, not a sentence
        identifiers |= grams(person.get("role") or "") | grams(f"{person['name']} {person.get('role') or ''}")
    for role in ("sender", "recipient"):
        for item in FACTS["items"]:
            identifiers |= grams(item[role].get("office") or "")
    source -= identifiers
    for path in TEI.rglob("*.xml"):
        body = read_xml(path).root.find(".//tei:text", NS)
        copied = grams(body.xpath("string()")) & source
        assert not copied, f"{path.name} repeats: {' '.join(sorted(copied)[0])}"


def test_corpus_validates_strictly():
    result = CliRunner().invoke(main, ["-C", str(REPO), "validate", "--strict"])
    assert result.exit_code == 0, result.output
    assert "0 errors, 0 warnings" in result.output


def test_stats_counts_match_the_facts():
    result = CliRunner().invoke(main, ["-C", str(REPO), "stats", "--format", "json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert stats["letters"] == len(ITEMS)
    per_year = Counter(item["date"][:4] for item in FACTS["items"])
    assert {y: sum(row.values()) for y, row in stats["by_year"].items()} == dict(per_year)
    kim_to_tito = sum(1 for i in FACTS["items"] if i["sender"]["name"] == "Kim Il Sung")
    assert sum(row.get("Kim Il Sung → Josip Broz Tito", 0) for row in stats["by_year"].values()) == kim_to_tito
    persons = stats["registers"]["persons"]
    assert persons["entries"] == len(list((TEI / "registers").glob("persons.xml"))[0].read_text().split("<person ")) - 1
    assert persons["with_authority"] >= 1
    text = CliRunner().invoke(main, ["-C", str(REPO), "stats"]).output
    assert "Items per year and direction" in text and "1976" in text


def test_new_letter_is_valid_and_linked_into_the_chronology(project):
    before = {p.name: p.read_bytes() for p in (project / "tei" / "letters").glob("*.xml")}
    result = CliRunner().invoke(main, ["-C", str(project), "new", "--date", "1977-06-01",
                                       "--sender", "tito", "--recipient", "kim_il_sung", "--place", "belgrade"])
    assert result.exit_code == 0, result.output
    new = project / "tei" / "letters" / "tk-025.xml"
    assert new.exists()
    check = CliRunner().invoke(main, ["-C", str(project), "validate", "--strict"])
    assert check.exit_code == 0, check.output
    corpus = corpus_mod.load(project / "tei")
    letter = corpus.letter("tk-025")
    assert letter.links == {"prev": "tk-014", "next": "tk-015"}
    assert corpus.letter("tk-014").links["next"] == "tk-025"
    assert corpus.letter("tk-015").links["prev"] == "tk-025"
    changed = {p.name for p in (project / "tei" / "letters").glob("*.xml")
               if p.name in before and p.read_bytes() != before[p.name]}
    assert changed == {"tk-014.xml", "tk-015.xml"}
    # only the link line changed in a neighbour; everything else the editor wrote stays byte for byte
    old = before["tk-014.xml"].decode().splitlines()
    now = (project / "tei" / "letters" / "tk-014.xml").read_text().splitlines()
    assert len(old) == len(now)
    assert sum(a != b for a, b in zip(old, now)) == 1


def test_new_letter_at_the_end_gets_a_next_link_added(project):
    result = CliRunner().invoke(main, ["-C", str(project), "new", "--date", "1980-01-02",
                                       "--sender", "kim_il_sung", "--recipient", "tito"])
    assert result.exit_code == 0, result.output
    corpus = corpus_mod.load(project / "tei")
    assert corpus.letter("tk-024").links["next"] == "tk-025"
    assert corpus.letter("tk-025").links == {"prev": "tk-024"}
    check = CliRunner().invoke(main, ["-C", str(project), "validate", "--strict"])
    assert check.exit_code == 0, check.output


def test_new_never_overwrites_and_rejects_bad_input(project):
    existing = project / "tei" / "letters" / "tk-025.xml"
    existing.write_text("editor's draft", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["-C", str(project), "new", "--date", "1977-06-01", "--sender", "tito",
                                  "--recipient", "kim_il_sung"])
    assert result.exit_code == 2
    assert existing.read_text(encoding="utf-8") == "editor's draft"
    existing.unlink()
    bad_date = runner.invoke(main, ["-C", str(project), "new", "--date", "1977-13-01", "--sender", "tito",
                                    "--recipient", "kim_il_sung"])
    assert bad_date.exit_code == 2 and "1977-13-01" in bad_date.output
    unknown = runner.invoke(main, ["-C", str(project), "new", "--date", "1977-06-01", "--sender", "tto",
                                   "--recipient", "kim_il_sung"])
    assert unknown.exit_code == 2 and "did you mean 'tito'" in unknown.output
    assert not existing.exists()


def test_new_keeps_crlf_line_endings_of_the_neighbours(project):
    neighbour = project / "tei" / "letters" / "tk-024.xml"
    crlf = neighbour.read_bytes().replace(b"\n", b"\r\n")
    neighbour.write_bytes(crlf)
    result = CliRunner().invoke(main, ["-C", str(project), "new", "--date", "1980-01-02",
                                       "--sender", "kim_il_sung", "--recipient", "tito"])
    assert result.exit_code == 0, result.output
    after = neighbour.read_bytes()
    assert b"\n" not in after.replace(b"\r\n", b""), "every line still ends in CRLF"
    before_lines, after_lines = crlf.split(b"\r\n"), after.split(b"\r\n")
    added = [line for line in after_lines if line not in before_lines]
    assert len(after_lines) == len(before_lines) + 1 and len(added) == 1      # one link added, nothing else
    assert b'type="next" target="#tk-025"' in added[0]


def test_new_into_an_edition_without_letters(project):
    shutil.rmtree(project / "tei" / "letters")
    result = CliRunner().invoke(main, ["-C", str(project), "new", "--date", "1973-01-01",
                                       "--sender", "tito", "--recipient", "kim_il_sung"])
    assert result.exit_code == 0, result.output
    assert (project / "tei" / "letters" / "letter-001.xml").exists()
