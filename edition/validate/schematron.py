"""ISO Schematron, evaluated as compiled XPath.

lxml's isoschematron runs the skeleton XSLT and reports each failure with an XPath
location that has to be mapped back to a line. Here every rule context and assertion is
compiled once, evaluated directly on the parsed tree, and the failing element is at hand,
with its line. The subset covers what the project ODD uses: sch:ns, sch:pattern (the
first matching rule of a pattern wins, as the standard says), sch:rule with sch:let,
sch:assert, sch:report, and sch:value-of / sch:name in messages.

Most documents break no rule, so every document is first screened with one XPath evaluation
(`Schematron.screen`): "is there any element in a rule context on which some check fails?"
Only when it says yes is the document checked rule by rule, pattern by pattern, which finds
the failures with their messages. The screen may say yes for a clean document (it ignores
that the first matching rule of a pattern wins, and it does not screen rules with sch:let),
never no for a document with a failure.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ..diagnostics import SchemaError
from ..tei import SCH_NS, Source, local_name, read_xml, XMLInputError

_S = {"sch": SCH_NS}


def _split_top(expr: str, separator: str) -> list[str]:
    """Split an XPath pattern on `separator` where it stands outside brackets, parentheses and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(expr):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == separator and depth == 0:
            parts.append(expr[start:i])
            start = i + 1
    parts.append(expr[start:])
    return parts


def _split_union(pattern: str) -> list[str]:
    """The branches of an XSLT pattern ('a | b')."""
    return [p.strip() for p in _split_top(pattern, "|")]


def _split_steps(path: str) -> list[str]:
    """The steps of a location path ('a/b[c/d]' -> 'a', 'b[c/d]')."""
    return _split_top(path, "/")


@dataclass
class Match:
    """One branch of a rule context, as a test on a candidate element.

    `name` is the element name of the last step (Clark notation; None for '*'), and `test`
    an XPath that tells whether the candidate matches the whole pattern (None: the name suffices).
    'a/b[p]' becomes self::b[p][parent::a]; '/a' becomes self::a[not(parent::*)].
    """

    name: str | None
    test: etree.XPath | None
    select: etree.XPath | None = None     # for a wildcard step: the XPath that finds the candidates


def _compile_match(branch: str, namespaces: dict[str, str]) -> Match:
    absolute = branch.startswith("/")
    steps = _split_steps(branch[1:] if absolute else branch)
    if any(not s or s.startswith(".") or "::" in s for s in steps):
        raise SchemaError(f"rule context {branch!r}: only child steps (a/b[...]) are supported")
    last = steps[-1]
    bare = last.split("[", 1)[0]
    name = None
    if bare not in ("*", "node()") and not bare.endswith(":*"):
        prefix, _, local = bare.rpartition(":")
        name = f"{{{namespaces[prefix]}}}{local}" if prefix else local
    # the chain of ancestors, innermost (the first step) first
    chain = "[not(parent::*)]" if absolute else ""
    for step in steps[:-1]:
        chain = f"[parent::{step}{chain}]"
    expr = f"self::{last}{chain}"
    if name is None and not absolute and len(steps) == 1:
        # tei:*[@target]: let XPath find the few candidates instead of testing every element
        return Match(None, None, etree.XPath(f"//{last}", namespaces=namespaces))
    needs_test = absolute or len(steps) > 1 or "[" in last or name is None
    return Match(name, etree.XPath(f"boolean({expr})", namespaces=namespaces) if needs_test else None)


#: A predicate that only asks for an attribute: [@name].
_HAS_ATTRIBUTE = re.compile(r"\[\s*@([\w.-]+(?::[\w.-]+)?)\s*\]")
#: Tests that depend on the context position cannot be screened inside a predicate.
_POSITIONAL = re.compile(r"\b(?:position|last)\s*\(")


