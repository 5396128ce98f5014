"""Library exports, each checked with the validator its consumers use.

CMIF: the official RELAX NG and Schematron (run as XSLT 2 by Saxon); teiCorpus: the project schema
and tei_all; MARCXML: pymarc; EPUB: epubcheck; BagIt: bagit-python; OAI-PMH and MODS: their
structure checked by hand (their XML Schemas are not available offline); JSON: its documented shape.
The exports write into an Output folder; the HTML and text editions they take in are built first,
into a staging folder, by `edition.build.build`.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import time
import tracemalloc
import zipfile
from dataclasses import replace
from pathlib import Path

import bagit
import pymarc
import pytest
import saxonche
from lxml import etree

from edition import config as config_mod
from edition import corpus as corpus_mod
from edition import odd, render
from edition.build import build
from edition.diagnostics import Reporter
from edition.export import EXPORTERS, ExportContext, ExportError, export, update
from edition.export._common import document_facts, json_text, read_header, root_element_bytes, write_around
from edition.export.cmif import bibl_id
from edition.output import Output
from edition.synth import synthesize
from edition.tei import NS, TEI_NS, XML_ID, read_xml
from edition.validate.schematron import Schematron, check as schematron_check

from conftest import REPO

#: The CMIF reference files live beside the repository, in shared/ (CI lays it out the same way).
CMIF_REFERENCE = REPO.parent / "shared" / "reference" / "cmif"
EPUBCHECK = Path(os.environ.get("EPUBCHECK_JAR", "/usr/share/java/epubcheck.jar"))
EPOCH = "1700000000"                     # 2023-11-14T22:13:20Z
EPOCH_DATE = "2023-11-14"
ADMIN = "editors@example.org"

OAI = "http://www.openarchives.org/OAI/2.0/"
SR = "http://www.openarchives.org/OAI/2.0/static-repository"
DC = "http://purl.org/dc/elements/1.1/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
MODS = "http://www.loc.gov/mods/v3"


def _build(config, folder: Path) -> dict[str, Path]:
    """Build the HTML and text editions of `config`'s project into `folder`: the outputs the exports take in."""
    reporter = Reporter(root=config.root)
    build(replace(config, build=folder), reporter, ["html", "text"])
    assert not reporter.failed(), [d.format() for d in reporter.sorted()]
    return {"html": folder / "html", "text": folder / "text"}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """The repository's edition, built once (HTML and text) into a staging folder."""
    return _build(config_mod.load(REPO), tmp_path_factory.mktemp("staging"))


@pytest.fixture
def context(built, tmp_path):
    """context(...) -> an ExportContext of the repository's edition writing into a new folder below tmp_path."""
    made = iter(range(1000))

    def make(admin_email: str | None = ADMIN, config=None, rendered=None, out: Output | None = None) -> ExportContext:
        config = config or config_mod.load(REPO)
        corpus = corpus_mod.load(config.tei)
        out = out if out is not None else Output(tmp_path / f"export-{next(made)}")
        return ExportContext(corpus, config, odd.load(config.odd), Reporter(root=REPO), built, out,
                             admin_email=admin_email, rendered=rendered)
    return make


def _files(folder: Path) -> dict[str, bytes]:
    """Every file below `folder`, by its path relative to it."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _exported(ctx: ExportContext, names: list[str] | None = None) -> dict[str, bytes]:
    export(ctx, names)
    return _files(ctx.out.folder)


@pytest.fixture(scope="module")
def exported(built, tmp_path_factory):
    """Every export of the repository's edition, made once with a fixed SOURCE_DATE_EPOCH, on disk."""
    folder = tmp_path_factory.mktemp("export") / "export"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        config = config_mod.load(REPO)
        ctx = ExportContext(corpus_mod.load(config.tei), config, odd.load(config.odd), Reporter(root=REPO), built,
                            Output(folder), admin_email=ADMIN)
        files = _exported(ctx)
    return ctx, files, folder


@pytest.fixture(scope="module")
def corpus():
    return corpus_mod.load(config_mod.load(REPO).tei)


# ---------------------------------------------------------------- the whole
def test_every_format_is_exported(exported):
    ctx, files, _ = exported
    for path in ["tei/corpus.xml", "tei/letters/tk-001.xml", "tei/schema/tei-edition.rng", "cmif.xml", "oai-pmh.xml",
                 "edition.marc.xml", "edition.mods.xml", "edition.epub", "data/letters.json", "bag/bagit.txt",
                 "manifest.json"]:
        assert path in files, path
    assert list(EXPORTERS)[-1] == "bag"
    assert set(ctx.exported) == set(EXPORTERS)
    assert not ctx.reporter.sorted(), [d.format() for d in ctx.reporter.sorted()]


