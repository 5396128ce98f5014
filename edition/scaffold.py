"""`edition new`: scaffold a letter that is valid from the start and link it into the chronology.

The new document gets the next identifier of the series (tk-024 -> tk-025). Its neighbours in
the order of dates get their previous/next links updated by a minimal text edit, so that the
rest of what the editor wrote, formatting included, stays as it was. Nothing is written until
every change has been prepared and re-parsed; the new file is never written over an existing one.
"""
from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass
from datetime import date as Date
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from .config import Config
from .corpus import Corpus, Letter, human_date
from .diagnostics import EditionError
from .odd import SchemaFiles
from .tei import TEI_NS, XML_ID, XMLInputError, read_xml


def parse_date(text: str) -> str:
    """Accept YYYY-MM-DD, YYYY-MM or YYYY; raise ValueError otherwise."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        Date.fromisoformat(text)
    elif re.fullmatch(r"\d{4}-\d{2}", text):
        Date.fromisoformat(text + "-01")
    elif not re.fullmatch(r"\d{4}", text):
        raise ValueError("expected an ISO date: YYYY-MM-DD, YYYY-MM or YYYY")
    return text


def next_id(letters: list[Letter]) -> str:
    numbered = [m for m in (re.fullmatch(r"(.*?)(\d+)", l.id) for l in letters) if m]
    if not numbered:
        return "letter-001"
    best = max(numbered, key=lambda m: int(m.group(2)))
    prefix, digits = best.group(1), best.group(2)
    return f"{prefix}{int(digits) + 1:0{len(digits)}d}"


def label(letter_sender: str, letter_recipient: str, iso: str) -> str:
    return f"{letter_sender} to {letter_recipient}, {human_date(iso)}"


@dataclass
class Plan:
    """Everything `edition new` will write: the new file and the edited neighbours."""

    new_path: Path
    new_text: str
    edits: dict[Path, str]


def _today() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return time.strftime("%Y-%m-%d", time.gmtime(int(epoch)) if epoch else time.gmtime())


def _party_element(corpus: Corpus, ref: str, role: str) -> tuple[str, str]:
    entry = corpus.entry(ref)
    if entry is None or entry.kind.key not in ("persons", "organisations"):
        import difflib

        candidates = list(corpus.entries["persons"]) + list(corpus.entries["organisations"])
        near = difflib.get_close_matches(ref, candidates, n=1)
        raise EditionError(f"{role} {ref!r} is not a person or organisation in the registers"
                           + (f"; did you mean {near[0]!r}?" if near else ""))
    element = "persName" if entry.kind.key == "persons" else "orgName"
    return f"<{element} ref={quoteattr('#' + ref)}>{escape(entry.name)}</{element}>", entry.name


def plan(corpus: Corpus, config: Config, when: str, sender: str, recipient: str,
         place: str | None = None, title: str | None = None) -> Plan:
    new_id = next_id(corpus.letters)
    sender_xml, sender_name = _party_element(corpus, sender, "sender")
    recipient_xml, recipient_name = _party_element(corpus, recipient, "recipient")
    place_xml = ""
    if place:
        entry = corpus.entry(place)
        if entry is None or entry.kind.key != "places":
            raise EditionError(f"place {place!r} is not in the register of places")
        place_xml = f"\n          <placeName ref={quoteattr('#' + place)}>{escape(entry.name)}</placeName>"
    folder = corpus.letters[0].path.parent if corpus.letters else config.tei / "letters"
    new_path = folder / f"{new_id}.xml"
    if new_path.exists():
        raise EditionError("a file of that name exists already; it is left untouched", new_path)

    ordered = sorted(corpus.letters + [None], key=lambda l: (when, new_id) if l is None else (l.date, l.id))
    at = ordered.index(None)
    prev = ordered[at - 1] if at > 0 else None
    nxt = ordered[at + 1] if at + 1 < len(ordered) else None

    own_label = label(sender_name, recipient_name, when)
    context = []
    for kind, other in (("prev", prev), ("next", nxt)):
        if other is not None:
            context.append(f'          <ref type="{kind}" target="#{other.id}">{escape(_letter_label(other))}</ref>')
    context_xml = ("\n        <correspContext>\n" + "\n".join(context) + "\n        </correspContext>") if context else ""

    edition_ids = set()
    if corpus.edition is not None:
        edition_ids = {el.get(XML_ID) for el in corpus.edition.root.iter()}
    editors = "#editors" if "editors" in edition_ids else None
    schema = SchemaFiles(config.odd)
    rng = os.path.relpath(schema.rng, folder)
    sch = os.path.relpath(schema.sch, folder)
    base = config.base_url.rstrip("/") + "/" if config.base_url else ""
    title_text = title or f"{sender_name} to {recipient_name}"
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<?xml-model href={quoteattr(rng)} type="application/xml" schematypens="http://relaxng.org/ns/structure/1.0"?>
<?xml-model href={quoteattr(sch)} type="application/xml" schematypens="http://purl.oclc.org/dsdl/schematron"?>
<TEI xmlns="{TEI_NS}" xml:id="{new_id}" xml:lang="en">
  <teiHeader>
    <fileDesc>
      <titleStmt>
        <title type="main">{escape(title_text)}</title>
        <title type="sub">{escape(own_label)}</title>{f'''
        <editor ref="{editors}">The editors</editor>''' if editors else ''}
      </titleStmt>
      <publicationStmt>
        <publisher>{escape(config.title)}</publisher>{f'''
        <idno type="URI">{escape(base)}letters/{new_id}.html</idno>''' if base else ''}
      </publicationStmt>
      <sourceDesc>
        <p>The source of this item is not described yet.</p>
      </sourceDesc>
    </fileDesc>
    <profileDesc>
      <correspDesc>
        <correspAction type="sent">
          {sender_xml}{place_xml}
          <date when="{when}">{human_date(when)}</date>
        </correspAction>
        <correspAction type="received">
          {recipient_xml}
        </correspAction>{context_xml}
      </correspDesc>
      <langUsage>
        <language ident="en">English (editorial text)</language>
      </langUsage>
    </profileDesc>
    <revisionDesc>
      <change when="{_today()}"{f' who="{editors}"' if editors else ''}>Created with edition new.</change>
    </revisionDesc>
  </teiHeader>
  <text>
    <body>
      <div type="regest">
        <head>Regest</head>
        <p>The regest of this item is still to be written.</p>
      </div>
    </body>
  </text>
</TEI>
"""
    edits = {}
    if prev is not None:
        edits[prev.path] = _set_link(prev.path, "next", new_id, own_label)
    if nxt is not None:
        edits[nxt.path] = _set_link(nxt.path, "prev", new_id, own_label)
    for path, content in [(new_path, text), *edits.items()]:
        try:
            read_xml(path, content.encode("utf-8"))
        except XMLInputError as exc:  # pragma: no cover - a bug in this module, not in the data
            raise EditionError(f"the prepared document would not be well-formed: {exc.message}", path, exc.line) from None
    return Plan(new_path, text, edits)


