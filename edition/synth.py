"""Synthetic editions for performance and scale work: a complete project folder of N letters.

    synthesize(Path("big"), letters=10_000, seed=1)

writes

    big/edition.toml                   [edition] table: title, tei, schema, build, base-url
    big/schema/tei-edition.{odd,rng,sch}   a copy of the project schema (the folder stands alone)
    big/tei/edition.xml                the edition document: editors, taxonomies, introduction
    big/tei/registers/{persons,places,organisations,events}.xml
    big/tei/letters/syn-000001.xml ... one file per letter, named after its xml:id

The letters are modelled on the real ones in tei/letters/ (same header, a regest of
150-250 words with 10-40 marked-up names and dates, a commentary of 2-5 typed notes) and
the folder passes `edition validate --strict` with no diagnostic. Registers grow more slowly
than the letters, and every entry is named at least once.

Two phases, as in the rest of the toolkit: `_Planner` draws the whole world (registers, dates,
correspondents, links, which letter names which entry) from one random.Random(seed); the
writers then turn it into text with string templates, one letter at a time, straight to
disk. No XML tree is built, so 10,000 letters take seconds, and the same seed gives the same
bytes.
"""
from __future__ import annotations

import bisect
import itertools
import random
import re
import shutil
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from .config import packaged_odd
from .corpus import REGISTER_KINDS, human_date
from .diagnostics import EditionError
from .odd import SchemaFiles
from .scaffold import label
from .tei import TEI_NS

__all__ = ["RegisterSizes", "SynthError", "SynthResult", "register_sizes", "synthesize"]

LETTER_PREFIX = "syn-"
REGISTER_FILES = ("persons", "places", "organisations", "events")
BASE_URL = "https://example.org/synthetic-edition/"
ARCHIVE_URL = "https://digitalarchive.example.org"
CHANGE_DATE = "2026-11-29"


class SynthError(EditionError):
    """The synthetic edition cannot be written (bad arguments, output folder in the way)."""


@dataclass(frozen=True)
class RegisterSizes:
    persons: int
    places: int
    organisations: int
    events: int

    @property
    def total(self) -> int:
        return self.persons + self.places + self.organisations + self.events