def _screen_branch(branch: str, namespaces: dict[str, str], variable) -> str | None:
    """The elements a rule-context branch matches, as an XPath node-set for the screen (see Schematron).

    A named last step takes its candidates from a variable (the elements of that name, which
    `failures` gathers anyway), filtered as _compile_match filters them; None: not screenable.
    """
    absolute = branch.startswith("/")
    steps = _split_steps(branch[1:] if absolute else branch)
    last = steps[-1]
    bare = last.split("[", 1)[0]
    chain = "[not(parent::*)]" if absolute else ""
    for step in steps[:-1]:
        chain = f"[parent::{step}{chain}]"
    if bare in ("*", "node()") or bare.endswith(":*"):
        if not absolute and len(steps) == 1:
            attribute = _HAS_ATTRIBUTE.fullmatch(last[len(bare):])
            if attribute and bare != "node()":
                # tei:*[@target]: the same elements as //tei:*[@target], found from the attributes
                return f"(//@{attribute.group(1)}/parent::{bare})"
            return f"(//{last})"                        # as Match.select finds them
        return f"(/descendant::*)[self::{last}{chain}]"  # as the walk over every element does
    prefix, _, local = bare.rpartition(":")
    name = f"{{{namespaces[prefix]}}}{local}" if prefix else local
    needs_test = absolute or len(steps) > 1 or "[" in last
    return f"${variable(name)}" + (f"[self::{last}{chain}]" if needs_test else "")


@dataclass
class Check:
    kind: str                      # "assert" or "report"
    test: etree.XPath
    message: list                  # str pieces and ("value-of", XPath) / ("name",) items
    role: str


@dataclass
class Rule:
    matches: list[Match]
    lets: list[tuple[str, etree.XPath]]
    checks: list[Check]
    #: true when any check of the rule fails: one evaluation per node in the common, clean case
    any_fails: etree.XPath | None = None


@dataclass
class Pattern:
    ident: str
    rules: list[Rule]


@dataclass
class Failure:
    pattern: str
    element: etree._Element
    message: str
    level: str


