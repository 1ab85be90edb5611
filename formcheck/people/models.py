"""The tables: accounts and their sign-ins, programmes and their items, sessions, suggestions.

A *person* is an account with the role ``person`` and the clinician who looks after them; a
*session* here is one exercise set (live or uploaded), attached to a person and to one item
of their programme; sign-ins are ``Credential`` rows (a browser cookie or an API token,
each stored as a SHA-256 of a random secret).

Changes to these classes need an Alembic migration (``migrations/versions``); a test checks
that the migrated schema matches them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAME_CHARS = 80
USERNAME_CHARS = 64
EXERCISE_CHARS = 40
ID_CHARS = 64


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """An aware datetime: SQLite hands back naive ones (every stored time is UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads it from the class)
        dt.datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
    }


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_CHARS), unique=True)
    display_name: Mapped[str] = mapped_column(String(NAME_CHARS))
    role: Mapped[str] = mapped_column(String(16))  # "clinician" or "person"
    password_hash: Mapped[str] = mapped_column(String(255))
    clinician_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="RESTRICT"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)


class Credential(Base):
    """A sign-in: a browser session (cookie) or an API token, by the hash of its secret."""

    __tablename__ = "credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # "cookie" or "api"
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(NAME_CHARS), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[dt.datetime]
    # when an API token last signed a request in (to LAST_USED_RESOLUTION; None: never)
    last_used_at: Mapped[dt.datetime | None]


class SignInThrottle(Base):
    """Wrong passwords given for one user name, and the pause they earned.

    Keyed by the SHA-256 of the normalized name, whether or not an account has it: an unknown
    name is paused exactly like a known one (no telling which names exist), and a password
    typed into the name field is not kept in clear. Rows whose window and pause have passed
    are removed."""

    __tablename__ = "sign_in_throttles"

    name_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_started_at: Mapped[dt.datetime] = mapped_column(index=True)
    locked_until: Mapped[dt.datetime | None]


class Programme(Base):
    __tablename__ = "programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    clinician_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(NAME_CHARS))
    sessions_per_week: Mapped[int] = mapped_column(Integer, default=3)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    items: Mapped[list[ProgrammeItem]] = relationship(
        back_populates="programme", order_by="ProgrammeItem.position", cascade="all, delete"
    )


class ProgrammeItem(Base):
    """One exercise of a programme: its prescription now, its rules and reference rep."""

    __tablename__ = "programme_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programmes.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    exercise: Mapped[str] = mapped_column(String(EXERCISE_CHARS))
    prescription: Mapped[dict[str, Any]]  # formcheck.analyzers.spec.Prescription fields
    rules: Mapped[dict[str, Any]]  # formcheck.people.programmes.ProgressionRules
    reference: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # a personal reference
    programme: Mapped[Programme] = relationship(back_populates="items")


class TrainingSession(Base):
    """One set: live or uploaded, with its measures once known and the person's ratings."""

    __tablename__ = "training_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("programme_items.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(16))  # "live", "job" or "file"
    job_id: Mapped[str | None] = mapped_column(String(ID_CHARS))
    state: Mapped[str] = mapped_column(String(16))  # "pending", "done" or "failed"
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utc_now, index=True)
    prescription: Mapped[dict[str, Any]]  # the item's prescription when the set was done
    measures: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # formcheck.people.measures
    effort: Mapped[int | None] = mapped_column(Integer)  # 0-10
    pain: Mapped[int | None] = mapped_column(Integer)  # 0-10
    note: Mapped[str] = mapped_column(Text, default="")
    # a de-identified copy (skeleton and outline only) analysed as a job of its own
    share_job_id: Mapped[str | None] = mapped_column(String(ID_CHARS))


class Suggestion(Base):
    """A micro-progression: proposed from the rules and the history, decided by a clinician."""

    __tablename__ = "suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("programme_items.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # "progress" or "step_back"
    reason: Mapped[str] = mapped_column(Text)
    basis: Mapped[dict[str, Any]]  # the numbers it rests on
    before: Mapped[dict[str, Any]]  # the prescription it would change
    proposed: Mapped[dict[str, Any]]
    # "open", "accepted", "edited" or "dismissed"
    status: Mapped[str] = mapped_column(String(16), default="open")
    applied: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utc_now)
    decided_at: Mapped[dt.datetime | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    last_session_id: Mapped[int | None] = mapped_column(Integer)  # the history it saw