def register_sizes(letters: int) -> RegisterSizes:
    """Registers grow with the letters, but more slowly: 50 + N/10 persons, 30 + N/20 places..."""
    return RegisterSizes(50 + letters // 10, 30 + letters // 20, 20 + letters // 40, 20 + letters // 40)


@dataclass(frozen=True)
class SynthResult:
    root: Path
    letters: int
    sizes: RegisterSizes
    bytes: int           # size of everything written under tei/


# ---------------------------------------------------------------- vocabulary

_GIVEN = (
    "Anna", "Marta", "Jelena", "Ivan", "Tomasz", "Józef", "Henrik", "Ingrid", "Sofia", "Lukas", "Matteo",
    "Clara", "Émile", "Agnes", "Bohdan", "Dragan", "Elif", "Farid", "Greta", "Hana", "Ilse", "Jakub",
    "Katarina", "Leon", "Mira", "Nikola", "Olga", "Pavel", "Rosa", "Stefan", "Teresa", "Umberto", "Vera",
    "Walter", "Xenia", "Yusuf", "Zofia", "Amalia", "Bernard", "Cornelia", "Dmitri", "Edith", "Felix",
    "Gustav", "Helena", "Ida", "Johann", "Karl", "Lidia", "Milan", "Nadia", "Oskar", "Petra", "Rudolf",
    "Sabina", "Tibor", "Ursula", "Vilém", "Wanda", "Zoltán",
)
_SURNAMES = (
    "Kovač", "Novak", "Horvat", "Lindqvist", "Berger", "Moreau", "Rossi", "Nowak", "Dvořák", "Petrović",
    "Anđelić", "Weber", "Fischer", "Schmidt", "Bianchi", "Kowalski", "Ivanov", "Hansen", "Jensen", "Varga",
    "Szabó", "Müller", "Lefèvre", "Costa", "Silva", "Popescu", "Ionescu", "Marković", "Jovanović",
    "Karlsson", "Nielsen", "Bauer", "Keller", "Wolff", "Richter", "Hoffmann", "Laurent", "Fontaine", "Greco",
    "Ferrari", "Esposito", "Mazur", "Wójcik", "Kamiński", "Zieliński", "Krause", "Lang", "Brandt", "Vogel",
    "Haas", "Ortega", "Navarro", "Romero", "Duarte", "Almeida", "Okafor", "Demir", "Yılmaz", "Halloran",
    "O'Brien",
)
_PLACE_HEADS = (
    "Vel", "Kar", "Bren", "Ost", "Mar", "Lun", "Dor", "Sel", "Tam", "Bel", "Gor", "Hal", "Ister", "Kel", "Lor",
    "Mir", "Nor", "Pol", "Rav", "Sar", "Tor", "Val", "Zar", "Ard", "Bran", "Cal", "Dun", "Fel", "Gra", "Hel",
    "Jar", "Kas", "Lin", "Mor", "Nev", "Ors", "Pra", "Ros", "Sten", "Vor",
)
_PLACE_TAILS = (
    "mora", "stad", "ford", "avik", "grad", "heim", "ovo", "ica", "burg", "haven", "dal", "port", "ena",
    "ava", "berg", "inje", "sund", "mark", "ac", "ovec", "field", "wick", "ino", "ara", "esti", "ów", "lund",
    "vár", "is", "by",
)
_COUNTRIES = (
    "Aldoria", "Belmark", "Corvenia", "Dalmora", "Estravia", "Feldland", "Galdonia", "Istrovia", "Jorvland",
    "Kalvania", "Lunavia", "Morvania", "Norsland", "Pravonia", "Rovenia", "Selmark",
)
_FIELDS = ("history", "philology", "botany", "law", "medicine", "chemistry", "economics", "geography")
_ORDINALS = ("First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth", "Tenth")

#: Keyword categories of the edition: id -> (label, topic phrases the prose draws on).
_KEYWORDS = {
    "kw-family": ("Family and friends", ("the health of the family", "the marriage of a niece", "old friends in common")),
    "kw-publishing": ("Publishing and the press", ("the printing of the second volume", "a hostile review in the press", "the terms offered by the publisher")),
    "kw-travel": ("Travel and journeys", ("the journey planned for the spring", "the difficulties of travel in winter", "a visit to the coast")),
    "kw-finance": ("Money and finances", ("the payment of a debt", "the cost of the new building", "a loan from the bank")),
    "kw-politics": ("Politics and government", ("the new government", "the debate in parliament", "the coming elections")),
    "kw-scholarship": ("Scholarly exchange", ("the edition of the old chronicles", "a disputed reading in the manuscript", "the results of the survey")),
    "kw-health": ("Health and illness", ("a long illness", "a cure at the spa", "the epidemic in the city")),
    "kw-books": ("Books and manuscripts", ("the catalogue of the library", "a parcel of books", "the manuscript lent last year")),
    "kw-appointments": ("Appointments and careers", ("the vacant chair", "an appointment at court", "the promotion of a younger colleague")),
    "kw-societies": ("Learned societies and academies", ("the election of new members", "the annual meeting of the society", "the prize question of the academy")),
    "kw-diplomacy": ("Diplomacy and treaties", ("the negotiations over the border", "the exchange of envoys", "the terms of the treaty")),
    "kw-trade": ("Trade and commerce", ("the price of grain", "the new customs tariff", "a shipment held at the port")),
    "kw-unrest": ("War and unrest", ("the unrest in the provinces", "the mobilisation of the reserves", "the strike at the docks")),
    "kw-education": ("Schools and universities", ("the reform of the schools", "the founding of a new faculty", "the examinations")),
    "kw-arts": ("Art, music and the theatre", ("a new opera", "the exhibition of paintings", "the theatre season")),
    "kw-religion": ("Church and religion", ("the quarrel with the bishop", "the consecration of the new church", "a synod")),
}
_PHASE_NAMES = ("Beginnings", "Growing Ties", "Crisis and Distance", "Reconciliation", "Common Projects",
                "Years of Strain", "Late Friendship", "Last Letters")
#: Kinds of item: id -> (label, how the catalogue title opens).
_KINDS = {
    "kind-letter": ("Letter", "Letter from {s} to {r}"),
    "kind-reply": ("Reply", "Reply of {s} to {r}"),
    "kind-message": ("Message (written)", "Message from {s}, {occ}, to {r}"),
    "kind-oral-message": ("Oral message delivered by an envoy", "Oral message of {s} to {r}, delivered by {envoy}"),
    "kind-conversation-record": ("Record of a conversation", "Record of a conversation between {s} and {r}"),
    "kind-covering-note": ("Covering note", "Covering note of {s} to {r}"),
}

# Prose. Slots: S sender, R recipient, P/P2 persons, L/L2 places, O org, E event, D a recent date,
# M a recent month, Y a year, T a topic of the letter, X a link to an earlier item, DX its date,
# DL a date just after the letter's.
_OPENERS = (
    "Writing from {L0} on {D0}, {S} thanks {R} for the news received and turns at once to {T}.",
    "{S} writes to {R} from {L0} on {D0}, chiefly about {T}.",
    "In this letter of {D0}, sent from {L0}, {S} reports to {R} on {T} and on the state of affairs at home.",
)
_OPENERS_NO_PLACE = (
    "{S} writes to {R} on {D0}, chiefly about {T}.",
    "In this letter of {D0} {S} reports to {R} on {T} and on the state of affairs at home.",
)
_SENTENCES = (
    "{S} reports that {P} arrived in {L} in {M} with a commission from the {O}.",
    "The letter dwells at length on {T}, a matter on which the two had corresponded before.",
    "{S} mentions a conversation with {P} about {T}, held in {L} shortly before {D}.",
    "According to {S}, the {O} has still not answered the proposals made in {M}.",
    "{R} is asked to pass on greetings to {P} and to the members of the {O} in {L}.",
    "Much of the second page concerns {E}, which {S} followed closely from {L}.",
    "{S} regrets that {P} could not attend {E} and hopes that a report will reach {L} soon.",
    "The writer expects to travel to {L} in {M} and asks {R} whether a meeting with {P} could be arranged there.",
    "{S} encloses a copy of a letter from {P} and asks for the opinion of {R} on {T}.",
    "News from {L} is mixed: {P} is reported to be ill, and the plans of the {O} remain uncertain.",
    "{S} returns to {T} and insists that nothing should be decided before {E}.",
    "A short passage deals with {P}, whom {S} met in {L} on {D}.",
    "{S} asks {R} to thank {P} for the books sent from {L} and for the kind words about {T}.",
    "The {O} is said to have approved the plan at its meeting of {D}, against the objections of {P}.",
    "{S} comments on the reports about {E} in the newspapers of {L}.",
    "{S} recalls the last meeting with {R} in {L} in {M} and the plans made there.",
    "It was decided, {S} writes, that {P} should represent the {O} at {E}.",
    "{S} complains of delays in the post between {L} and {L2} and asks {R} to write through the {O} in future.",
    "Money matters take up a paragraph: {S} has paid {P} the sum agreed in {M} and awaits the receipt.",
    "The remarks on {T} are cautious; {S} prefers to discuss them with {R} in person.",
    "{P} and {P2} are named as possible intermediaries with the {O}.",
    "The letter ends with greetings from {P} and from the whole household in {L}.",
    "{S} has heard from {P} that the {O} intends to send a delegation to {L} before {E}.",
    "On {T} {S} has little new to say, but promises to write again after {E}.",
    "The winter in {L} has been hard, {S} writes, and {P} has left for {L2} until {M}.",
    "{S} asks whether {R} has seen the account of {E} that {P} published in {Y}.",
)
#: Sentences that name little, so that a regest has the density of names of a real one.
_PLAIN = (
    "The tone of the letter is warm, and much of it is taken up with {T}, which the writer treats at some length and with evident concern.",
    "The writer describes in some detail the difficulties of the past weeks, the delays in the work and the hopes for a better season.",
    "Several lines are given to {T}; here the writer is more guarded and asks that the matter be kept between the two correspondents for the time being.",
    "The letter returns more than once to the question of money, without naming sums, and closes this part with a request for patience.",
    "{S} explains at length why an answer to the last letter was delayed, citing illness in the household and pressure of work.",
    "Much of what follows repeats earlier arguments about {T}, but with a new emphasis on the need for an early decision.",
    "The handwriting changes in the middle of the third page, and the rest of the letter appears to have been written some days later.",
    "There is a short account of a dinner at which {P} spoke about {T} with more warmth than tact.",
)
_SENTENCES_LINKED = (
    "{S} thanks {R} for the letter of {DX} ({X}) and answers its questions one by one.",
    "As in the earlier letter ({X}), {S} returns to {T}.",
    "The proposal made in {X} is taken up again, now with the support of {P}.",
)
_CLOSERS = (
    "The closing paragraph repeats the gratitude of {S} and promises a longer account of {T} in the next letter.",
    "In a postscript {S} adds that {P} will carry the letter to {L} in person.",
    "{S} ends with good wishes to {R} and to the household in {L}.",
)
_NOTES = {
    "identification": (
        "{P} was {OCC}. The identification rests on the mention of {L} in the letter and is probable rather than certain, so the name in the regest carries a medium degree of certainty.",
        "The person called only by the surname in the original is taken to be {P}, {OCC}; {S} names the same person in other letters of these years.",
    ),
    "date": (
        "The letter is dated {D0} in the date line. The postmark of {DL} on the envelope, which survives with the letter, shows that it was posted some days later in {L}.",
        "The date line is damaged; the date {D0} follows the catalogue and agrees with the mention of {E}, which {S} describes as recent.",
    ),
    "source": (
        "The original is kept in the {ARCHIVE} in {ARCHIVE_PLACE} ({COLLECTION}). The translation was contributed by {CONTRIBUTOR} and translated by {TRANSLATOR}.",
        "Only the translation published by the {PUBLISHER} was seen; the original is believed to be among the papers of {S} in the {ARCHIVE}.",
    ),
    "inference": (
        "That {P} carried the letter to {L} is inferred from its closing lines; no receipt has been found among the papers of {R}.",
        "The reference to the {O} is read as a reference to its meeting of {M}, which is the only one {S} could have attended.",
    ),
    "context": (
        "{E} took place in {L} in {M}; {S} had followed the preparations since {Y}, as other letters of the period show.",
        "At the time of writing the {O} was divided over {T}; {P} led the party that opposed any change.",
    ),
    "translation": (
        "The translation by {TRANSLATOR} follows the original closely; names of persons and places are given in their standard forms, here {P} and {L}.",
        "Some terms of the original are rendered freely in the translation by {TRANSLATOR}, for example the title of the {O}.",
    ),
}
#: Notes on the date for letters whose header records conflicting or inferred dates.
_DATE_NOTES = {
    "conflict": (
        "The date line gives {D0}; the catalogue of the archive gives a later date, probably that of registration in {L}. The edition follows the date line and records both.",
    ),
    "bounds": (
        "The letter bears no date. It cannot have been written before {D0}, since it mentions {E} as recent; the upper limit given in the header is an inference of the editors.",
    ),
}
_ABSTRACTS = (
    "{S} writes to {R} about {T} and {T2}.",
    "{S} reports to {R} on {T} and mentions plans for a journey to {L}.",
    "{S} discusses {T} with {R} and passes on news of {P}.",
)
_ABSTRACT_REPLY = "{S} answers the letter of {R} of {DX} and discusses {T}."

#: Occupations as the register gives them; prose puts "a" or "the" before them in lower case.
_OCCUPATIONS = (
    ("a", "Writer and journalist in {city}"), ("a", "Professor of {field} at the University of {city}"),
    ("a", "Diplomat of {country}"), ("a", "Publisher in {city}"), ("a", "Merchant in {city}"),
    ("a", "Physician in {city}"), ("a", "Member of the parliament of {country}"),
    ("the", "Librarian of the {city} Academy"), ("an", "Archivist in {city}"),
    ("an", "Officer in the army of {country}"), ("a", "Painter, living in {city}"), ("the", "Bishop of {city}"),
    ("a", "Teacher at the grammar school of {city}"), ("the", "Minister of Education of {country}"),
    ("an", "Engineer in the service of the railways of {country}"),
)
#: Organisation patterns: (main name, variant or "", description).
_ORG_PATTERNS = (
    ("Ministry of Foreign Affairs of {country}", "Foreign Ministry", "The foreign ministry of {country}, in {city}."),
    ("{city} Academy of Sciences", "Academy", "Learned society in {city}, founded in the eighteenth century."),
    ("University of {city}", "", "University in {city}."),
    ("{city} Chamber of Commerce", "", "Association of the merchants of {city}."),
    ("Society for the History of {country}", "Historical Society", "Learned society with its seat in {city}."),
    ("{city} Gazette", "", "Daily newspaper published in {city}."),
    ("Parliament of {country}", "Diet of {country}", "The assembly of {country}, meeting in {city}."),
    ("{city} Opera", "", "Opera house and company in {city}."),
    ("Railway Company of {country}", "", "The state railway of {country}, administered from {city}."),
    ("{city} Workers' Association", "", "Association of workers in {city}."),
)
_EVENT_PATTERNS = (
    # label, short prose form (may hold the place's markup), date style
    ("{ordinal} annual meeting of the {org}, {city}", "the meeting in {city_xml}", "range"),
    ("Conference on {field}, {city}", "the conference in {city_xml}", "range"),
    ("Elections in {country}", "the elections in {country_xml}", "month"),
    ("Great fire of {city}", "the fire in {city_xml}", "day"),
    ("Treaty of {city}", "the treaty of {city_xml}", "day"),
    ("Exhibition of paintings in {city}", "the exhibition in {city_xml}", "bounds"),
    ("Floods in {country}", "the floods in {country_xml}", "month"),
    ("Strike of the dock workers in {city}", "the strike in {city_xml}", "range"),
    ("Jubilee of the {org}", "the jubilee of the {org_xml}", "day"),
)


# ---------------------------------------------------------------- small helpers

_TRANSLIT = str.maketrans({"đ": "dj", "Đ": "Dj", "ł": "l", "Ł": "L", "ß": "ss", "ø": "o", "æ": "ae", "ı": "i"})
_SLOT = re.compile(r"\{(\w+)\}")
_FIRST_TEXT = re.compile(r"((?:<[^>]*>)*)(.)")


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.translate(_TRANSLIT)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_") or "x"


class _Ids:
    """Register identifiers (slugs of [a-z0-9_]), unique across the edition.

    Letter, note and category ids (syn-000001, syn-000001-n1, kw-travel) hold a hyphen, so
    no slug can take them; only the few plain words the edition itself uses are reserved.
    """

    def __init__(self, reserved: set[str]):
        self.used = set(reserved)

    def new(self, base: str) -> str:
        base = base if base[:1].isalpha() else f"x_{base}"
        candidate = base
        n = 2
        while candidate in self.used:
            candidate = f"{base}_{n}"
            n += 1
        self.used.add(candidate)
        return candidate


class _Template:
    """A sentence with {slots}, split once: literal parts (already escaped) and slot names."""

    def __init__(self, text: str):
        parts = _SLOT.split(text)
        self.literals = [escape(p) for p in parts[0::2]]
        self.slots = parts[1::2]
        self.words = sum(len(p.split()) for p in parts[0::2])

    def fill(self, values: dict[str, tuple[str, int]]) -> tuple[str, int]:
        """-> (markup, word count) from slot -> (markup, word count)."""
        out = [self.literals[0]]
        words = self.words
        for slot, literal in zip(self.slots, self.literals[1:]):
            markup, n = values[slot]
            out.append(markup)
            out.append(literal)
            words += n
        text = "".join(out)
        if not self.literals[0]:                  # a sentence that opens with "the strike in ..."
            m = _FIRST_TEXT.match(text)
            if m and m.group(2).islower():
                text = m.group(1) + m.group(2).upper() + text[m.end():]
        return text, words


def _compile(texts) -> tuple[_Template, ...]:
    return tuple(_Template(t) for t in texts)


_T_OPENERS = _compile(_OPENERS)
_T_OPENERS_NO_PLACE = _compile(_OPENERS_NO_PLACE)
_T_SENTENCES = _compile(_SENTENCES)
_T_PLAIN = _compile(_PLAIN)
_T_LINKED = _compile(_SENTENCES_LINKED)
_T_CLOSERS = _compile(_CLOSERS)
_T_NOTES = {k: _compile(v) for k, v in _NOTES.items()}
_T_DATE_NOTES = {k: _compile(v) for k, v in _DATE_NOTES.items()}
#: Sentences by the kind of entity slot they offer, to place the entries a letter must name.
_SLOT_KIND = {"P": "person", "P2": "person", "L": "place", "L2": "place", "O": "org", "E": "event"}
_T_BY_KIND = {kind: tuple(t for t in _T_SENTENCES if any(_SLOT_KIND.get(s) == kind for s in t.slots))
              for kind in ("person", "place", "org", "event")}


# ---------------------------------------------------------------- the world

#: The element that names an entry of each kind (its register element) in the letters' prose.
_NAME_ELEMENT = {k.element: k.name_element for k in REGISTER_KINDS}


@dataclass
class _Entry:
    kind: str                 # person, place, org, event
    id: str
    name: str                 # main name (label for events)
    short: str = ""           # the form used in prose after the first mention
    variants: tuple[str, ...] = ()
    info: dict = field(default_factory=dict)
    prose_xml: str = ""       # for events: the prose form, markup included
    prose_words: int = 0


@dataclass
class _Letter:
    n: int
    id: str
    day: date
    sender: _Entry
    recipient: _Entry
    place: _Entry | None
    kind: str
    phase: str
    keywords: list[str]
    date_style: str                       # plain, conflict, bounds
    envoy: _Entry | None = None
    archive: _Entry | None = None
    signature: str | None = None
    doc_no: int = 0
    translator: _Entry | None = None
    contributor: _Entry | None = None
    replies_to: int | None = None         # index into the letter list
    replied_by: int | None = None
    forced: list[_Entry] = field(default_factory=list)

    def subtitle(self) -> str:
        return label(self.sender.name, self.recipient.name, self.day.isoformat())


@dataclass
class _World:
    seed: int
    letters: list[_Letter]
    registers: dict[str, list[_Entry]]        # register file word -> entries
    phases: list[tuple[str, str]]             # (id, label)
    principal: _Entry
    publisher: _Entry
    funder: _Entry
    overflow: list[_Entry]                    # entries named in the edition document only
    title: str
    weights: dict[str, tuple[list[_Entry], list[float]]]   # kind -> (entries, cumulative weights)
    events_by_day: tuple[list[int], list[_Entry]]


def _geo(rng: random.Random, lat: float, lon: float, spread: float) -> str:
    la = max(-89.9, min(89.9, lat + rng.uniform(-spread, spread)))
    lo = max(-179.9, min(179.9, lon + rng.uniform(-spread, spread)))
    return f"{la:.4f} {lo:.4f}"


class _Authorities:
    """Authority ids of the right form, never given twice."""

    def __init__(self, rng: random.Random):
        self.rng, self.seen = rng, set()

    def _new(self, lo: int, hi: int, prefix: str = "") -> str:
        while True:
            value = f"{prefix}{self.rng.randint(lo, hi)}"
            if value not in self.seen:
                self.seen.add(value)
                return value

    def wikidata(self) -> str:
        return self._new(1_000, 99_999_999, "Q")

    def viaf(self) -> str:
        return self._new(1_000_000, 999_999_999)

    def geonames(self) -> str:
        return self._new(100_000, 12_000_000)


class _Planner:
    """Draws the world of a synthetic edition, step by step, from one random generator."""

    def __init__(self, letters: int, seed: int, rng: random.Random):
        self.n, self.seed, self.rng = letters, seed, rng
        self.sizes = register_sizes(letters)
        self.ids = _Ids({"edition", "editors", "keywords", "phases", "kinds", *REGISTER_FILES})
        self.auth = _Authorities(rng)

    def plan(self) -> _World:
        self.places()
        self.organisations()
        self.persons()
        self.letters()
        self.mentions()
        self.events()
        self.life_dates()
        rng = self.rng
        weights = {}
        institutional = {self.publisher.id, self.funder.id, *(a.id for a in self.archives)}
        for kind, entries in (("person", self.people), ("place", self.towns + self.countries),
                              ("org", [o for o in self.orgs if o.id not in institutional] or self.orgs)):
            order = entries[:]
            rng.shuffle(order)    # a few entries are named often, most rarely, as in real registers
            weights[kind] = (order, list(itertools.accumulate(1 / (r + 1) ** 0.9 for r in range(len(order)))))
        first, last = self.planned[0].day.year, self.planned[-1].day.year
        years = f"{first}–{last}" if last != first else str(first)
        registers = {"persons": self.people, "places": self.countries + self.towns, "organisations": self.orgs,
                     "events": self.event_list}
        return _World(self.seed, self.planned, registers, self.phases, self.principal, self.publisher, self.funder,
                      self.overflow, f"A Synthetic Correspondence, {years}", weights,
                      ([date.fromisoformat(_pad(_event_key(e))).toordinal() for e in self.event_list], self.event_list))

    # ------------------------------------------------------------ registers
    def places(self) -> None:
        """Countries (places themselves) and towns spread around each country's centre."""
        rng, ids, auth = self.rng, self.ids, self.auth
        self.countries = []
        for name in _COUNTRIES[:min(len(_COUNTRIES), 4 + self.sizes.places // 25)]:
            lat, lon = rng.uniform(-40, 62), rng.uniform(-170, 170)
            e = _Entry("place", ids.new(_slug(name)), name, name,
                       info={"geo": f"{lat:.1f} {lon:.1f}", "geo_cert": "low", "centre": (lat, lon),
                             "note": "Country of the correspondence; the coordinates are an approximate centre."})
            if rng.random() < 0.8:
                e.info["wikidata"] = auth.wikidata()
            self.countries.append(e)
        names = [h + t for h, t in itertools.product(_PLACE_HEADS, _PLACE_TAILS)]
        rng.shuffle(names)
        self.towns = []
        for i in range(self.sizes.places - len(self.countries)):
            name = names[i % len(names)]
            if i >= len(names):
                name = f"{('Upper', 'Lower', 'New', 'Old')[(i // len(names) - 1) % 4]} {name}"
            country = self.countries[i] if i < len(self.countries) else rng.choice(self.countries)
            e = _Entry("place", ids.new(_slug(name)), name, name,
                       info={"country": country, "geo": _geo(rng, *country.info["centre"], 3.0),
                             "note": f"Capital of {country.name}." if i < len(self.countries) else f"Town in {country.name}."})
            if rng.random() < 0.7:
                e.info["wikidata"], e.info["geonames"] = auth.wikidata(), auth.geonames()
            else:
                e.info["geo_cert"] = "low"
            if rng.random() < 0.25:
                e.variants = (name + ("a" if name[-1] not in "aeiou" else "n"),)
            self.towns.append(e)
        self.capital = {c.id: (self.towns[i] if i < len(self.towns) else c) for i, c in enumerate(self.countries)}

    def town(self) -> _Entry:
        return self.rng.choice(self.towns) if self.towns else self.rng.choice(self.countries)

    def _org(self, name: str, base: str, variant: str, note: str, **info) -> _Entry:
        e = _Entry("org", self.ids.new(base), name, variant or name, (variant,) if variant else (),
                   info={"note": note, **info})
        if self.rng.random() < 0.4:
            e.info["wikidata"] = self.auth.wikidata()
        if self.rng.random() < 0.15:
            e.info["viaf"] = self.auth.viaf()
        self.orgs.append(e)
        return e

    def organisations(self) -> None:
        """The publisher of the translations, a funder, a state archive per country, then the rest."""
        rng, limit = self.rng, self.sizes.organisations
        self.orgs = []
        self.publisher = self._org("Digital Archive of European Correspondence", "deac", "DAEC",
                                   "Online archive that publishes English translations of the letters.")
        self.funder = self._org("Halvorsen Foundation", "halvorsen_foundation", "",
                                "Private foundation that funded the translations.")
        self.archives = []
        for c in self.countries[:limit - len(self.orgs)]:
            city = self.capital[c.id]
            abbr = "".join(w[0] for w in f"State Archives of {c.name}".split())
            self.archives.append(self._org(f"State Archives of {c.name} ({abbr})", f"archives_{_slug(c.name)}", abbr,
                                           f"The national archive of {c.name} in {city.name}.", city=city, abbr=abbr))
        patterns = list(itertools.product(range(len(_ORG_PATTERNS)), range(len(self.towns))))
        rng.shuffle(patterns)
        for p, t in patterns[:limit - len(self.orgs)]:
            town = self.towns[t]
            country = town.info["country"]
            main, variant, note = (x.format(city=town.name, country=country.name) for x in _ORG_PATTERNS[p])
            e = self._org(main, _slug(main)[:40].strip("_"), variant, note)
            if rng.random() < 0.3:
                e.info["from"] = str(rng.randint(1700, 1840))
                if rng.random() < 0.3:
                    e.info["to"] = str(rng.randint(1950, 2000))
                if rng.random() < 0.4:
                    e.info["cert"] = "medium"

    def persons(self) -> None:
        """The principal, the other correspondents, translators and contributors, everyone else."""
        rng, ids = self.rng, self.ids
        names = [f"{g} {s}" for g, s in itertools.product(_GIVEN, _SURNAMES)]
        rng.shuffle(names)
        self.people = []
        for i in range(self.sizes.persons):
            name = names[i % len(names)]
            if i >= len(names):               # more persons than name pairs: add a middle initial
                given, surname = name.split(" ", 1)
                name = f"{given} {chr(65 + (i // len(names) - 1) % 26)}. {surname}"
            surname = name.rsplit(" ", 1)[1]
            home = self.town()
            article, pattern = rng.choice(_OCCUPATIONS)
            occupation = pattern.format(city=home.name, country=home.info.get("country", home).name,
                                        field=rng.choice(_FIELDS))
            e = _Entry("person", ids.new(_slug(name)), name, surname,
                       info={"home": home, "occupation": occupation, "role": _role(article, occupation)})
            if rng.random() < 0.2:
                e.variants = (f"{name[0]}. {surname}",)
            if rng.random() < 0.45:
                e.info["wikidata"] = self.auth.wikidata()
                if rng.random() < 0.6:
                    e.info["viaf"] = self.auth.viaf()
            self.people.append(e)
        n_corr = max(2, min(self.sizes.persons // 3, 4 + self.n // 250))
        n_staff = 2 + self.n // 2000
        self.principal = self.people[0]
        self.correspondents = self.people[:n_corr]
        staff = self.people[n_corr:n_corr + n_staff]
        half = max(1, len(staff) // 2)
        self.translators, self.contributors = staff[:half], staff[half:] or staff[:1]
        for p in self.translators:
            p.info["occupation"], p.info["role"] = "Translator", "a translator"
        for p in self.contributors:
            p.info["occupation"] = "Historian; contributed the translations to the online archive"
            p.info["role"] = "a historian who contributed the translations to the online archive"
        self.envoys = self.people[n_corr + n_staff:] or self.correspondents

    # ------------------------------------------------------------ letters
    def letters(self) -> None:
        """Dates, phases, correspondents, kinds, sources, and replies that go the other way."""
        rng, n = self.rng, self.n
        start = date(rng.randint(1850, 1900), 1, 1) + timedelta(days=rng.randrange(365))
        mean_gap = 365.25 * min(60.0, 5 + n / 250) / n       # 30 letters: 5 years; 10,000: 45 years
        days, offset = [], 0.0
        for _ in range(n):
            days.append(start + timedelta(days=int(offset)))
            offset += rng.expovariate(1 / mean_gap)
        self.start, self.end = start, days[-1]
        self.total_days = max(1, (self.end - start).days)
        n_phases = min(len(_PHASE_NAMES), 3 + n // 2000)
        bounds = [start + timedelta(days=self.total_days * k // n_phases) for k in range(1, n_phases)]
        edges = [start, *bounds, self.end]
        self.phases = []
        for k in range(n_phases):
            y0, y1 = edges[k].year, edges[k + 1].year
            self.phases.append((f"phase-{_slug(_PHASE_NAMES[k]).replace('_', '-')}",
                                f"{_PHASE_NAMES[k]}, {y0}–{y1}" if y0 != y1 else f"{_PHASE_NAMES[k]}, {y0}"))
        corr, principal = self.correspondents, self.principal
        archive_of = {p.id: self.archives[i % len(self.archives)] for i, p in enumerate(corr)} if self.archives else {}
        self.planned = []
        unanswered: dict[tuple[str, str], list[int]] = {}
        for i, day in enumerate(days):
            if len(corr) == 2 or rng.random() < 0.7:
                other = rng.choice(corr[1:])
                sender, recipient = (principal, other) if rng.random() < 0.45 else (other, principal)
            else:
                sender, recipient = rng.sample(corr[1:], 2)
            place = None
            if rng.random() < 0.85:
                place = sender.info["home"] if rng.random() < 0.75 else self.town()
            letter = _Letter(
                n=i + 1, id=f"{LETTER_PREFIX}{i + 1:06d}", day=day, sender=sender, recipient=recipient, place=place,
                kind="kind-letter", phase=self.phases[bisect.bisect_right(bounds, day)][0],
                keywords=rng.sample(list(_KEYWORDS), rng.randint(2, 5)),
                date_style=rng.choices(("plain", "conflict", "bounds"), (90, 6, 4))[0],
                doc_no=200_000 + 3 * i + rng.randrange(3),
            )
            waiting = unanswered.get((recipient.id, sender.id))
            if waiting and self.planned[waiting[-1]].day < day and rng.random() < 0.5:
                j = waiting.pop()
                letter.replies_to, self.planned[j].replied_by = j, i
                letter.kind = rng.choices(("kind-reply", "kind-letter", "kind-message"), (70, 20, 10))[0]
            else:
                letter.kind = rng.choices(list(_KINDS), (50, 0, 30, 7, 7, 6))[0]
            if letter.kind == "kind-oral-message":
                letter.envoy = rng.choice(self.envoys)
            if self.archives:
                letter.archive = archive_of[sender.id]
                if rng.random() < 0.6:
                    letter.signature = f"{letter.archive.info['abbr']} {rng.randint(1, 120)}/{rng.randint(1, 900)}"
            if rng.random() < 0.8:
                letter.translator = rng.choice(self.translators)
                if rng.random() < 0.5:
                    letter.contributor = rng.choice(self.contributors)
            self.planned.append(letter)
            queue = unanswered.setdefault((sender.id, recipient.id), [])
            queue.append(i)
            if len(queue) > 8:
                queue.pop(0)

    def mentions(self) -> None:
        """Place every entry the headers do not name in the text of some letter (at most 6 a letter);
        whatever is left over is named in the edition document."""
        named = {self.principal.id, self.publisher.id, self.funder.id}
        for letter in self.planned:
            named.update(x.id for x in (letter.sender, letter.recipient, letter.place, letter.envoy, letter.archive,
                                        letter.translator, letter.contributor) if x is not None)
        self.event_list = [_Entry("event", "", "") for _ in range(self.sizes.events)]   # drawn once placed
        pool = [e for e in (*self.people, *self.countries, *self.towns, *self.orgs) if e.id not in named]
        pool += self.event_list
        self.rng.shuffle(pool)
        capacity = 6 * self.n
        for k, entry in enumerate(pool[:capacity]):
            self.planned[k % self.n].forced.append(entry)
        self.overflow = pool[capacity:]

    def events(self) -> None:
        """Each event is dated shortly before the letter that must name it."""
        rng = self.rng
        home = {id(e): letter for letter in self.planned for e in letter.forced if e.kind == "event"}
        for e in self.event_list:
            letter = home.get(id(e))
            anchor = letter.day if letter else self.start + timedelta(days=rng.randrange(self.total_days + 1))
            label, prose, style = rng.choice(_EVENT_PATTERNS)
            town = self.town()
            country = town.info.get("country", town)
            org = rng.choice(self.orgs)
            e.name = label.format(ordinal=rng.choice(_ORDINALS), city=town.name, country=country.name, org=org.name,
                                  field=rng.choice(_FIELDS))
            e.prose_xml = prose.format(
                city_xml=f'<placeName ref="#{town.id}">{escape(town.name)}</placeName>',
                country_xml=f'<placeName ref="#{country.id}">{escape(country.name)}</placeName>',
                org_xml=f'<orgName ref="#{org.id}">{escape(org.name)}</orgName>')
            e.short = re.sub(r"<[^>]+>", "", e.prose_xml)
            e.prose_words = len(e.short.split())
            when = anchor - timedelta(days=rng.randint(3, 150))
            if style == "range":
                e.info["from"] = when.isoformat()
                e.info["to"] = (when + timedelta(days=rng.randint(1, 5))).isoformat()
            elif style == "month":
                e.info["when"] = when.isoformat()[:7]
            elif style == "bounds":
                e.info["notBefore"] = when.isoformat()[:7]
                e.info["notAfter"] = (when + timedelta(days=rng.randint(40, 120))).isoformat()[:7]
            else:
                e.info["when"] = when.isoformat()
            if rng.random() < 0.3:
                e.info["cert"] = "medium"
            e.info["note"] = "Named in the correspondence; the dates follow the letters that mention it."
            e.id = self.ids.new(f"{_slug(e.short.removeprefix('the '))}_{when.year}")
        self.event_list.sort(key=lambda e: (_event_key(e), e.id))

    def life_dates(self) -> None:
        """Most persons have life dates; correspondents outlive their letters."""
        rng = self.rng
        last_year = {p.id: self.start.year for p in self.people}
        for letter in self.planned:
            for p in (letter.sender, letter.recipient):
                last_year[p.id] = max(last_year[p.id], letter.day.year)
        correspondents = {p.id for p in self.correspondents}
        for p in self.people:
            if rng.random() < 0.75:
                birth = self.start.year - rng.randint(15, 60)
                death = max(birth + rng.randint(40, 90), last_year[p.id] + rng.randint(0, 12))
                p.info["birth"], p.info["death"] = str(birth), str(death)
                if rng.random() < 0.15:
                    p.info["life_cert"] = "medium"
            home = p.info["home"].name
            p.info["note"] = (f"One of the correspondents of the edition; lived in {home}." if p.id in correspondents
                              else f"Named in the letters; lived in {home} for most of the period.")


def _role(article: str, occupation: str) -> str:
    """'Merchant in Velmora' -> 'a merchant in Velmora'."""
    return f"{article} {occupation[0].lower()}{occupation[1:]}"


def _event_key(e: _Entry) -> str:
    return e.info.get("when") or e.info.get("from") or e.info.get("notBefore") or ""


def _pad(iso: str) -> str:
    return iso + "-01" * (2 - iso.count("-"))


# ---------------------------------------------------------------- prose

class _Prose:
    """Fills the slots of sentence templates for one letter, with markup and word counts."""

    def __init__(self, world: _World, letter: _Letter, rng: random.Random):
        self.world, self.letter, self.rng = world, letter, rng
        self.seen: set[str] = set()
        self.doubtful: _Entry | None = None
        self.mentions = 0
        self.forced = list(letter.forced)
        # a small cast, so that the letter names some entries more than once, as real letters do
        self.cast = {kind: self._draw(kind, 3) for kind in ("person", "place", "org")}
        self.cast["event"] = self._events_near(letter.day, 3)
        self.topics = [t for k in letter.keywords for t in _KEYWORDS[k][1]]

    def _draw(self, kind: str, k: int) -> list[_Entry]:
        entries, cum = self.world.weights[kind]
        return self.rng.choices(entries, cum_weights=cum, k=k) if entries else []

    def _events_near(self, day: date, k: int) -> list[_Entry]:
        ordinals, events = self.world.events_by_day
        if not events:
            return []
        i = bisect.bisect_right(ordinals, day.toordinal())
        lo, hi = max(0, i - 4), max(1, i)
        return [events[self.rng.randrange(lo, hi)] for _ in range(k)]

    def pick(self, kind: str) -> _Entry:
        for n, entry in enumerate(self.forced):
            if entry.kind == kind:
                return self.forced.pop(n)
        return self.rng.choice(self.cast[kind]) if self.cast[kind] else self._draw(kind, 1)[0]

    def name(self, entry: _Entry) -> tuple[str, int]:
        self.mentions += 1
        if entry.kind == "event":
            self.mentions += 1                    # the place or organisation inside
            return f'<rs type="event" ref="#{entry.id}">{entry.prose_xml}</rs>', entry.prose_words
        text = entry.short if entry.id in self.seen else entry.name
        self.seen.add(entry.id)
        element = _NAME_ELEMENT[entry.kind]
        cert = ""
        if entry is self.doubtful:
            cert, self.doubtful = ' cert="medium"', None
        return f'<{element} ref="#{entry.id}"{cert}>{escape(text)}</{element}>', len(text.split())

    def date(self, iso: str) -> tuple[str, int]:
        self.mentions += 1
        text = human_date(iso)
        return f'<date when="{iso}">{text}</date>', len(text.split())

    def recent(self, days: int = 120) -> date:
        return self.letter.day - timedelta(days=self.rng.randint(1, days))

    def values(self, template: _Template, extra: dict[str, tuple[str, int]]) -> dict[str, tuple[str, int]]:
        out = dict(extra)
        chosen: set[str] = set()
        for slot in template.slots:
            if slot in out:
                continue
            if slot == "S":
                out[slot] = self.name(self.letter.sender)
            elif slot == "R":
                out[slot] = self.name(self.letter.recipient)
            elif slot in _SLOT_KIND:
                entry = self.pick(_SLOT_KIND[slot])
                if entry.id in chosen:            # "{L} and {L2}": two different places
                    entry = next((c for c in self.cast[entry.kind] if c.id not in chosen), entry)
                chosen.add(entry.id)
                out[slot] = self.name(entry)
            elif slot == "D":
                out[slot] = self.date(self.recent().isoformat())
            elif slot == "DL":
                out[slot] = self.date((self.letter.day + timedelta(days=self.rng.randint(2, 12))).isoformat())
            elif slot == "M":
                out[slot] = self.date(self.recent(200).isoformat()[:7])
            elif slot == "Y":
                out[slot] = self.date(str(self.recent(700).year))
            elif slot in ("T", "T2"):
                topic = self.rng.choice(self.topics)
                out[slot] = (escape(topic), len(topic.split()))
            else:
                raise KeyError(f"no value for slot {{{slot}}}")
        return out


def _regest(world: _World, letter: _Letter, prose: _Prose, rng: random.Random) -> list[str]:
    """Paragraphs of the regest: 150-250 words, 10-40 names and dates, the letter's forced entries."""
    target = rng.randint(145, 205)         # the closing sentence adds some 15 words
    sentences: list[str] = []
    used: set[_Template] = set()
    words = 0

    def choose(templates: tuple[_Template, ...]) -> _Template:
        t = rng.choice([t for t in templates if t not in used] or templates)
        used.add(t)
        return t

    def add(t: _Template, fixed: dict[str, tuple[str, int]], at: int | None = None) -> None:
        nonlocal words
        text, n = t.fill(prose.values(t, fixed))
        sentences.insert(len(sentences) if at is None else at, text)
        words += n

    fixed = {"D0": prose.date(letter.day.isoformat())}
    if letter.place is not None:
        fixed["L0"] = prose.name(letter.place)
    add(choose(_T_OPENERS if letter.place is not None else _T_OPENERS_NO_PLACE), fixed)
    linked = letter.replies_to
    if linked is None and letter.n > 1:           # the previous item, if it went between the same two
        prev = world.letters[letter.n - 2]
        if {prev.sender.id, prev.recipient.id} == {letter.sender.id, letter.recipient.id}:
            linked = prev.n - 1
    if linked is not None and rng.random() < 0.6:
        other = world.letters[linked]
        t = choose(_T_LINKED)
        fixed = {"X": (f'<ref target="#{other.id}">item {other.n}</ref>', 2)}
        if "DX" in t.slots:
            fixed["DX"] = prose.date(other.day.isoformat())
        add(t, fixed)
    while (words < target or prose.forced) and prose.mentions < 26:
        pending = next((e.kind for e in prose.forced), None)
        if pending:
            add(choose(_T_BY_KIND[pending]), {})
        else:
            add(choose(_T_PLAIN if rng.random() < 0.3 else _T_SENTENCES), {})
    while words < target:
        add(choose(_T_PLAIN), {})
    while prose.forced:                           # still owed when the names ran out: one short sentence each
        markup, _ = prose.name(prose.forced.pop(0))
        sentences.append(f"The letter also names {markup}.")
    add(choose(_T_CLOSERS), {})
    while prose.mentions < 10:
        add(choose(_T_SENTENCES), {}, at=len(sentences) - 1)
    cut = sorted(rng.sample(range(1, len(sentences)), min(len(sentences) - 1, rng.randint(1, 2))))
    return [" ".join(sentences[a:b]) for a, b in zip([0, *cut], [*cut, len(sentences)])]


def _notes(world: _World, letter: _Letter, prose: _Prose, types: list[str], rng: random.Random) -> list[str]:
    out = []
    archive = letter.archive
    for k, kind in enumerate(types, 1):
        if kind == "date" and letter.date_style in _T_DATE_NOTES:
            t = rng.choice(_T_DATE_NOTES[letter.date_style])
        else:
            t = rng.choice(_T_NOTES[kind])
        slots = set(t.slots)
        extra: dict[str, tuple[str, int]] = {}
        if "D0" in slots:
            extra["D0"] = prose.date(letter.day.isoformat())
        if "OCC" in slots:
            person = prose.pick("person")
            role = person.info["role"]
            extra["P"] = prose.name(person)
            extra["OCC"] = (escape(role), len(role.split()))
        if slots & {"ARCHIVE", "ARCHIVE_PLACE", "COLLECTION"}:
            if archive is not None:
                extra["ARCHIVE"] = prose.name(archive)
                extra["ARCHIVE_PLACE"] = prose.name(archive.info["city"])
                collection = f"papers of {letter.sender.name}" + (f", {letter.signature}" if letter.signature else "")
                extra["COLLECTION"] = (escape(collection), len(collection.split()))
            else:
                extra["ARCHIVE"] = ("archive that holds the papers", 5)
                extra["ARCHIVE_PLACE"] = ("a place not recorded", 4)
                extra["COLLECTION"] = ("no signature", 2)
        for slot, person in (("TRANSLATOR", letter.translator), ("CONTRIBUTOR", letter.contributor or letter.translator)):
            if slot in slots:
                extra[slot] = prose.name(person) if person is not None else ("an unnamed translator", 3)
        if "PUBLISHER" in slots:
            extra["PUBLISHER"] = prose.name(world.publisher)
        text, _ = t.fill(prose.values(t, extra))
        out.append(f'<note type="{kind}" xml:id="{letter.id}-n{k}">{text}</note>')
    return out


# ---------------------------------------------------------------- writers

_XML_MODEL = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<?xml-model href="{up}schema/tei-edition.rng" type="application/xml" schematypens="http://relaxng.org/ns/structure/1.0"?>\n'
    '<?xml-model href="{up}schema/tei-edition.sch" type="application/xml" schematypens="http://purl.oclc.org/dsdl/schematron"?>\n'
)
_LICENCE = ('<licence target="https://creativecommons.org/licenses/by/4.0/">Creative Commons Attribution 4.0 '
            'International (CC BY 4.0)</licence>')
_PUBLISHER = "The tei-edition project (synthetic data)"
_EDITORS = "The tei-edition editorial team"


def _full(entry: _Entry) -> str:
    element = _NAME_ELEMENT[entry.kind]
    return f'<{element} ref="#{entry.id}">{escape(entry.name)}</{element}>'


def _letter_xml(world: _World, letter: _Letter, rng: random.Random) -> str:
    s, r = letter.sender, letter.recipient
    kind_title = _KINDS[letter.kind][1].format(
        s=s.name, r=r.name, occ=s.info["role"],
        envoy=letter.envoy.name if letter.envoy else "")
    main_title = escape(kind_title)
    subtitle = escape(letter.subtitle())
    iso = letter.day.isoformat()
    note_types = rng.sample(("identification", "date", "source", "inference", "context", "translation"),
                            rng.randint(2, 5))
    if "source" not in note_types and rng.random() < 0.7:
        note_types[0] = "source"
    prose = _Prose(world, letter, rng)
    if "identification" in note_types and prose.cast["person"]:
        prose.doubtful = prose.cast["person"][0]
    regest = _regest(world, letter, prose, rng)
    notes = _notes(world, letter, prose, note_types, rng)

    out = [_XML_MODEL.format(up="../../"),
           f'<TEI xmlns="{TEI_NS}" xml:id="{letter.id}" xml:lang="en">\n',
           "  <teiHeader>\n    <fileDesc>\n      <titleStmt>\n",
           f'        <title type="main">{main_title}</title>\n',
           f'        <title type="sub">{subtitle}</title>\n',
           f'        <editor ref="#editors">{_EDITORS}</editor>\n',
           "        <funder>No external funding</funder>\n      </titleStmt>\n",
           '      <editionStmt>\n        <edition n="1.0">First digital edition</edition>\n      </editionStmt>\n',
           f"      <publicationStmt>\n        <publisher>{_PUBLISHER}</publisher>\n",
           '        <date when="2026">2026</date>\n',
           f"        <availability>\n          {_LICENCE}\n        </availability>\n",
           f'        <idno type="URI">{BASE_URL}letters/{letter.id}.html</idno>\n      </publicationStmt>\n',
           "      <sourceDesc>\n"]
    if letter.archive is not None:
        a = letter.archive
        city = a.info["city"]
        country = city.info.get("country", city)
        cert = "" if letter.signature else ' cert="low"'
        out += ["        <msDesc>\n          <msIdentifier>\n",
                f"            <country{cert}>{escape(country.name)}</country>\n",
                f"            <settlement{cert}>{escape(city.name)}</settlement>\n",
                f'            <repository ref="#{a.id}"{cert}>{escape(a.name)}</repository>\n',
                f"            <collection{cert}>Papers of {escape(s.name)}</collection>\n"]
        if letter.signature:
            out.append(f'            <idno type="signature">{escape(letter.signature)}</idno>\n')
        out.append("          </msIdentifier>\n        </msDesc>\n")
    url = f"{ARCHIVE_URL}/document/{letter.doc_no}"
    out += ['        <bibl type="translation">\n', f"          <title>{main_title}</title>\n"]
    for resp, person in (("contributed by", letter.contributor), ("translated by", letter.translator)):
        if person is not None:
            out.append(f"          <respStmt>\n            <resp>{resp}</resp>\n"
                       f"            {_full(person)}\n          </respStmt>\n")
    out += [f'          <publisher ref="#{world.publisher.id}">{escape(world.publisher.name)}</publisher>\n',
            f'          <ref type="canonical" target="{url}">{url}</ref>\n']
    if rng.random() < 0.3:
        listing = f"{ARCHIVE_URL}/topics/{world.principal.id.replace('_', '-')}-correspondence"
        out.append(f'          <ref type="listing" target="{listing}">{listing}</ref>\n')
    out += [f"          <note>English translation; the archive credits funding from the "
            f'<orgName ref="#{world.funder.id}">{escape(world.funder.name)}</orgName>.</note>\n',
            "        </bibl>\n      </sourceDesc>\n    </fileDesc>\n",
            '    <encodingDesc>\n      <p>Encoded following the editorial principles of the edition (see <ref '
            'target="#edition">the edition document</ref>). The body holds an editorial regest and commentary, '
            "not a transcription.</p>\n    </encodingDesc>\n",
            '    <profileDesc>\n      <correspDesc>\n        <correspAction type="sent">\n',
            f"          {_full(s)}\n"]
    if letter.place is not None:
        out.append(f"          {_full(letter.place)}\n")
    if letter.date_style == "conflict":
        later = (letter.day + timedelta(days=rng.randint(1, 20))).isoformat()
        out += [f'          <date type="dateline" when="{iso}" cert="high">{human_date(iso)} (date line)</date>\n',
                f'          <date type="catalogue" when="{later}" cert="medium">{human_date(later)} (catalogue)</date>\n']
    elif letter.date_style == "bounds":
        after = (letter.day + timedelta(days=rng.randint(5, 40))).isoformat()
        out.append(f'          <date type="inferred" notBefore="{iso}" notAfter="{after}" cert="medium">'
                   f"between {human_date(iso)} and {human_date(after)} (inferred)</date>\n")
    else:
        out.append(f'          <date when="{iso}">{human_date(iso)}</date>\n')
    out.append("        </correspAction>\n")
    if letter.envoy is not None:
        out.append(f'        <correspAction type="transmitted">\n          {_full(letter.envoy)}\n'
                   "        </correspAction>\n")
    out.append(f'        <correspAction type="received">\n          {_full(r)}\n        </correspAction>\n')
    links = []
    if letter.n > 1:
        links.append(("prev", world.letters[letter.n - 2]))
    if letter.n < len(world.letters):
        links.append(("next", world.letters[letter.n]))
    if letter.replies_to is not None:
        links.append(("repliesTo", world.letters[letter.replies_to]))
    if letter.replied_by is not None:
        links.append(("repliedBy", world.letters[letter.replied_by]))
    if links:
        out.append("        <correspContext>\n")
        out += [f'          <ref type="{kind}" target="#{other.id}">{escape(other.subtitle())}</ref>\n'
                for kind, other in links]
        out.append("        </correspContext>\n")
    topics = [_KEYWORDS[k][1][0] for k in letter.keywords[:2]]
    if letter.replies_to is not None:
        abstract = _ABSTRACT_REPLY.format(S=s.name, R=r.name, T=topics[0],
                                          DX=human_date(world.letters[letter.replies_to].day.isoformat()))
    else:
        abstract = rng.choice(_ABSTRACTS).format(S=s.name, R=r.name, T=topics[0], T2=topics[-1],
                                                 L=(letter.place or s.info["home"]).name,
                                                 P=prose.cast["person"][0].name if prose.cast["person"] else r.name)
    out += ["      </correspDesc>\n",
            '      <langUsage>\n        <language ident="en">English (editorial text)</language>\n      </langUsage>\n',
            f"      <abstract>\n        <p>{escape(abstract)}</p>\n      </abstract>\n",
            '      <textClass>\n        <keywords scheme="#keywords">\n']
    out += [f'          <term ref="#{k}">{escape(_KEYWORDS[k][0])}</term>\n' for k in letter.keywords]
    out += ["        </keywords>\n",
            f'        <catRef scheme="#phases" target="#{letter.phase}"/>\n',
            f'        <catRef scheme="#kinds" target="#{letter.kind}"/>\n',
            "      </textClass>\n    </profileDesc>\n",
            f'    <revisionDesc>\n      <change when="{CHANGE_DATE}" who="#editors">Generated by edition.synth '
            f"(seed {world.seed}).</change>\n    </revisionDesc>\n",
            "  </teiHeader>\n  <text>\n    <body>\n      <div type=\"regest\">\n        <head>Regest</head>\n"]
    out += [f"        <p>{p}</p>\n" for p in regest]
    out += ['      </div>\n      <div type="commentary">\n        <head>Commentary</head>\n']
    out += [f"        {n}\n" for n in notes]
    out.append("      </div>\n    </body>\n  </text>\n</TEI>\n")
    return "".join(out)


def _register_header(xml_id: str, title: str, source: str) -> str:
    return (_XML_MODEL.format(up="../../") +
            f'<TEI xmlns="{TEI_NS}" xml:id="{xml_id}" xml:lang="en">\n'
            "  <teiHeader>\n    <fileDesc>\n      <titleStmt>\n"
            f'        <title type="main">{title}</title>\n'
            f'        <editor ref="#editors">{_EDITORS}</editor>\n      </titleStmt>\n'
            f"      <publicationStmt>\n        <publisher>{_PUBLISHER}</publisher>\n"
            f"        <availability>\n          {_LICENCE}\n        </availability>\n      </publicationStmt>\n"
            f"      <sourceDesc>\n        <p>{source}</p>\n      </sourceDesc>\n    </fileDesc>\n"
            f'    <revisionDesc>\n      <change when="{CHANGE_DATE}" who="#editors">First version of the register.</change>\n'
            "    </revisionDesc>\n  </teiHeader>\n  <text>\n    <body>\n")


def _idnos(entry: _Entry, indent: str) -> list[str]:
    return [f'{indent}<idno type="{t}">{entry.info[t]}</idno>\n' for t in ("wikidata", "viaf", "geonames")
            if t in entry.info]


def _named_entry(e: _Entry, details: list[str], name_attrs: str = "") -> str:
    """A register entry with main and variant names, its own `details` lines, authority ids and a note."""
    i = " " * 10
    element, name_element = e.kind, _NAME_ELEMENT[e.kind]
    out = [f'        <{element} xml:id="{e.id}">\n',
           f'{i}<{name_element} type="main"{name_attrs}>{escape(e.name)}</{name_element}>\n']
    out += [f'{i}<{name_element} type="variant">{escape(v)}</{name_element}>\n' for v in e.variants]
    out += details
    out += _idnos(e, i)
    out += [f"{i}<note>{escape(e.info['note'])}</note>\n", f"        </{element}>\n"]
    return "".join(out)


def _person_xml(e: _Entry) -> str:
    i = " " * 10
    cert = f' cert="{e.info["life_cert"]}"' if "life_cert" in e.info else ""
    details = [f'{i}<birth when="{e.info["birth"]}"{cert}/>\n', f'{i}<death when="{e.info["death"]}"{cert}/>\n'] \
        if "birth" in e.info else []
    details.append(f"{i}<occupation>{escape(e.info['occupation'])}</occupation>\n")
    return _named_entry(e, details)


def _place_xml(e: _Entry) -> str:
    i = " " * 10
    details = [f"{i}<country>{escape(e.info['country'].name)}</country>\n"] if "country" in e.info else []
    cert = f' cert="{e.info["geo_cert"]}"' if "geo_cert" in e.info else ""
    details.append(f"{i}<location>\n{i}  <geo{cert}>{e.info['geo']}</geo>\n{i}</location>\n")
    return _named_entry(e, details)


def _org_xml(e: _Entry) -> str:
    dates = "".join(f' {a}="{e.info[a]}"' for a in ("from", "to", "cert") if a in e.info)
    return _named_entry(e, [], dates)


def _event_xml(e: _Entry) -> str:
    i = " " * 10
    dates = "".join(f' {a}="{e.info[a]}"' for a in ("when", "from", "to", "notBefore", "notAfter", "cert")
                    if a in e.info)
    return (f'        <event xml:id="{e.id}"{dates}>\n{i}<label>{escape(e.name)}</label>\n'
            f"{i}<note>{escape(e.info['note'])}</note>\n        </event>\n")


#: register file word -> (list element, title, writer of one entry)
_REGISTERS = {
    "persons": ("listPerson", "Register of persons", _person_xml),
    "places": ("listPlace", "Register of places", _place_xml),
    "organisations": ("listOrg", "Register of organisations", _org_xml),
    "events": ("listEvent", "Register of events", _event_xml),
}


def _register_xml(key: str, entries: list[_Entry]) -> str:
    element, title, entry_xml = _REGISTERS[key]
    source = ("Generated by edition.synth; the names, dates and authority identifiers are invented "
              "and only have the form of real ones.")
    body = "".join(entry_xml(e) for e in sorted(entries, key=lambda e: e.id))
    return (_register_header(key, title, source) + f"      <{element}>\n{body}      </{element}>\n"
            "    </body>\n  </text>\n</TEI>\n")


def _edition_xml(world: _World) -> str:
    letters = world.letters
    principal = world.principal
    first, last = letters[0], letters[-1]
    categories = []
    for tax, items in (("keywords", [(k, v[0]) for k, v in _KEYWORDS.items()]), ("phases", world.phases),
                       ("kinds", [(k, v[0]) for k, v in _KINDS.items()])):
        cats = "".join(f'          <category xml:id="{cid}">\n            <catDesc>{escape(label)}</catDesc>\n'
                       "          </category>\n" for cid, label in items)
        categories.append(f'        <taxonomy xml:id="{tax}">\n{cats}        </taxonomy>\n')
    partners = sorted({l.recipient.id: l.recipient for l in letters if l.sender is principal}.values(),
                      key=lambda e: e.id)[:5]
    intro = [f"<p>This synthetic edition gathers {_items(len(letters))} of the correspondence of "
             f"{_full(principal)} from <date when=\"{first.day.isoformat()}\">{human_date(first.day.isoformat())}</date> "
             f"to <date when=\"{last.day.isoformat()}\">{human_date(last.day.isoformat())}</date>. "
             + (f"Among the correspondents are {', '.join(_full(p) for p in partners)}. " if partners else "")
             + "The names, places and events are invented; the encoding follows the real edition.</p>"]
    phases = []
    by_phase: dict[str, list[_Letter]] = {}
    for l in letters:
        by_phase.setdefault(l.phase, []).append(l)
    for pid, phase_label in world.phases:
        items = by_phase.get(pid)
        if not items:
            continue
        a, b = items[0], items[-1]
        phases.append(f'        <div type="phase" corresp="#{pid}">\n          <head>{escape(phase_label)}</head>\n'
                      f"          <p>The phase opens with <ref target=\"#{a.id}\">item {a.n}</ref>, from "
                      f"{_full(a.sender)} to {_full(a.recipient)}, and closes with <ref target=\"#{b.id}\">item "
                      f"{b.n}</ref>; it holds {_items(len(items))}.</p>\n        </div>\n")
    if world.overflow:
        named = ", ".join(_full(e) if e.kind != "event" else f'<rs type="event" ref="#{e.id}">{e.prose_xml}</rs>'
                          for e in world.overflow)
        intro.append(f"<p>The registers also name {named}.</p>")
    intro_xml = "".join(f"        {p}\n" for p in intro)
    return (_XML_MODEL.format(up="../") +
            f'<TEI xmlns="{TEI_NS}" xml:id="edition" xml:lang="en">\n'
            "  <teiHeader>\n    <fileDesc>\n      <titleStmt>\n"
            f'        <title type="main">{escape(world.title)}</title>\n'
            f'        <editor xml:id="editors">{_EDITORS}</editor>\n'
            "        <funder>No external funding</funder>\n      </titleStmt>\n"
            '      <editionStmt>\n        <edition n="1.0">First digital edition</edition>\n      </editionStmt>\n'
            f"      <publicationStmt>\n        <publisher>{_PUBLISHER}</publisher>\n"
            '        <date when="2026">2026</date>\n'
            f"        <availability>\n          {_LICENCE}\n        </availability>\n"
            f'        <idno type="URI">{BASE_URL}</idno>\n      </publicationStmt>\n'
            "      <sourceDesc>\n        <p>Generated by edition.synth from a random seed "
            f"({world.seed}); no source was consulted.</p>\n      </sourceDesc>\n    </fileDesc>\n"
            "    <encodingDesc>\n      <projectDesc>\n        <p>A synthetic edition for measuring the "
            "toolkit on large corpora: realistic in size and markup, invented in content.</p>\n"
            "      </projectDesc>\n      <editorialDecl>\n        <p>Each item has a full header, a regest "
            "and a commentary of typed notes, as in the real edition.</p>\n      </editorialDecl>\n"
            f"      <classDecl>\n{''.join(categories)}      </classDecl>\n    </encodingDesc>\n"
            f'    <revisionDesc>\n      <change when="{CHANGE_DATE}" who="#editors">Generated by edition.synth.</change>\n'
            "    </revisionDesc>\n  </teiHeader>\n  <text>\n    <body>\n"
            f'      <div type="introduction">\n        <head>Introduction</head>\n{intro_xml}{"".join(phases)}'
            "      </div>\n      <div type=\"principles\">\n        <head>Editorial principles</head>\n"
            "        <p>Persons, places, organisations and events are marked up wherever the editorial text "
            "names them and point to entries in four registers; dates are given in ISO form.</p>\n"
            "      </div>\n    </body>\n  </text>\n</TEI>\n")


def _items(n: int) -> str:
    return "one item" if n == 1 else f"{n} items"


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def synthesize(out: Path, letters: int, seed: int = 0, odd: Path | None = None) -> SynthResult:
    """Write a complete synthetic edition of `letters` letters into the folder `out`.

    `out` must not exist or be empty. The project schema (`odd`, default: the toolkit's own)
    is copied into out/schema with its compiled RELAX NG and Schematron, so the folder stands
    alone. The same `seed` gives the same bytes.
    """
    if letters < 1:
        raise SynthError(f"the number of letters must be at least 1, not {letters}")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise SynthError("the output folder exists and is not empty", out)
    odd = Path(odd) if odd is not None else packaged_odd()
    rng = random.Random(seed)
    world = _Planner(letters, seed, rng).plan()
    tei_dir = out / "tei"
    (tei_dir / "letters").mkdir(parents=True, exist_ok=True)
    (tei_dir / "registers").mkdir(parents=True, exist_ok=True)
    schema_dir = out / "schema"
    schema_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(odd, schema_dir / "tei-edition.odd")
    SchemaFiles(schema_dir / "tei-edition.odd").write()

    written = 0

    def write(path: Path, text: str) -> None:
        nonlocal written
        data = text.encode("utf-8")
        path.write_bytes(data)
        written += len(data)

    for letter in world.letters:
        write(tei_dir / "letters" / f"{letter.id}.xml", _letter_xml(world, letter, rng))
    for key, entries in world.registers.items():
        write(tei_dir / "registers" / f"{key}.xml", _register_xml(key, entries))
    write(tei_dir / "edition.xml", _edition_xml(world))
    (out / "edition.toml").write_text(
        "[edition]\n"
        f"title = {_toml_string(world.title)}\n"
        'tei = "tei"\n'
        'schema = "schema/tei-edition.odd"\n'
        'build = "build"\n'
        f'base-url = "{BASE_URL}"\n', encoding="utf-8", newline="\n")
    return SynthResult(out, letters, register_sizes(letters), written)
