"""Rendering of alerts, digests and operator messages from Jinja2 template files.

Every message is rendered four ways (subject, plain text, Slack mrkdwn, HTML) from
`<name>.<format>.j2` files. Operators override any file by putting a same-named file in
`templates_dir`; files they do not override come from the package. HTML templates are
autoescaped; mrkdwn output escapes `&`, `<`, `>` through the `mrkdwn` filter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import jinja2

AlertKind = Literal["added", "removed", "modified", "news", "test"]

PACKAGE_TEMPLATES = Path(__file__).resolve().parent / "templates"

_HEADLINES: Mapping[str, str] = {
    "added": "ADDED to",
    "removed": "REMOVED from",
    "modified": "CHANGED on",
    "news": "NEWS from",
    "test": "TEST via",
}


@dataclass(frozen=True, kw_only=True)
class AlertEvent:
    """One matched change (or news item) as a subscriber hears about it; `id` is the
    idempotency key of the outbox row."""

    id: str
    kind: AlertKind
    source: str
    list_code: str
    list_name: str
    key: str
    name: str
    aliases: tuple[str, ...] = ()
    programs: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    field_changes: tuple[Mapping[str, Any], ...] = ()
    matches: tuple[Mapping[str, Any], ...] = ()
    source_url: str | None = None
    effective_date: str | None = None
    detected_at: datetime
    remarks: str | None = None
    publication_date: str | None = None  # Federal Register: (scheduled) publication day


@dataclass(frozen=True)
class OperatorEvent:
    """Something operators must know about the watcher itself; never sent to subscribers."""

    kind: str
    source: str
    title: str
    detail: str
    occurred_at: datetime


@dataclass(frozen=True)
class Rendered:
    """One message in every format a channel may want."""

    title: str
    text: str
    markdown: str
    html: str


def mrkdwn_escape(value: object) -> str:
    """Escape the three characters Slack mrkdwn treats as control characters."""
    text = "" if value is None else str(value)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mrkdwn_link(url: str | None, label: object = None) -> str:
    """A Slack `<url|label>` link; `|` and `>` cannot appear inside, so they are escaped."""
    if not url:
        return mrkdwn_escape(label)
    safe_url = url.replace("|", "%7C").replace(">", "%3E").replace(" ", "%20")
    if label is None:
        return f"<{safe_url}>"
    return f"<{safe_url}|{mrkdwn_escape(label).replace('|', '¦')}>"


def format_time(value: datetime) -> str:
    """UTC, minute precision: what a reader needs, without seconds noise."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_score(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


@lru_cache(maxsize=16)
def _environment(templates_dir: str | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if templates_dir is not None:
        loaders.append(jinja2.FileSystemLoader(templates_dir))
    loaders.append(jinja2.FileSystemLoader(str(PACKAGE_TEMPLATES)))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["mrkdwn"] = mrkdwn_escape
    env.filters["mrkdwn_link"] = mrkdwn_link
    env.filters["when"] = format_time
    env.filters["score"] = format_score
    return env


def _render_all(
    name: str, context: Mapping[str, Any], templates_dir: str | Path | None
) -> Rendered:
    env = _environment(None if templates_dir is None else str(templates_dir))
    parts = {
        fmt: env.get_template(f"{name}.{fmt}.j2").render(context).strip()
        for fmt in ("subject", "txt", "md", "html")
    }
    title = " ".join(parts["subject"].split())  # a subject is one line, whatever the template
    return Rendered(
        title=title, text=parts["txt"] + "\n", markdown=parts["md"], html=parts["html"] + "\n"
    )


def _field_change(change: Mapping[str, Any]) -> dict[str, Any]:
    """Normalize both shapes ({added, removed} for sets, {before, after} for values)."""
    is_set = "added" in change or "removed" in change
    return {
        "field": str(change.get("field", "?")),
        "is_set": is_set,
        "added": [str(v) for v in change.get("added") or ()],
        "removed": [str(v) for v in change.get("removed") or ()],
        "before": change.get("before"),
        "after": change.get("after"),
    }


def _event_context(event: AlertEvent) -> dict[str, Any]:
    matches = sorted(event.matches, key=lambda m: -_score_key(m.get("score")))
    headline = f"{_HEADLINES.get(event.kind, event.kind.upper())} {event.list_name}"
    stage = next((c for c in event.field_changes if c.get("field") == "stage"), None)
    note = None
    if stage is not None:
        headline, note = _stage_note(event, headline, stage)
    return {
        "event": event,
        "headline": headline,
        "stage_note": note,
        "matches": [_match(m) for m in matches],
        "top_watch": str(matches[0].get("watch", "")) if matches else None,
        "field_changes": [
            _field_change(c) for c in event.field_changes if c.get("field") != "stage"
        ],
    }


def _stage_note(
    event: AlertEvent, headline: str, stage: Mapping[str, Any]
) -> tuple[str, str | None]:
    """Headline and note of a Federal Register action seen on public inspection (or after)."""
    day = event.publication_date or "(date not given)"
    before, after = stage.get("before"), stage.get("after")
    if after == "public_inspection":
        return f"SCHEDULED: {headline}", (
            f"On public inspection: scheduled for publication in the Federal Register on {day}."
            " Read from the agency's manuscript; the citation is a placeholder until then."
        )
    if after == "withdrawn":
        return f"WITHDRAWN before publication: {event.list_name}", (
            f"Withdrawn: the document left public inspection and was not published as "
            f"scheduled for {day}. The action announced earlier is not in effect."
        )
    if after == "dropped at publication":
        return f"DROPPED at publication: {event.list_name}", (
            "Dropped at publication: this entry was in the public-inspection version but not "
            f"in the rule published on {day}."
        )
    if before == "public_inspection":
        return f"CHANGED AT PUBLICATION on {event.list_name}", (
            f"Published on {day} differently from the public-inspection version (see What changed)."
        )
    if after == "published":
        return f"{headline} (new at publication)", (
            f"Published on {day}: this entry was not in the public-inspection version."
        )
    return headline, None


def _match(match: Mapping[str, Any]) -> dict[str, Any]:
    """Every key present, so templates never trip over a missing one."""
    return {
        "watch": str(match.get("watch") or "?"),
        "score": match.get("score"),
        "method": str(match.get("method") or "?"),
        "matched_name": match.get("matched_name"),
        "reason": match.get("reason"),
    }


def _score_key(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def render_alert(event: AlertEvent, templates_dir: str | Path | None = None) -> Rendered:
    """Render one immediate alert: what happened, to whom, why it matched, where to check."""
    return _render_all("alert", _event_context(event), templates_dir)


def render_digest(
    events: Sequence[AlertEvent], period_label: str, templates_dir: str | Path | None = None
) -> Rendered:
    """Render one digest message covering several alerts of a period, oldest first."""
    ordered = sorted(events, key=lambda e: (format_time(e.detected_at), e.id))
    counts: dict[str, int] = {}
    for event in ordered:
        counts[event.kind] = counts.get(event.kind, 0) + 1
    context = {
        "period_label": period_label,
        "items": [_event_context(e) for e in ordered],
        "counts": counts,
        "total": len(ordered),
    }
    return _render_all("digest", context, templates_dir)


def render_operator(event: OperatorEvent, templates_dir: str | Path | None = None) -> Rendered:
    """Render an operator alert (rejected snapshot, failing/stale source, dead alerts ...)."""
    return _render_all("operator", {"event": event}, templates_dir)
