"""Core tables (private to the store), all on one `metadata`. Alembic migrations in
migrations/ are generated from these, and tests/store/test_documents.py holds them equal.

SQLAlchemy Core, not the ORM: a listing command's start-up has no room for `sqlalchemy.orm`
(~45 ms) and declarative class building (~25 ms), and the store returns dataclasses anyway.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out, also on SQLite (which drops the offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Id = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER only

metadata = MetaData(naming_convention=NAMING)


def _id() -> Column[int]:
    return Column("id", Id, primary_key=True, autoincrement=True)


def _when(name: str, *, nullable: bool = False) -> Column[datetime]:
    return Column(name, UtcDateTime(), nullable=nullable)


SOURCE_STATE = Table(
    "source_state",
    metadata,
    Column("source", String(64), primary_key=True),
    _when("last_check_at", nullable=True),
    _when("last_success_at", nullable=True),
    Column("validators", JSON, nullable=False, default=dict),  # url -> etag/lm
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("failing_alerted", Boolean, nullable=False, default=False),
)

CHECKS = Table(
    "checks",
    metadata,
    _id(),
    Column("source", String(64), nullable=False, index=True),
    _when("started_at"),
    Column("duration_ms", Integer, nullable=False, default=0),
    Column("http_status", Integer),
    Column("bytes", BigInteger, nullable=False, default=0),
    Column("outcome", String(16), nullable=False),
    Column("error", Text),
    Column("snapshot_id", ForeignKey("snapshots.id")),
    Column("changes", Integer, nullable=False, default=0),
)

SNAPSHOTS = Table(
    "snapshots",
    metadata,
    _id(),
    Column("source", String(64), nullable=False),
    _when("fetched_at"),
    _when("published_at", nullable=True),
    _when("effective_at"),
    Column("sha256", String(64), nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("raw_size", BigInteger, nullable=False, default=0),
    Column("files", JSON, nullable=False, default=list),  # name, url, status, etag ...
    Column("record_count", Integer, nullable=False, default=0),
    Column("status", String(16), nullable=False),
    Column("reason", Text),
    Column("warnings", JSON, nullable=False, default=list),
    Column("origin", String(16), nullable=False, default="poll"),  # poll / replay / backfill
    Index("ix_snapshots_source_effective", "source", "effective_at"),
)

ENTRY_VERSIONS = Table(
    "entry_versions",
    metadata,
    _id(),
    Column("source", String(64), nullable=False),
    Column("key", String(512), nullable=False),
    Column("list_code", String(16), nullable=False),
    Column("name", Text, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("data", JSON, nullable=False),
    Column("valid_from_snapshot", ForeignKey("snapshots.id"), nullable=False),
    Column("valid_to_snapshot", ForeignKey("snapshots.id")),
    Index("ix_entry_versions_source_key", "source", "key"),
    Index("ix_entry_versions_source_to", "source", "valid_to_snapshot"),
    # A list as of a date (store/entries.py): its order, and its spans for the count.
    Index("ix_entry_versions_listing", "source", "list_code", "name", "key"),
    Index("ix_entry_versions_span", "source", "valid_from_snapshot", "valid_to_snapshot"),
)

CHANGES = Table(
    "changes",
    metadata,
    _id(),
    Column("source", String(64), nullable=False, index=True),
    Column("snapshot_id", ForeignKey("snapshots.id"), nullable=False, index=True),
    Column("key", String(512), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("list_code", String(16), nullable=False),
    Column("name", Text, nullable=False),
    Column("before_version_id", ForeignKey("entry_versions.id")),
    Column("after_version_id", ForeignKey("entry_versions.id")),
    Column("field_changes", JSON, nullable=False, default=list),
    Column("detected_at", UtcDateTime(), nullable=False, index=True),
    _when("effective_at"),
    Column("source_url", Text),
)

WATCH_ENTITIES = Table(
    "watch_entities",
    metadata,
    _id(),
    Column("name", String(512), nullable=False, unique=True),
    Column("aliases", JSON, nullable=False, default=list),
    Column("tags", JSON, nullable=False, default=list),
    Column("country", String(64)),
    Column("entity_type", String(32)),
    Column("notes", Text),
    Column("origin", String(16), nullable=False, default="cli"),  # config / default / cli
)

MATCHES = Table(
    "matches",
    metadata,
    _id(),
    Column("change_id", ForeignKey("changes.id"), nullable=False, index=True),
    Column("watch", String(512), nullable=False),
    Column("watch_kind", String(16), nullable=False),  # entity / topic
    Column("score", Float, nullable=False),
    Column("method", String(16), nullable=False),
    Column("matched_name", Text, nullable=False),
    Column("matched_text", Text),
    Column("tags", JSON, nullable=False, default=list),
    Column("reason", Text),
)

SUBSCRIBERS = Table(
    "subscribers",
    metadata,
    _id(),
    Column("name", String(128), nullable=False, unique=True),
    Column("url_env", String(128)),
    Column("url_file", Text),
    Column("filters", JSON, nullable=False, default=dict),
    Column("mode", String(16), nullable=False, default="immediate"),
    Column("digest_at", String(64)),
    Column("origin", String(16), nullable=False, default="cli"),
)

# The outbox: one row per (subscriber, event); `idempotency_key` makes re-queueing safe.
ALERTS = Table(
    "alerts",
    metadata,
    _id(),
    Column("subscriber", String(128), nullable=False),
    Column("change_id", ForeignKey("changes.id")),
    Column("idempotency_key", String(256), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),  # change / operator / digest / test
    Column("payload", JSON, nullable=False),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    _when("next_attempt_at"),
    Column("last_error", Text),
    _when("created_at"),
    _when("sent_at", nullable=True),
    # "host:pid" of the process holding the lease, so a dead holder's claims can be released
    Column("claimed_by", String(128)),
    Index("ix_alerts_status_next", "status", "next_attempt_at"),
)

# Open operator incidents, so each is alerted once (and once more on recovery).
INCIDENTS = Table(
    "incidents",
    metadata,
    _id(),
    Column("key", String(256), nullable=False, unique=True),
    Column("source", String(64)),
    Column("kind", String(32), nullable=False),
    Column("detail", Text),
    _when("opened_at"),
    _when("closed_at", nullable=True),
)

# Expiring per-source lease, for databases without advisory locks (SQLite).
LOCKS = Table(
    "locks",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("holder", String(128), nullable=False),
    _when("expires_at"),
)

# A Federal Register document, its public-inspection filing and its entity actions.
DOCUMENTS = Table(
    "documents",
    metadata,
    _id(),
    Column("document_number", String(64), nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("type", String(64)),
    Column("action", Text),
    Column("abstract", Text),
    Column("citation", String(64)),
    Column("publication_date", Date),
    Column("effective_on", Date),
    _when("filed_at", nullable=True),  # public inspection
    Column("html_url", Text),
    Column("full_text_xml_url", Text),
    Column("agencies", JSON, nullable=False, default=list),
    Column("entity_list_rule", Boolean, nullable=False, default=False),
    Column("actions", JSON),  # None: full text not read yet
    _when("first_seen"),
    _when("public_inspection_seen", nullable=True),
    _when("published_seen", nullable=True),
    _when("actions_seen", nullable=True),
    _when("updated_at"),
    Column("first_snapshot_id", ForeignKey("snapshots.id")),
)

# One entity action of a rule, kept for linking and for the 'not yet in the CSL' check.
DOCUMENT_ACTIONS = Table(
    "document_actions",
    metadata,
    _id(),
    Column("key", String(512), nullable=False, unique=True),  # the FR entry key
    Column("document_number", String(64), nullable=False, index=True),
    Column("action", String(16), nullable=False),
    Column("country", Text),
    Column("country_code", String(8)),
    Column("name", Text, nullable=False),
    Column("name_norm", String(512), nullable=False, index=True),
    Column("names", JSON, nullable=False, default=list),  # name + aliases, normalized
    Column("publication_date", Date),
    _when("first_seen"),
    _when("reflected_at", nullable=True),  # seen in the CSL
    Column("reflected_by", Text),
    # public_inspection / published / dropped at publication / withdrawn (`_fr_stages`)
    Column("stage", String(32), nullable=False, default="published", server_default="published"),
    _when("staged_at", nullable=True),  # when the stage was set
)

# An FR entity action and the CSL / eCFR change that carried it out.
LINKS = Table(
    "links",
    metadata,
    _id(),
    Column("document_number", String(64), nullable=False, index=True),
    Column("action_key", String(512), nullable=False, index=True),
    Column("action", String(16), nullable=False),
    Column("target_source", String(64), nullable=False),
    Column("target_change_id", ForeignKey("changes.id"), nullable=False, index=True),
    Column("target_key", String(512), nullable=False),
    Column("target_kind", String(16), nullable=False),
    Column("method", String(32), nullable=False),  # name+country / name
    _when("linked_at"),
    UniqueConstraint("action_key", "target_change_id"),
    Index("ix_links_target", "target_source", "target_key"),
)
