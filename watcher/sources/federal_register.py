"""Federal Register: BIS and OFAC documents (incl. public inspection) and Entity List actions.

A fetch is a window of the newest documents (mode "incremental"): page 1 of documents.json,
further pages until a page reaches documents already stored, the public-inspection documents
of the day, and the full-text XML of each Entity List rule whose actions are not stored yet.

Keys: a document is keyed by its normalized document number, so a public-inspection record and
the published document are one entry (publication shows up as a modification: the link). Each
entity action of a rule is an entry of its own (list code EL) keyed
`{document}:{action}:{country}:{name}`.

Public inspection: each Entity List document on the public-inspection list (BIS or OFAC, title
or abstract naming the Entity List) has its PDF fetched (`pdf:{number}`, cache-buster dropped)
and read as the agency's manuscript (`entity_list.manuscript`); its actions carry `raw.stage =
"public_inspection"` under the keys the published XML will use, and `_fr_stages` reconciles the
two at publication. `pi_pdf = false` turns the PDFs off.

`cfr_references` is not a query condition: the API ANDs conditions, which would drop every
OFAC document; it only widens which documents count as Entity List rules.
"""

from __future__ import annotations

import codecs
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from watcher.entity_list.actions import EntityAction, Extraction, extract
from watcher.entity_list.manuscript import extract_manuscript
from watcher.entity_list.pdf_text import is_pdf, pdf_text
from watcher.errors import ParseError
from watcher.models import Address, Change, Entry, ParseResult, make_entry
from watcher.sources import _fr_api as api
from watcher.sources import _fr_stages as stages
from watcher.sources.base import FetchPlan, Source
from watcher.sources.options import OPTION_KEYS