def _letter_label(letter: Letter) -> str:
    if letter.subtitle:
        return letter.subtitle
    return label(letter.sender.name if letter.sender else "?", letter.recipient.name if letter.recipient else "?", letter.date)


_CONTEXT_END = re.compile(r"([ \t]*)</correspContext>")
_ACTION_END = re.compile(r"</correspAction>(?![\s\S]*</correspAction>)")


def _set_link(path: Path, kind: str, target: str, text: str) -> str:
    """The text of `path` with its correspContext link of `kind` pointing to `target`.

    The file is read with its line endings as they are (CRLF stays CRLF), and only the link changes.
    """
    with open(path, encoding="utf-8", newline="") as fh:
        source = fh.read()
    newline = "\r\n" if "\r\n" in source else "\n"
    ref = re.compile(r"<ref\b(?=[^>]*\btype\s*=\s*[\"']" + kind + r"[\"'])[^>]*>[\s\S]*?</ref>")
    context = re.search(r"<correspContext\b[^>]*>[\s\S]*?</correspContext>", source)
    new_ref = f'<ref type="{kind}" target="#{target}">{escape(text)}</ref>'
    if context:
        inside = context.group(0)
        if ref.search(inside):
            inside = ref.sub(lambda m: new_ref, inside, count=1)
        else:
            m = _CONTEXT_END.search(inside)
            indent = m.group(1)
            inside = inside[: m.start()] + f"{indent}  {new_ref}{newline}" + inside[m.start():]
        return source[: context.start()] + inside + source[context.end():]
    m = _ACTION_END.search(source)
    if not m:
        raise EditionError("no correspDesc to link the new letter into", path)
    line_start = source.rfind("\n", 0, m.start()) + 1
    indent = re.match(r"[ \t]*", source[line_start:]).group(0)
    block = f"{newline}{indent}<correspContext>{newline}{indent}  {new_ref}{newline}{indent}</correspContext>"
    return source[: m.end()] + block + source[m.end():]


def write(p: Plan) -> list[Path]:
    """Write the plan: the new file exclusively (never over an existing one), then each neighbour
    atomically, keeping its permissions and line endings."""
    p.new_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(p.new_path, "x", encoding="utf-8") as fh:
            fh.write(p.new_text)
    except FileExistsError:
        raise EditionError("a file of that name exists already; it is left untouched", p.new_path) from None
    for path, content in p.edits.items():
        target = path.resolve()          # a linked file is edited where it really is
        tmp = target.with_name(f".{target.name}.tmp")
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            fh.write(content)
        shutil.copymode(target, tmp)
        tmp.replace(target)
    return [p.new_path, *p.edits]