def test_manifest_lists_every_file_with_its_checksum(exported):
    ctx, files, folder = exported
    doc = json.loads(files["manifest.json"])
    assert doc["version"] == 1
    paths = [f["path"] for f in doc["files"]]
    assert paths == sorted(paths)
    assert set(paths) == set(files) - {"manifest.json"}
    for entry in doc["files"]:
        data = (folder / entry["path"]).read_bytes()
        assert entry["size"] == len(data), entry["path"]
        assert entry["sha256"] == hashlib.sha256(data).hexdigest(), entry["path"]
        assert ctx.out.files[entry["path"]] == (entry["size"], entry["sha256"])
    # the same text json.dumps makes
    assert files["manifest.json"] == (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def test_exports_are_deterministic(context, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    first, second = _exported(context()), _exported(context())
    assert first.keys() == second.keys()
    differ = [path for path in first if first[path] != second[path]]
    assert not differ


def test_the_date_of_production_comes_from_source_date_epoch_or_the_revision_history(context, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    with_epoch = _exported(context(), ["cmif", "epub"])
    assert b'<date when="2023-11-14T22:13:20Z"/>' in with_epoch["cmif.xml"]
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    ctx = context()
    newest = max(d for p in ctx.document_paths() for d in ctx.revision_dates(p))
    without = _exported(ctx, ["cmif", "epub"])
    assert f'<date when="{newest}T00:00:00Z"/>'.encode() in without["cmif.xml"]
    with zipfile.ZipFile(io.BytesIO(without["edition.epub"])) as book:
        assert {i.date_time[:3] for i in book.infolist()} == {tuple(int(x) for x in newest.split("-"))}


def test_a_bad_source_date_epoch_stops_the_export(context, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(ExportError, match="SOURCE_DATE_EPOCH"):
        export(context(), ["cmif"])


def test_one_format_at_a_time(context, monkeypatch, tmp_path):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    files = _exported(context(), ["cmif"])
    assert set(files) == {"cmif.xml", "manifest.json"}
    bag = _exported(context(out=Output(tmp_path / "bag-only" / "export")), ["bag"])   # the bag makes the others
    assert "bag/data/export/cmif.xml" in bag and "cmif.xml" not in bag
    assert bag["bag/data/export/cmif.xml"] == files["cmif.xml"]
    assert [p.name for p in (tmp_path / "bag-only").iterdir()] == ["export"]          # made beside, then dropped
    with pytest.raises(ExportError, match="unknown export format"):
        export(context(), ["pdf"])


def test_the_exports_need_the_editions_address(context):
    ctx = context(config=replace(config_mod.load(REPO), base_url=""))
    with pytest.raises(ExportError, match="base-url"):
        export(ctx, ["cmif"])


def test_the_bag_needs_the_built_outputs(context, tmp_path):
    ctx = context()
    ctx.built = {"html": ctx.built["html"]}
    with pytest.raises(ExportError, match="build text first"):
        export(ctx, ["bag"])


# ---------------------------------------------------------------- TEI
def test_tei_sources_are_copied_with_the_schema_beside_them(exported, corpus):
    ctx, files, folder = exported
    for path in sorted(corpus.root.rglob("*.xml")):
        rel = f"tei/{path.relative_to(corpus.root).as_posix()}"
        copied = files[rel]
        original = path.read_bytes()
        # only the xml-model instructions change
        strip = lambda b: re.sub(rb"<\?xml-model[^>]*\?>", b"", b)  # noqa: E731
        assert strip(copied) == strip(original), rel
        for href in re.findall(rb'<\?xml-model href="([^"]+)"', copied):
            assert ((folder / rel).parent / href.decode()).resolve().is_file(), (rel, href)
    for name in ("tei-edition.odd", "tei-edition.rng", "tei-edition.sch"):
        assert files[f"tei/schema/{name}"] == (REPO / "schema" / name).read_bytes()


def test_tei_corpus_is_valid_against_the_project_schema(exported, corpus):
    _, _, folder = exported
    source = read_xml(folder / "tei" / "corpus.xml")
    root = source.root
    assert root.tag == f"{{{TEI_NS}}}teiCorpus"
    members = root.findall("tei:TEI", NS)
    assert len(members) == len(list(corpus.root.rglob("*.xml")))
    assert [m.get(XML_ID) for m in members][-len(corpus.letters):] == \
        [l.id for l in corpus.letters]
    rng = etree.RelaxNG(etree.parse(str(folder / "tei" / "schema" / "tei-edition.rng")))
    assert rng.validate(source.tree), rng.error_log.filter_from_errors()
    reporter = Reporter()
    schematron_check(Schematron(folder / "tei" / "schema" / "tei-edition.sch"), source, reporter)
    assert not reporter.sorted(), [d.format() for d in reporter.sorted()]
    ids = [el.get(XML_ID) for el in root.iter()
           if el.get(XML_ID)]
    assert len(ids) == len(set(ids))


def test_tei_corpus_conforms_to_tei_all(exported, tei_all):
    _, _, folder = exported
    tree = etree.parse(str(folder / "tei" / "corpus.xml"))
    assert tei_all.validate(tree), tei_all.error_log.filter_from_errors()[:10]


# ---------------------------------------------------------------- CMIF
@pytest.fixture(scope="module")
def cmif_reference():
    if not (CMIF_REFERENCE / "cmi-customization.rng").exists():
        pytest.fail(f"the CMIF reference files are not at {CMIF_REFERENCE}: shared/ belongs beside the repository")
    return CMIF_REFERENCE


class Xslt2Schematron:
    """ISO Schematron with the XSLT 2 query binding, run by Saxon.

    The Schematron-to-XSLT step is the ISO reference implementation that ships with lxml
    (iso_dsdl_include, iso_abstract_expand, iso_svrl_for_xslt1), run by Saxon; a small driver
    stylesheet lets it accept queryBinding="xslt2" and emit an XSLT 2.0 stylesheet, so the rules'
    XPath 2 (matches()...) is evaluated by an XPath 2 processor, as cmif.sch requires.
    """

    DRIVER = """<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
        xmlns:axsl="http://www.w3.org/1999/XSL/TransformAlias" xmlns:iso="http://purl.oclc.org/dsdl/schematron">
      <xsl:import href="{svrl}"/>
      <xsl:namespace-alias stylesheet-prefix="axsl" result-prefix="xsl"/>
      <xsl:template match="iso:schema[@queryBinding='xslt2']" priority="20">
        <axsl:stylesheet>
          <xsl:apply-templates select="iso:ns"/>
          <xsl:attribute name="version">2.0</xsl:attribute>
          <xsl:apply-templates select="." mode="stylesheetbody"/>
        </axsl:stylesheet>
      </xsl:template>
    </xsl:stylesheet>"""

    def __init__(self, schema: Path):
        import lxml.isoschematron

        steps = Path(lxml.isoschematron.__file__).parent / "resources" / "xsl" / "iso-schematron-xslt1"
        self.processor = saxonche.PySaxonProcessor(license=False)
        self.xslt = self.processor.new_xslt30_processor()
        included = self._run(self._compile(file=steps / "iso_dsdl_include.xsl"), file=schema)
        expanded = self._run(self._compile(file=steps / "iso_abstract_expand.xsl"), text=included)
        driver = self._compile(text=self.DRIVER.format(svrl=(steps / "iso_svrl_for_xslt1.xsl").as_uri()))
        self.validator = self._compile(text=self._run(driver, text=expanded))

    def _compile(self, file: Path | None = None, text: str | None = None):
        if file is not None:
            return self.xslt.compile_stylesheet(stylesheet_file=str(file))
        return self.xslt.compile_stylesheet(stylesheet_text=text)

    def _run(self, executable, file: Path | None = None, text: str | None = None) -> str:
        node = (self.processor.parse_xml(xml_file_name=str(file)) if file is not None
                else self.processor.parse_xml(xml_text=text))
        return executable.transform_to_string(xdm_node=node)

    def messages(self, data: bytes) -> list[str]:
        """The failed asserts and successful reports, as '[E0001] ...' texts."""
        svrl = etree.fromstring(self._run(self.validator, text=data.decode("utf-8")).encode("utf-8"))
        ns = {"svrl": "http://purl.oclc.org/dsdl/svrl"}
        return [" ".join("".join(f.itertext()).split())
                for f in svrl.xpath("//svrl:failed-assert | //svrl:successful-report", namespaces=ns)]

    def fired(self, data: bytes) -> list[str]:
        svrl = etree.fromstring(self._run(self.validator, text=data.decode("utf-8")).encode("utf-8"))
        return svrl.xpath("//svrl:fired-rule/@context", namespaces={"svrl": "http://purl.oclc.org/dsdl/svrl"})


@pytest.fixture(scope="module")
def cmif_schematron(cmif_reference):
    return Xslt2Schematron(cmif_reference / "cmif.sch")


def test_cmif_is_valid_against_the_official_relax_ng(exported, cmif_reference):
    _, files, _ = exported
    rng = etree.RelaxNG(etree.parse(str(cmif_reference / "cmi-customization.rng")))
    doc = etree.fromstring(files["cmif.xml"])
    assert rng.validate(doc), rng.error_log.filter_from_errors()


def test_cmif_passes_the_official_schematron(exported, cmif_schematron):
    _, files, _ = exported
    assert cmif_schematron.messages(files["cmif.xml"]) == []
    fired = set(cmif_schematron.fired(files["cmif.xml"]))
    assert {"tei:bibl", "tei:correspDesc", "tei:correspDesc/@source", "tei:date"} <= fired


def test_the_cmif_schematron_rules_do_fire(exported, cmif_schematron):
    """Proof that the pipeline runs the rules: a broken file fails each of them."""
    _, files, _ = exported
    text = files["cmif.xml"].decode("utf-8")
    uuid = bibl_id(exported[0].base_url)
    broken = (text.replace('<correspAction type="received">', '<correspAction type="sent">', 1)
                  .replace(f'xml:id="{uuid}"', 'xml:id="edition"')
                  .replace('<date when="1973-02-11"/>', "<date/>"))
    codes = {m[:7] for m in cmif_schematron.messages(broken.encode("utf-8"))}
    assert codes == {"[W0001]", "[E0002]", "[E0003]", "[E0004]"}
    no_sent = text.replace('<correspAction type="sent">', '<correspAction type="received">', 1)
    assert {m[:7] for m in cmif_schematron.messages(no_sent.encode("utf-8"))} == {"[E0001]"}


def test_cmif_content(exported, corpus):
    ctx, files, _ = exported
    root = etree.fromstring(files["cmif.xml"])
    descs = root.findall(".//tei:correspDesc", NS)
    assert len(descs) == len(corpus.letters)
    bibl = root.find(".//tei:sourceDesc/tei:bibl", NS)
    bibl_xml_id = bibl.get(XML_ID)
    assert re.fullmatch(r"[a-f][0-9a-f]{7}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", bibl_xml_id)
    by_url = {d.get("ref"): d for d in descs}
    for letter in corpus.letters:
        desc = by_url[f"https://tei-edition.github.io/tito-kim/letters/{letter.id}.html"]
        assert desc.get("source") == f"#{bibl_xml_id}"
    assert root.find(".//tei:publicationStmt/tei:idno[@type='url']", NS).text.endswith("/export/cmif.xml")
    tk001 = by_url["https://tei-edition.github.io/tito-kim/letters/tk-001.html"]
    kim = tk001.find("tei:correspAction[@type='sent']/tei:persName", NS)
    assert kim.text == "Kim Il Sung"
    assert kim.get("ref").split() == ["http://d-nb.info/gnd/118562126", "http://viaf.org/viaf/108235077",
                                      "http://id.loc.gov/authorities/names/n79032857",
                                      "http://www.wikidata.org/entity/Q41117"]
    tito = tk001.find("tei:correspAction[@type='received']/tei:persName", NS)
    assert tito.get("ref") is None                  # no verified authority id: none given
    tk002 = by_url["https://tei-edition.github.io/tito-kim/letters/tk-002.html"]
    assert tk002.find(".//tei:placeName", NS).get("ref") == "http://www.geonames.org/1871859"
    tk003 = by_url["https://tei-edition.github.io/tito-kim/letters/tk-003.html"]   # conflicting dates: their range
    assert dict(tk003.find(".//tei:date", NS).attrib) == {"notBefore": "1973-07-22", "notAfter": "1973-08-22"}
    assert tk003.find(".//tei:placeName", NS).get("ref") is None                 # Brdo has no GeoNames id
    tk017 = by_url["https://tei-edition.github.io/tito-kim/letters/tk-017.html"]
    received = tk017.find("tei:correspAction[@type='received']/tei:date", NS)
    assert dict(received.attrib) == {"notBefore": "1978-04-01", "notAfter": "1978-04-30"}
    tk021 = by_url["https://tei-edition.github.io/tito-kim/letters/tk-021.html"]
    assert tk021.find("tei:correspAction[@type='sent']/tei:orgName", NS) is not None
    assert tk021.find("tei:correspAction[@type='received']/tei:persName", NS).get("cert") == "low"
    assert not root.xpath("//tei:date[@cert]", namespaces=NS)


# ---------------------------------------------------------------- OAI-PMH
def test_oai_pmh_static_repository(exported, corpus):
    ctx, files, _ = exported
    root = etree.fromstring(files["oai-pmh.xml"])
    ns = {"sr": SR, "oai": OAI, "dc": DC, "oai_dc": OAI_DC}
    assert root.tag == f"{{{SR}}}Repository"
    assert [etree.QName(c).localname for c in root] == ["Identify", "ListMetadataFormats", "ListRecords"]
    identify = root.find("sr:Identify", ns)
    order = [etree.QName(c).localname for c in identify]
    assert order[:7] == ["repositoryName", "baseURL", "protocolVersion", "adminEmail", "earliestDatestamp",
                         "deletedRecord", "granularity"]
    assert all(etree.QName(c).namespace == OAI for c in identify)
    assert identify.findtext("oai:protocolVersion", namespaces=ns) == "2.0"
    assert identify.findtext("oai:adminEmail", namespaces=ns) == ADMIN
    assert identify.findtext("oai:deletedRecord", namespaces=ns) == "no"
    assert identify.findtext("oai:granularity", namespaces=ns) == "YYYY-MM-DD"
    assert identify.findtext("oai:baseURL", namespaces=ns).startswith("https://")
    repo_id = identify.findtext(".//{http://www.openarchives.org/OAI/2.0/oai-identifier}repositoryIdentifier")
    assert re.fullmatch(r"[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+", repo_id)
    fmt = root.find("sr:ListMetadataFormats/oai:metadataFormat", ns)
    assert fmt.findtext("oai:metadataPrefix", namespaces=ns) == "oai_dc"
    assert fmt.findtext("oai:metadataNamespace", namespaces=ns) == OAI_DC
    records = root.find("sr:ListRecords", ns)
    assert records.get("metadataPrefix") == "oai_dc"
    assert records.find("oai:resumptionToken", ns) is None
    items = records.findall("oai:record", ns)
    assert len(items) == len(corpus.letters)
    identifiers, datestamps = [], []
    for record, letter in zip(items, corpus.letters, strict=True):
        header = record.find("oai:header", ns)
        assert header.get("status") is None and header.find("oai:setSpec", ns) is None
        identifier = header.findtext("oai:identifier", namespaces=ns)
        assert re.fullmatch(rf"oai:{re.escape(repo_id)}:[a-zA-Z0-9\-_.!~*'();/?:@&=+$,%]+", identifier)
        assert identifier.endswith(f"/{letter.id}")
        identifiers.append(identifier)
        stamp = header.findtext("oai:datestamp", namespaces=ns)
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", stamp)
        assert stamp == max(ctx.revision_dates(letter.path))          # from the revision history
        datestamps.append(stamp)
        dc = record.find("oai:metadata/oai_dc:dc", ns)
        assert dc is not None and len(record.find("oai:metadata", ns)) == 1
        assert all(etree.QName(el).namespace == DC for el in dc)
        values = {}
        for el in dc:
            assert (el.text or "").strip(), etree.QName(el).localname
            values.setdefault(etree.QName(el).localname, []).append(el.text)
        for required in ("title", "creator", "contributor", "date", "description", "subject", "language", "type",
                         "rights", "relation", "identifier"):
            assert required in values, (letter.id, required)
        assert values["identifier"] == [f"https://tei-edition.github.io/tito-kim/letters/{letter.id}.html"]
        assert values["description"] == [letter.abstract]
        assert values["title"] == [letter.subtitle]
        assert "Text" in values["type"]
    assert len(set(identifiers)) == len(identifiers)
    assert identify.findtext("oai:earliestDatestamp", namespaces=ns) == min(datestamps)


def test_oai_pmh_without_an_admin_email_is_reported(context, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    ctx = context(admin_email=None)
    files = _exported(ctx, ["oai-pmh"])
    assert b"adminEmail" not in files["oai-pmh.xml"]
    assert [d.code for d in ctx.reporter.sorted()] == ["export.oai-pmh.admin-email"]


# ---------------------------------------------------------------- MARC and MODS
def test_marcxml_reads_back_with_pymarc(exported, corpus):
    _, _, folder = exported
    records = pymarc.parse_xml_to_array(str(folder / "edition.marc.xml"))
    assert len(records) == 1
    record = records[0]
    leader = str(record.leader)
    assert len(leader) == 24 and leader[5:8] == "nam" and leader[20:] == "4500"
    assert int(leader[:5]) == len(record.as_marc())                  # the leader's length is the record's
    assert record["005"].data.startswith("20231114")
    assert record["008"].data[7:11] == "2026" and record["008"].data[35:38] == "eng"
    assert record["041"]["a"] == "eng"
    title = record["245"]
    assert title["a"].startswith("The Correspondence of Josip Broz Tito and Kim Il Sung")
    assert title.indicator2 == "4"                                    # "The " does not file
    assert "tei-edition editorial team" in title["c"]
    assert record["250"]["a"].startswith("First digital edition")
    publication = record["264"]
    assert publication.indicator2 == "1"
    assert "tei-edition project" in publication["b"] and publication["c"] == "2026."
    subjects = {f["a"].rstrip(","): f for f in record.get_fields("600")}
    assert set(subjects) == {"Josip Broz Tito", "Kim Il Sung"}
    assert subjects["Kim Il Sung"]["d"] == "1912-1994"
    assert subjects["Kim Il Sung"]["0"] == "http://id.loc.gov/authorities/names/n79032857"
    topics = [f["a"] for f in record.get_fields("650")]
    assert "Non-Aligned Movement." in topics
    places = [f["a"] for f in record.get_fields("651")]
    assert places == ["Democratic People's Republic of Korea.", "Socialist Federal Republic of Yugoslavia."]
    assert record["500"]["a"].startswith(f"Edition of {len(corpus.letters)} items")
    assert record["520"]["a"]
    assert record["856"]["u"] == "https://tei-edition.github.io/tito-kim/"
    assert (record["856"].indicator1, record["856"].indicator2) == ("4", "0")
    assert record["710"]["e"] == "editor."


def test_mods_record(exported):
    _, files, _ = exported
    root = etree.fromstring(files["edition.mods.xml"])
    ns = {"m": MODS}
    assert root.tag == f"{{{MODS}}}mods" and root.get("version") == "3.8"
    title = root.findtext("m:titleInfo/m:nonSort", namespaces=ns) + root.findtext("m:titleInfo/m:title", namespaces=ns)
    assert title == "The Correspondence of Josip Broz Tito and Kim Il Sung, 1973–1979"
    assert root.findtext("m:name/m:role/m:roleTerm[@type='code']", namespaces=ns) == "edt"
    assert root.findtext("m:originInfo/m:publisher", namespaces=ns) == "The tei-edition project"
    assert root.findtext("m:originInfo/m:dateIssued[@keyDate='yes']", namespaces=ns) == "2026"
    assert root.findtext("m:language/m:languageTerm", namespaces=ns) == "eng"
    assert root.findtext("m:typeOfResource", namespaces=ns) == "text"
    names = [n.findtext("m:namePart", namespaces=ns) for n in root.findall("m:subject/m:name", ns)]
    assert names == ["Josip Broz Tito", "Kim Il Sung"]
    assert root.find("m:subject/m:name[@valueURI='http://id.loc.gov/authorities/names/n79032857']", ns) is not None
    assert root.findtext("m:location/m:url", namespaces=ns) == "https://tei-edition.github.io/tito-kim/"
    assert root.findtext("m:recordInfo/m:recordCreationDate", namespaces=ns) == EPOCH_DATE
    assert root.find("m:accessCondition", ns).get("{http://www.w3.org/1999/xlink}href").startswith("https://creativecommons")


# ---------------------------------------------------------------- EPUB
def test_epub_package(exported, corpus):
    _, files, _ = exported
    data = files["edition.epub"]
    # mimetype first, stored, no extra field: the first bytes are fixed by the EPUB specification
    assert data[30:38] == b"mimetype" and data[38:58] == b"application/epub+zip"
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        infos = book.infolist()
        assert infos[0].filename == "mimetype" and infos[0].compress_type == zipfile.ZIP_STORED
        assert {i.date_time for i in infos} == {(2023, 11, 14, 22, 13, 20)}
        names = book.namelist()
        for letter in corpus.letters:
            assert f"OEBPS/{letter.id}.xhtml" in names
        for name in names:
            if name.endswith((".xhtml", ".opf", ".xml")):
                etree.fromstring(book.read(name))                       # well-formed XML
        opf = etree.fromstring(book.read("OEBPS/content.opf"))
        meta = {m.get("property") for m in opf.iter("{http://www.idpf.org/2007/opf}meta")}
        assert {"schema:accessMode", "schema:accessModeSufficient", "schema:accessibilityFeature",
                "schema:accessibilityHazard", "schema:accessibilitySummary", "dcterms:modified"} <= meta
        nav = etree.fromstring(book.read("OEBPS/nav.xhtml"))
        toc = nav.find(".//{http://www.w3.org/1999/xhtml}nav[@{http://www.idpf.org/2007/ops}type='toc']")
        hrefs = [a.get("href") for a in toc.iter("{http://www.w3.org/1999/xhtml}a")]
        assert "index.xhtml" in hrefs and "persons.xhtml" in hrefs
        assert [h for h in hrefs if re.fullmatch(r"tk-\d+\.xhtml", h)] == [f"{l.id}.xhtml" for l in corpus.letters]
        page = book.read("OEBPS/tk-003.xhtml").decode("utf-8")
        assert 'href="persons.xhtml#tito"' in page and "Regest" in page and "Commentary" in page


def test_epub_passes_epubcheck(exported, tmp_path):
    if shutil.which("java") is None or not EPUBCHECK.exists():
        pytest.skip(f"epubcheck needs java and {EPUBCHECK} (Debian: apt-get install epubcheck)")
    _, files, _ = exported
    book = tmp_path / "edition.epub"
    book.write_bytes(files["edition.epub"])
    result = subprocess.run(["java", "-jar", str(EPUBCHECK), str(book)], capture_output=True, text=True, timeout=300)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    assert re.search(r"Messages: 0 fatals / 0 errors", report), report


# ---------------------------------------------------------------- JSON
def test_data_json_shape(exported, corpus):
    _, files, _ = exported
    letters = json.loads(files["data/letters.json"])
    assert letters["version"] == 1
    assert set(letters["edition"]) == {"title", "url", "publisher", "licence", "licence_url"}
    assert [l["id"] for l in letters["letters"]] == [l.id for l in corpus.letters]
    keys = {"id", "url", "tei", "title", "short_title", "date", "dates", "sender", "recipient", "place", "abstract",
            "keywords", "phase", "kind", "signature", "links", "mentions"}
    for item in letters["letters"]:
        assert set(item) == keys
        assert item["url"].endswith(f"letters/{item['id']}.html")
        assert f"tei/{Path(item['tei']).relative_to('tei')}" in files
        assert set(item["links"]) == {"prev", "next", "repliesTo", "repliedBy"}
        assert set(item["mentions"]) == {"persons", "places", "organisations", "events"}
        assert set(item["sender"]) == {"id", "name", "cert"}
        for d in item["dates"]:
            assert set(d) == {"when", "not_before", "not_after", "type", "cert", "text"}
    tk003 = next(l for l in letters["letters"] if l["id"] == "tk-003")
    assert [d["type"] for d in tk003["dates"]] == ["catalogue", "dateline"]
    assert tk003["links"]["repliesTo"] == "tk-002"
    assert "tito" in tk003["mentions"]["persons"]
    for kind in ("persons", "places", "organisations", "events"):
        doc = json.loads(files[f"data/{kind}.json"])
        assert doc["version"] == 1 and kind in doc
        assert {e["id"] for e in doc[kind]} == set(corpus.entries[kind])
        for entry in doc[kind]:
            assert {"id", "url", "name", "variants", "description", "dates", "authorities", "letters"} <= set(entry)
            assert entry["url"].endswith(f"{kind}.html#{entry['id']}")
            assert entry["letters"] == corpus.entries[kind][entry["id"]].letters
    places = {p["id"]: p for p in json.loads(files["data/places.json"])["places"]}
    assert places["belgrade"]["geo"] == {"lat": 44.8186, "long": 20.468}
    persons = {p["id"]: p for p in json.loads(files["data/persons.json"])["persons"]}
    assert {"type": "wikidata", "id": "Q41117", "uri": "http://www.wikidata.org/entity/Q41117"} in \
        persons["kim_il_sung"]["authorities"]


# ---------------------------------------------------------------- BagIt
def test_bag_validates_with_bagit(exported):
    _, files, folder = exported
    bag = bagit.Bag(str(folder / "bag"))
    bag.validate()                                   # completeness, fixity, Payload-Oxum
    assert bag.version_info == (1, 0)
    assert set(bag.algorithms) == {"sha256", "sha512"}
    info = bag.info
    assert info["Source-Organization"] == "The tei-edition project"
    assert info["Bagging-Date"] == EPOCH_DATE
    assert info["External-Description"] and info["Bag-Size"]
    payload = set(bag.payload_files())
    assert "data/html/index.html" in payload and "data/text/edition.txt" in payload
    for path in files:
        if not path.startswith("bag/") and path != "manifest.json":
            assert f"data/export/{path}" in payload, path
    assert (folder / "bag" / "tagmanifest-sha512.txt").exists()


def test_the_epub_takes_the_letters_as_the_build_rendered_them(exported, context, monkeypatch):
    """With `rendered` (the build's fragments, links filled in by the EPUB's resolver) the book is the
    same as when the export renders the letters itself."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    _, files, _ = exported
    ctx = context()
    asked: list[str] = []

    def rendered(letter_id: str, resolve) -> dict[str, str]:
        asked.append(letter_id)
        source = read_xml(ctx.corpus.letter(letter_id).path)
        body = source.root.find("tei:text/tei:body", NS)
        return {kind: render.fill_links(render.render_html(
                    body.find(f"tei:div[@type='{kind}']", NS), resolve=render.deferred, source=source,
                    heading_level=2, id_prefix=f"{kind}-").fragment, resolve)
                for kind in ("regest", "commentary")}

    ctx.rendered = rendered
    assert _exported(ctx, ["epub"])["edition.epub"] == files["edition.epub"]
    assert asked == [l.id for l in ctx.corpus.letters]


# ---------------------------------------------------------------- writing into build/export/
def test_update_replaces_the_outputs_asked_for_and_keeps_the_manifest_whole(exported, context, tmp_path,
                                                                          monkeypatch):
    _, files, _ = exported
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    folder = tmp_path / "build" / "export"
    made: list[ExportContext] = []

    def make(out: Output) -> ExportContext:
        made.append(context(out=out))
        return made[-1]

    tops = update(folder, make, None)
    assert tops == sorted({path.split("/", 1)[0] for path in files if path != "manifest.json"})
    assert _files(folder) == files
    (folder / "tei" / "stale.xml").write_bytes(b"<old/>")          # a file the next export no longer makes
    (folder / "cmif.xml").unlink()                                  # (replaced, not written into: the bag links it)
    (folder / "cmif.xml").write_bytes(b"<changed/>")
    marc = (folder / "edition.marc.xml").stat().st_ino
    assert update(folder, make, ["cmif", "tei"]) == ["cmif.xml", "tei"]
    assert not (folder / "tei" / "stale.xml").exists()
    assert _files(folder) == files                                   # same sources, same bytes, whole manifest
    assert (folder / "edition.marc.xml").stat().st_ino == marc       # not asked for: not touched
    assert sorted(p.name for p in folder.parent.iterdir()) == ["export"]   # no staging left behind
    assert set(made[-1].exported) == {"tei", "cmif"}
    with pytest.raises(ExportError, match="unknown export format"):
        update(folder, make, ["pdf"])
    assert _files(folder) == files

    def failing(out: Output) -> ExportContext:                        # an export that reports an error
        ctx = context(out=out)
        ctx.rendered = lambda letter_id, resolve: ctx.reporter.error("render.test", "broken", ctx.config.root) or {}
        return ctx

    assert update(folder, failing, ["epub", "cmif"]) == []
    assert _files(folder) == files
    assert sorted(p.name for p in folder.parent.iterdir()) == ["export"]


# ---------------------------------------------------------------- the helpers that stream
def test_root_element_bytes_cuts_out_the_root_element_or_declines():
    doc = b'\xef\xbb\xbf<?xml version="1.0" encoding="utf-8"?>\n<!-- a <TEI> in a comment -->\n' \
          b'<?xml-model href="x.rng"?>\n<TEI xmlns="http://www.tei-c.org/ns/1.0"><p>x &gt; y</p></TEI>\n\n'
    assert root_element_bytes(doc) == b'<TEI xmlns="http://www.tei-c.org/ns/1.0"><p>x &gt; y</p></TEI>'
    prefixed = b"<tei:TEI xmlns:tei='t'><tei:p/></tei:TEI >"
    assert root_element_bytes(prefixed) == prefixed
    assert root_element_bytes(b"<TEI><p/></TEI>\n<!-- after -->\n") is None       # misc after the root
    assert root_element_bytes(b"<!DOCTYPE TEI>\n<TEI/>") is None
    assert root_element_bytes(b'<?xml version="1.0" encoding="ISO-8859-1"?><TEI/>') is None


def test_write_around_gives_the_bytes_of_the_whole_tree():
    def tree(records: int) -> tuple[etree._Element, etree._Element, list[etree._Element]]:
        root = etree.Element(f"{{{TEI_NS}}}TEI", nsmap={None: TEI_NS, "x": "urn:x"})
        head = etree.SubElement(root, f"{{{TEI_NS}}}teiHeader")
        etree.SubElement(head, f"{{{TEI_NS}}}title").text = "T"
        parent = etree.SubElement(head, f"{{{TEI_NS}}}list")
        etree.SubElement(parent, f"{{{TEI_NS}}}head").text = "H"
        etree.SubElement(root, f"{{{TEI_NS}}}text").text = "after"
        items = []
        for i in range(records):
            item = etree.Element(f"{{{TEI_NS}}}item", n=str(i))
            etree.SubElement(item, "{urn:x}y").text = f"<{i}> & é"
            items.append(item)
        return root, parent, items

    for records in (0, 1, 3):
        for indent in (False, True):
            root, parent, items = tree(records)
            streamed = io.BytesIO()
            write_around(streamed, root, parent, items, lambda r: etree.tostring(r, encoding="UTF-8"), indent)
            root, parent, items = tree(records)
            for item in items:
                parent.append(item)
            if indent:
                etree.indent(root, space="  ")
            assert streamed.getvalue() == etree.tostring(root, encoding="UTF-8"), (records, indent)


def test_json_text_is_json_dumps_with_an_indent():
    for value in ({}, [], {"a": [], "b": {}, "c": [{"d": None}]}, [1, -2.5, 1e300, True, False, None, "é\n\"\u2028"],
                  {"k": [[], [[]]], "n": 0}):
        assert json_text(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_the_header_alone_gives_the_same_facts_as_the_whole_document(corpus):
    for letter in corpus.letters:
        assert document_facts(read_header(letter.path)) == document_facts(read_xml(letter.path).root), letter.id
    header = read_header(corpus.letters[0].path)
    assert header.find("tei:text", NS) is None


# ---------------------------------------------------------------- large editions
def test_exporting_a_large_edition_takes_little_memory(tmp_path, monkeypatch, capsys):
    """The export holds no letter longer than it takes to write it: its peak of Python allocations
    stays well below what keeping the letters would take. Time per letter is printed, not asserted."""
    letters = 300
    synthesize(tmp_path / "edition", letters)
    config = config_mod.load(tmp_path / "edition")
    built = _build(config, tmp_path / "staging")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    corpus = corpus_mod.load(config.tei)
    reporter = Reporter(root=config.root)
    ctx = ExportContext(corpus, config, odd.load(config.odd), reporter, built, Output(tmp_path / "export"),
                        admin_email=ADMIN)
    tracemalloc.start()
    try:
        started = time.perf_counter()
        export(ctx)
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    with capsys.disabled():
        print(f"\nexport of {letters} letters: {seconds:.2f} s, {1000 * seconds / letters:.2f} ms a letter "
              f"(under tracemalloc), peak of Python allocations {peak / 2**20:.1f} MB")
    assert peak < 60 * 2**20, f"{peak / 2**20:.1f} MB"
    assert not reporter.failed(), [d.format() for d in reporter.sorted()]
    bagit.Bag(str(tmp_path / "export" / "bag")).validate(fast=True)
    with zipfile.ZipFile(tmp_path / "export" / "edition.epub") as book:
        assert len([n for n in book.namelist() if n.startswith("OEBPS/syn-")]) == letters


@pytest.mark.parametrize("in_kernel", [True, False])
def test_copy_range_appends_exactly_the_range(tmp_path, monkeypatch, in_kernel):
    from edition.output import copy_range

    if not in_kernel:
        monkeypatch.delattr("os.copy_file_range", raising=False)
    source = tmp_path / "source.bin"
    source.write_bytes(bytes(range(256)) * 8192)            # 2 MiB: more than one block by hand
    target = tmp_path / "target.bin"
    with open(source, "rb") as src, open(target, "wb", buffering=0) as dst:
        dst.write(b"head")
        assert copy_range(src, dst, 1000, 1_500_000)
        dst.write(b"tail")
        assert not copy_range(src, dst, 2_000_000, 200_000)   # past the end: nothing appended
    assert target.read_bytes() == b"head" + source.read_bytes()[1000:1_501_000] + b"tail"


@pytest.mark.parametrize("count", [0, 1, 4096, 9000])
def test_the_manifest_text_is_what_json_dumps_gives(count):
    import json as json_mod

    from edition.export import MANIFEST, _manifest_text

    files = {f'tei/letters/x-{i}"é\\.xml': (i, f"{i:064x}") for i in range(count)}
    files[MANIFEST] = (1, "0" * 64)                                      # (not listed in itself)
    doc = {"version": 1, "files": [{"path": p, "sha256": e[1], "size": e[0]}
                                   for p, e in sorted(files.items()) if p != MANIFEST]}
    assert "".join(_manifest_text(files)) == json_mod.dumps(doc, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("rel", ["/etc/passwd", "../outside.txt", "tei/../../outside.txt", "a\\..\\..\\b"])
def test_an_output_refuses_a_path_outside_its_folder(tmp_path, rel):
    out = Output(tmp_path / "staging")
    with pytest.raises(ValueError):
        out.write(rel, b"x")
    assert not (tmp_path / "outside.txt").exists()


def test_the_previous_archive_is_read_as_zipfile_reads_it(tmp_path):
    """A rebuild reads the previous EPUB's central directory in one piece (_Previous); what it finds
    is what zipfile finds, and an archive it does not know (a comment, an extra field) is left to zipfile."""
    import datetime as dt

    from edition.export._common import Archive, _open_zip, _Previous

    path = tmp_path / "book.epub"
    when = dt.datetime(2026, 1, 2, 3, 4, 5)
    with Archive(path, when, stored=frozenset({"mimetype"})) as archive:
        archive.add("mimetype", b"application/epub+zip")
        for i in range(300):
            archive.add(f"OEBPS/p{i}.xhtml", f"<p>page {i} – čćž</p>".encode("utf-8") * (i % 7 + 1))
        archive.add("OEBPS/ünïcode.xhtml", b"<p/>")
    previous = _open_zip(path)
    assert isinstance(previous, _Previous)
    with zipfile.ZipFile(path) as zf:
        assert [tuple(m) for m in previous.NameToInfo.values()] == [
            (i.filename, i.header_offset, i.compress_size, i.CRC, i.file_size) for i in zf.infolist()]
    previous.close()
    def with_comment(zf: zipfile.ZipFile) -> None:
        zf.comment = b"made elsewhere"

    def with_extra_field(zf: zipfile.ZipFile) -> None:
        info = zipfile.ZipInfo("b.txt", (2026, 1, 1, 0, 0, 0))
        info.extra = b"\xfe\xca\x00\x00"
        zf.writestr(info, b"b")

    for change in (with_comment, with_extra_field):
        other = tmp_path / f"{change.__name__}.zip"
        with zipfile.ZipFile(other, "w") as zf:
            zf.writestr("a.txt", b"a")
            change(zf)
        with open(other, "rb") as fh:
            assert _Previous.read(fh) is None
        found = _open_zip(other)
        assert isinstance(found, zipfile.ZipFile) and "a.txt" in found.NameToInfo
        found.close()