DEFAULT_AGENCIES = ("industry-and-security-bureau", "foreign-assets-control-office")
DEFAULT_CFR_REFERENCES = ("15 CFR 744",)
FULLTEXT = "fulltext:"
PDF = "pdf:"
# A marker the pipeline adds to the known keys (`linking.follow_hints`): this document's actions
# are known only from public inspection, so its published full text is still wanted.
AWAITING = ":awaiting-publication"
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class FederalRegister(Source):
    name = "federal_register"
    default_url = "https://www.federalregister.gov/api/v1/documents.json"
    mode = "incremental"
    text_lists = frozenset({"FR"})  # the rule itself; its entity actions (EL) are parties
    option_keys: ClassVar[Mapping[str, object]] = OPTION_KEYS["federal_register"]

    @property
    def agencies(self) -> list[str]:
        return [str(a) for a in self.options.get("agencies", DEFAULT_AGENCIES)]

    def plan(self, url: str, companions: Sequence[str]) -> FetchPlan:
        """documents.json for the configured agencies, plus today's public inspection."""
        per_page = int(self.options.get("per_page", 100))
        files = [("primary", api.documents_url(url, self.agencies, per_page))]
        if self.options.get("public_inspection", True):
            files.append(("public_inspection", api.public_inspection_url(url)))
        return FetchPlan(tuple(files))

    def follow(
        self, name: str, url: str, content: bytes, known_keys: frozenset[str]
    ) -> list[tuple[str, str]]:
        """Full texts of new Entity List rules, then the next page unless it is all known."""
        if name.startswith((FULLTEXT, PDF)):
            return []
        try:
            data = api.load_page(content, name)
            records = api.page_records(data, name)
        except ParseError:
            return []  # parse() reports it; nothing sensible to follow
        out = self._full_texts(records, known_keys) + self._pdfs(records, known_keys)
        next_url = data.get("next_page_url")
        page = _page_number(name)
        max_pages = int(self.options.get("max_pages", 20))
        if (
            isinstance(next_url, str)
            and next_url
            and records
            and page < max_pages
            and not api.reached_known(records, known_keys)
        ):
            prefix = "pi_page" if name.startswith(("public_inspection", "pi_page")) else "page"
            out.append((f"{prefix}:{page + 1}", next_url))
        return out

    def _full_texts(
        self, records: Sequence[Mapping[str, Any]], known_keys: frozenset[str]
    ) -> list[tuple[str, str]]:
        if not self.options.get("fetch_full_text", True):
            return []
        # A rule counts as done once any of its actions is stored (PI records share the
        # document key, so the document key alone says nothing about the full text).
        awaiting = {k[: -len(AWAITING)] for k in known_keys if k.endswith(AWAITING)}
        done = {k.split(":", 1)[0] for k in known_keys if ":" in k} - awaiting
        out = []
        for record in records:
            key = api.doc_key(record)
            if key in done or api.is_public_inspection(record) or not self._is_rule(record):
                continue
            url = api.full_text_url(record)
            if url:
                out.append((f"{FULLTEXT}{key}", url))
        return out

    def _pdfs(
        self, records: Sequence[Mapping[str, Any]], known_keys: frozenset[str]
    ) -> list[tuple[str, str]]:
        """Public-inspection PDFs of Entity List documents whose actions are not stored yet."""
        if not (self.options.get("pi_pdf", True) and self.options.get("fetch_full_text", True)):
            return []
        done = {k.split(":", 1)[0] for k in known_keys if ":" in k}
        out = []
        for record in records:
            key = api.doc_key(record)
            url = record.get("pdf_url") or record.get("public_inspection_pdf_url")
            if key in done or not api.is_public_inspection(record) or not isinstance(url, str):
                continue
            if api.concerns_lists(record, self.agencies):
                out.append((f"{PDF}{key}", api.strip_cache_buster(url)))
        return out

    def optional(self, name: str) -> bool:
        """A public-inspection PDF that fails is fetched again next poll; the poll goes on."""
        return name.startswith(PDF)

    def reconcile_window(
        self, old: Mapping[str, Entry], new: Mapping[str, Entry], changes: list[Change]
    ) -> list[Change]:
        """Public-inspection actions reconciled with the published ones (`_fr_stages`)."""
        read = bool(self.options.get("public_inspection", True))
        return stages.diff_stages(old, new, changes, pi_list_read=read)

    def alertable(self, change: Change) -> bool:
        return stages.alertable(change)

    def _is_rule(self, record: Mapping[str, Any]) -> bool:
        if api.is_entity_list_rule(record):
            return True
        wanted = {
            " ".join(str(c).split()).casefold()
            for c in self.options.get("cfr_references", DEFAULT_CFR_REFERENCES)
        }
        refs = record.get("cfr_references") or []
        cited = {f"{r.get('title')} cfr {r.get('part')}" for r in refs if isinstance(r, dict)}
        return bool(wanted & cited) and "entit" in str(record.get("title") or "").casefold()

    def digest(self, files: Mapping[str, bytes]) -> str:
        """Hash of the parsed JSON without cache-busters, view counters or trailing spaces."""
        h = hashlib.sha256()
        for name in sorted(files):
            blob = files[name]
            if not name.startswith((FULLTEXT, PDF)):
                try:
                    data = api.canonical(json.loads(blob))
                    blob = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
                except (ValueError, UnicodeDecodeError):
                    pass
            h.update(name.encode() + b"\0" + hashlib.sha256(blob).digest())
        return h.hexdigest()

    def parse(self, files: Mapping[str, bytes]) -> ParseResult:
        """Documents (published and public inspection) and the actions of fetched full texts."""
        records: dict[str, dict[str, Any]] = {}
        full_texts: dict[str, bytes] = {}
        pdfs: dict[str, bytes] = {}
        for name in sorted(files):
            if name.startswith(FULLTEXT):
                full_texts[name[len(FULLTEXT) :]] = files[name]
                continue
            if name.startswith(PDF):
                pdfs[name[len(PDF) :]] = files[name]
                continue
            for record in api.page_records(api.load_page(files[name], name), name):
                self._collect(records, api.canonical(record))
        entries = [document_entry(r) for r in records.values()]
        warnings: list[str] = []
        actions: dict[str, list[dict[str, Any]]] = {}
        unread: dict[str, str] = {}  # document -> why no action was read from its text
        texts = [*sorted(full_texts.items()), *sorted(pdfs.items())]
        for number, content in texts:
            if number in actions:  # published in the same poll: the XML is the authority
                continue
            doc_entries, doc_actions, problem = _action_entries(
                number, content, records.get(number), warnings
            )
            entries += doc_entries
            actions[number] = doc_actions
            if problem and api.is_entity_list_rule(records.get(number) or {}):
                unread[number] = problem  # not OFAC's: only BIS rules carry entity actions
        published = [r.get("publication_date") for r in records.values() if not r["_pi"]]
        return ParseResult(
            entries=tuple(entries),
            published_at=_date(max((p for p in published if p), default=None)),
            warnings=tuple(warnings),
            extras={"entity_actions": actions, "unread_texts": unread},
        )

    def _collect(self, records: dict[str, dict[str, Any]], record: dict[str, Any]) -> None:
        """Add one record; the published document wins over its public-inspection record."""
        key = api.doc_key(record)
        pi = api.is_public_inspection(record)
        if pi and self.agencies and not set(api.agency_slugs(record)) & set(self.agencies):
            return
        record["_pi"] = pi
        old = records.get(key)
        if old is None or (old["_pi"] and not pi):
            if old is not None and old.get("filed_at"):
                record.setdefault("filed_at", old["filed_at"])
            records[key] = record
        elif pi and not old["_pi"] and record.get("filed_at"):
            old.setdefault("filed_at", record["filed_at"])