class Schematron:
    """A compiled Schematron schema."""

    def __init__(self, path: Path):
        self.path = path
        try:
            src = read_xml(path, require_tei=False)
        except XMLInputError as exc:
            raise SchemaError(f"cannot read the Schematron: {exc.message}", path, exc.line) from None
        root = src.root
        self.namespaces = {ns.get("prefix"): ns.get("uri") for ns in root.iterfind("sch:ns", _S)}
        #: element name (Clark) -> the XPath variable that holds a document's elements of that name
        self._variables: dict[str, str] = {}
        self._screens: list[str | None] = []
        self.patterns = [self._pattern(p) for p in root.iterfind("sch:pattern", _S)]
        self.names = sorted({m.name for p in self.patterns for r in p.rules for m in r.matches if m.name}
                            | set(self._variables))
        self.screen = self._compile_screen()

    def _variable(self, name: str) -> str:
        return self._variables.setdefault(name, f"_screen_{len(self._variables)}")

    def _compile_screen(self) -> etree.XPath | None:
        """One XPath that is true when some element in a rule context fails some check (or may)."""
        if not self._screens or None in self._screens:
            return None
        try:
            return etree.XPath(f"boolean({' | '.join(self._screens)})", namespaces=self.namespaces)
        except etree.XPathSyntaxError:
            return None     # then every document is checked rule by rule

    def _xpath(self, expr: str, node: etree._Element) -> etree.XPath:
        try:
            return etree.XPath(expr, namespaces=self.namespaces)
        except etree.XPathSyntaxError as exc:
            raise SchemaError(f"bad XPath {expr!r}: {exc}", self.path, node.sourceline) from None

    def _pattern(self, p: etree._Element) -> Pattern:
        rules = []
        for r in p.iterfind("sch:rule", _S):
            lets = [(l.get("name"), self._xpath(l.get("value"), l)) for l in r.iterfind("sch:let", _S)]
            checks = []
            for c in r:
                kind = local_name(c.tag)
                if kind not in ("assert", "report"):
                    continue
                pieces: list = [c.text or ""]
                for part in c:
                    name = local_name(part.tag)
                    if name == "value-of":
                        pieces.append(("value-of", self._xpath(f"string({part.get('select')})", part)))
                    elif name == "name":
                        pieces.append(("name",))
                    pieces.append(part.tail or "")
                role = (c.get("role") or "error").lower()
                checks.append(Check(kind, self._xpath(f"boolean({c.get('test')})", c), pieces,
                                    "warning" if role in ("warning", "warn", "info") else "error"))
            try:
                matches = [_compile_match(b, self.namespaces) for b in _split_union(r.get("context"))]
            except (etree.XPathSyntaxError, KeyError) as exc:
                raise SchemaError(f"bad rule context {r.get('context')!r}: {exc}", self.path, r.sourceline) from None
            # what makes each check fail: for the rule as a whole, and for the screen
            fails = [f"not({c.get('test')})" if local_name(c.tag) == "assert" else f"boolean({c.get('test')})"
                     for c in r if local_name(c.tag) in ("assert", "report")]
            any_fails = self._xpath(f"boolean({' or '.join(fails)})", r) if len(fails) > 1 else None
            rules.append(Rule(matches, lets, checks, any_fails))
            # the screen: this rule's context elements on which a check fails; with sch:let or a
            # positional test, all its context elements (the rule-by-rule pass decides)
            if not fails:
                continue    # a rule without checks fails nowhere
            screened = not lets and not any(_POSITIONAL.search(f) for f in fails)
            predicate = f"[{' or '.join(fails)}]" if screened else ""
            for branch in _split_union(r.get("context")):
                candidates = _screen_branch(branch, self.namespaces, self._variable)
                self._screens.append(None if candidates is None else candidates + predicate)
        return Pattern(p.get("id") or "schematron", rules)

    def failures(self, tree: etree._ElementTree) -> list[Failure]:
        root = tree.getroot()
        # one pass over the document, in C: the elements the rules name, by name, in document order
        by_name: dict[str, list[etree._Element]] = {}
        for el in root.iter(*self.names):
            by_name.setdefault(el.tag, []).append(el)
        if self.screen is not None and not self._might_fail(tree, by_name):
            return []
        order: dict[int, int] | None = None
        out: list[Failure] = []
        for pattern in self.patterns:
            fired: set = set()
            for rule in pattern.rules:
                nodes: list[etree._Element] = []
                for match in rule.matches:
                    if match.select is not None:
                        nodes.extend(match.select(tree))
                    elif match.name is None:
                        nodes.extend(n for n in root.iter() if isinstance(n.tag, str) and match.test(n))
                    else:
                        candidates = by_name.get(match.name, ())
                        nodes.extend(candidates if match.test is None else [n for n in candidates if match.test(n)])
                if len(rule.matches) > 1 and len(nodes) > 1:
                    if order is None:
                        order = {id(n): i for i, n in enumerate(root.iter())}
                    nodes = sorted(set(nodes), key=lambda n: order[id(n)])
                for node in nodes:
                    if node in fired:
                        continue
                    fired.add(node)
                    variables = {name: xp(node) for name, xp in rule.lets}
                    if rule.any_fails is not None and not rule.any_fails(node, **variables):
                        continue
                    for check in rule.checks:
                        result = check.test(node, **variables)
                        if (check.kind == "assert" and not result) or (check.kind == "report" and result):
                            out.append(Failure(pattern.ident, node, self._message(check, node, variables), check.role))
        return out

    def _might_fail(self, tree: etree._ElementTree, by_name: dict[str, list[etree._Element]]) -> bool:
        try:
            return self.screen(tree, **{variable: by_name.get(name, ()) for name, variable in self._variables.items()})
        except etree.XPathEvalError:
            return True     # let the rule-by-rule pass meet the error where it would anyway

    @staticmethod
    def _message(check: Check, node: etree._Element, variables: dict) -> str:
        text = []
        for piece in check.message:
            if isinstance(piece, str):
                text.append(piece)
            elif piece[0] == "value-of":
                text.append(piece[1](node, **variables))
            else:
                text.append(local_name(node.tag))
        return " ".join("".join(text).split())


def check(schematron: Schematron, source: Source, reporter) -> None:
    for f in schematron.failures(source.tree):
        line = f.element.sourceline or 0
        reporter.add(f.level, f.pattern, f.message, source.path, line, source.column_of(f.element))
