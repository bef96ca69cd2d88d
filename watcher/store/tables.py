"""ORM tables (private to the store). Alembic migrations in migrations/ are generated from these."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
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


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class SourceStateRow(Base):
    __tablename__ = "source_state"
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_check_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    validators: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # url -> etag/lm
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    failing_alerted: Mapped[bool] = mapped_column(Boolean, default=False)


class CheckRow(Base):
    __tablename__ = "checks"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    http_status: Mapped[int | None] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    outcome: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("snapshots.id"))
    changes: Mapped[int] = mapped_column(Integer, default=0)


class SnapshotRow(Base):
    __tablename__ = "snapshots"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    effective_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sha256: Mapped[str] = mapped_column(String(64))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    raw_size: Mapped[int] = mapped_column(BigInteger, default=0)
    files: Mapped[list[Any]] = mapped_column(JSON, default=list)  # name, url, status, etag ...
    record_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    warnings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    origin: Mapped[str] = mapped_column(String(16), default="poll")  # poll / replay / backfill
    __table_args__ = (Index("ix_snapshots_source_effective", "source", "effective_at"),)


class EntryVersionRow(Base):
    __tablename__ = "entry_versions"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(512))
    list_code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    valid_from_snapshot: Mapped[int] = mapped_column(ForeignKey("snapshots.id"))
    valid_to_snapshot: Mapped[int | None] = mapped_column(ForeignKey("snapshots.id"))
    __table_args__ = (
        Index("ix_entry_versions_source_key", "source", "key"),
        Index("ix_entry_versions_source_to", "source", "valid_to_snapshot"),
        # A list as of a date (store/entries.py): its order, and its spans for the count.
        Index("ix_entry_versions_listing", "source", "list_code", "name", "key"),
        Index("ix_entry_versions_span", "source", "valid_from_snapshot", "valid_to_snapshot"),
    )


class ChangeRow(Base):
    __tablename__ = "changes"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64), index=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id"), index=True)
    key: Mapped[str] = mapped_column(String(512))
    kind: Mapped[str] = mapped_column(String(16))
    list_code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text)
    before_version_id: Mapped[int | None] = mapped_column(ForeignKey("entry_versions.id"))
    after_version_id: Mapped[int | None] = mapped_column(ForeignKey("entry_versions.id"))
    field_changes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    detected_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    effective_at: Mapped[datetime] = mapped_column(UtcDateTime())
    source_url: Mapped[str | None] = mapped_column(Text)


class WatchEntityRow(Base):
    __tablename__ = "watch_entities"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(512), unique=True)
    aliases: Mapped[list[Any]] = mapped_column(JSON, default=list)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    country: Mapped[str | None] = mapped_column(String(64))
    entity_type: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(16), default="cli")  # config / default / cli


class MatchRow(Base):
    __tablename__ = "matches"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"), index=True)
    watch: Mapped[str] = mapped_column(String(512))
    watch_kind: Mapped[str] = mapped_column(String(16))  # entity / topic
    score: Mapped[float] = mapped_column(Float)
    method: Mapped[str] = mapped_column(String(16))
    matched_name: Mapped[str] = mapped_column(Text)
    matched_text: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    reason: Mapped[str | None] = mapped_column(Text)


class SubscriberRow(Base):
    __tablename__ = "subscribers"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    url_env: Mapped[str | None] = mapped_column(String(128))
    url_file: Mapped[str | None] = mapped_column(Text)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    mode: Mapped[str] = mapped_column(String(16), default="immediate")
    digest_at: Mapped[str | None] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(16), default="cli")


class AlertRow(Base):
    """The outbox: one row per (subscriber, event); `idempotency_key` makes re-queueing safe."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    subscriber: Mapped[str] = mapped_column(String(128))
    change_id: Mapped[int | None] = mapped_column(ForeignKey("changes.id"))
    idempotency_key: Mapped[str] = mapped_column(String(256), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # change / operator / digest / test
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # "host:pid" of the process holding the lease, so a dead holder's claims can be released
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    __table_args__ = (Index("ix_alerts_status_next", "status", "next_attempt_at"),)


class IncidentRow(Base):
    """Open operator incidents, so each is alerted once (and once more on recovery)."""

    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(256), unique=True)
    source: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class LockRow(Base):
    """Expiring per-source lease, for databases without advisory locks (SQLite)."""

    __tablename__ = "locks"
    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DocumentRow(Base):
    """A Federal Register document, its public-inspection filing and its entity actions."""

    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    document_number: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(Text)
    type: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str | None] = mapped_column(Text)
    abstract: Mapped[str | None] = mapped_column(Text)
    citation: Mapped[str | None] = mapped_column(String(64))
    publication_date: Mapped[date | None] = mapped_column(Date)
    effective_on: Mapped[date | None] = mapped_column(Date)
    filed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # public inspection
    html_url: Mapped[str | None] = mapped_column(Text)
    full_text_xml_url: Mapped[str | None] = mapped_column(Text)
    agencies: Mapped[list[Any]] = mapped_column(JSON, default=list)
    entity_list_rule: Mapped[bool] = mapped_column(Boolean, default=False)
    actions: Mapped[list[Any] | None] = mapped_column(JSON)  # None: full text not read yet
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime())
    public_inspection_seen: Mapped[datetime | None] = mapped_column(UtcDateTime())
    published_seen: Mapped[datetime | None] = mapped_column(UtcDateTime())
    actions_seen: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    first_snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("snapshots.id"))


class DocumentActionRow(Base):
    """One entity action of a rule, kept for linking and for the 'not yet in the CSL' check."""

    __tablename__ = "document_actions"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(512), unique=True)  # the FR entry key
    document_number: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(16))
    country: Mapped[str | None] = mapped_column(Text)
    country_code: Mapped[str | None] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(Text)
    name_norm: Mapped[str] = mapped_column(String(512), index=True)
    names: Mapped[list[Any]] = mapped_column(JSON, default=list)  # name + aliases, normalized
    publication_date: Mapped[date | None] = mapped_column(Date)
    first_seen: Mapped[datetime] = mapped_column(UtcDateTime())
    reflected_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # seen in the CSL
    reflected_by: Mapped[str | None] = mapped_column(Text)
    # public_inspection / published / dropped at publication / withdrawn (`_fr_stages`)
    stage: Mapped[str] = mapped_column(String(32), default="published", server_default="published")
    staged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # when the stage was set


class LinkRow(Base):
    """An FR entity action and the CSL / eCFR change that carried it out."""

    __tablename__ = "links"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    document_number: Mapped[str] = mapped_column(String(64), index=True)
    action_key: Mapped[str] = mapped_column(String(512), index=True)
    action: Mapped[str] = mapped_column(String(16))
    target_source: Mapped[str] = mapped_column(String(64))
    target_change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"), index=True)
    target_key: Mapped[str] = mapped_column(String(512))
    target_kind: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(32))  # name+country / name
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime())
    __table_args__ = (
        UniqueConstraint("action_key", "target_change_id"),
        Index("ix_links_target", "target_source", "target_key"),
    )


__all__ = ["Base", "UniqueConstraint"]