def document_entry(record: Mapping[str, Any]) -> Entry:
    """One Federal Register document (or public-inspection record) as an entry."""
    key = api.doc_key(record)
    filed_at = api.utc_timestamp(record.get("filed_at"))
    return make_entry(
        source=FederalRegister.name,
        key=key,
        list_code="FR",
        name=str(record.get("title") or record.get("toc_doc") or key),
        entity_type="document",
        citations=[record.get("citation")],
        dates={
            "publication_date": str(record.get("publication_date") or ""),
            "effective_on": str(record.get("effective_on") or ""),
            "filed_at": filed_at or "",
        },
        raw={
            "type": record.get("type"),
            "abstract": record.get("abstract"),
            "action": record.get("action"),
            "dates_text": record.get("dates"),
            "html_url": record.get("html_url"),
            "pdf_url": record.get("pdf_url"),
            "full_text_xml_url": record.get("full_text_xml_url"),
            "agencies": api.agency_slugs(record),
            "cfr_references": _cfr_references(record),
            "correction_of": record.get("correction_of"),
            "public_inspection": bool(record.get("_pi")),
            "filed_at": filed_at,
            "entity_list_rule": api.is_entity_list_rule(record),
        },
    )


def action_entry(action: EntityAction, record: Mapping[str, Any] | None) -> Entry:
    """One entity action of a rule as an EL entry, linked to its document."""
    record = record or {}
    addresses = [Address(address=a, country=action.country) for a in action.addresses]
    cites = [action.federal_register_citation] if action.federal_register_citation else []
    return make_entry(
        source=FederalRegister.name,
        key=action.key(),
        list_code="EL",
        name=action.name,
        aliases=action.aliases,
        addresses=addresses or [Address(country=action.country or None)],
        citations=cites or list(action.citations),
        dates={
            "effective": action.effective_date or "",
            "publication_date": str(record.get("publication_date") or ""),
        },
        raw={
            "action": action.action,
            "stage": action.stage,
            "country": action.country,
            "document_number": action.document_number,
            "document_title": record.get("title"),
            "license_requirement": action.license_requirement,
            "license_policy": action.license_policy,
            "table_citation": action.citation,
            "html_url": record.get("html_url"),
            "pdf_url": record.get("pdf_url") if action.stage == stages.PI else None,
            "effective_date": action.effective_date,
        },
    )


def _action_entries(
    number: str, content: bytes, record: Mapping[str, Any] | None, warnings: list[str]
) -> tuple[list[Entry], list[dict[str, Any]], str | None]:
    """A broken full text is a warning, not a rejected fetch: it is fetched again next poll.
    The third value says why no action was read (operators hear of it: its entries would
    reach no subscriber), None when some were."""
    record = record or {}
    try:
        result = read_actions(content, number, record)
    except ParseError as exc:
        problem = f"full text of {number}: {exc}"
        warnings.append(problem)
        return [], [], problem
    warnings.extend(f"{number}: {w}" for w in result.warnings)
    good = [a for a in result.actions if a.name]
    if not good:
        problem = f"{number}: no entity actions found in the full text"
        warnings.append(problem)
        return [], [], problem
    return [action_entry(a, record) for a in good], [a.to_dict() for a in good], None


def read_actions(content: bytes, number: str | None, record: Mapping[str, Any]) -> Extraction:
    """A published XML full text, a public-inspection PDF, or the text of one (`.txt`)."""
    if is_pdf(content) or not _is_xml(content):
        text = pdf_text(content) if is_pdf(content) else content.decode("utf-8", "replace")
        return extract_manuscript(
            text,
            document_number=number,
            publication_date=record.get("publication_date"),
            effective_date=record.get("effective_on"),
        )
    return extract(
        content,
        document_number=number,
        citation=record.get("citation"),
        effective_date=record.get("effective_on"),
        publication_date=record.get("publication_date"),
    )


def _is_xml(content: bytes) -> bool:
    """Markup, also behind a UTF-8 or UTF-16 byte-order mark (else the XML would be read as a
    manuscript's text, and its markup taken for entity names)."""
    head = content[:256]
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return head[len(bom) :].decode(codec, "ignore").lstrip().startswith("<")
    return head.lstrip().startswith(b"<")


def _cfr_references(record: Mapping[str, Any]) -> list[str]:
    refs = record.get("cfr_references") or []
    return sorted({f"{r.get('title')} CFR {r.get('part')}" for r in refs if isinstance(r, dict)})


def _page_number(name: str) -> int:
    tail = name.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else 1


def _date(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC) if value else None
    except ValueError:
        return None
