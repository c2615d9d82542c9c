"""Tables of the registration system, their states and small query helpers.

Times are stored in UTC and converted to Europe/Prague only for display and
calendars (see `trainings.timefmt`).
"""
from __future__ import annotations

import enum
import secrets
from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    and_,
    func,
    or_,
    select,
    text,
)
from flask_login import UserMixin
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.ext.hybrid import hybrid_method, hybrid_property
from sqlalchemy.orm import Mapped, column_property, joinedload, mapped_column, relationship
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Numeric
from sqlalchemy.types import LargeBinary

from .extensions import db


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# The address every row erased on request or anonymised by retention carries (privacy/service.py
# writes it): kept here so that any rule (who gets an osvědčení, who is asked for feedback) can tell
# such a row without climbing into the privacy capability.
ANONYMOUS_DOMAIN = "anonymizovano.invalid"


def is_anonymised(registration: "Registration") -> bool:
    """Erased on request or anonymised by retention: nothing about the person is left to vouch for."""
    return registration.email_normalized.endswith("@" + ANONYMOUS_DOMAIN)


class _HoursBetween(FunctionElement):
    """Hours from one timestamp to another, as a number (each database spells it its own way)."""

    type = Numeric()
    inherit_cache = True


@compiles(_HoursBetween, "postgresql")
def _hours_between_postgresql(element, compiler, **kw):
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({end}) - ({start})) / 3600)"


@compiles(_HoursBetween)
def _hours_between_sqlite(element, compiler, **kw):
    start, end = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 24)"


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware one")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def _enum(cls):
    # Stored as plain strings: adding a state later needs no PostgreSQL enum migration.
    return Enum(cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


class OfferKind(str, enum.Enum):
    WORKSHOP = "workshop"  # running or planned workshops with terms
    TRAINING = "training"  # the broad offer B
    SUPPORT = "support"  # targeted methodical support A1–A7
    REGION_SUPPORT = "region_support"  # the kraj offer 1–12


class OfferStatus(str, enum.Enum):
    RUNNING = "running"
    PLANNED = "planned"


class TermForm(str, enum.Enum):
    ONLINE = "online"
    IN_PERSON = "prezencni"

    @property
    def label(self) -> str:
        return {"online": "online", "prezencni": "prezenčně"}[self.value]


class TermState(str, enum.Enum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class RegistrationState(str, enum.Enum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {
            "confirmed": "potvrzená",
            "waitlisted": "na čekací listině",
            "cancelled": "zrušená",
        }[self.value]


class EmployerType(str, enum.Enum):
    OSPOD = "ospod"
    REGIONAL_OFFICE = "krajsky_urad"
    SOCIAL_SERVICE = "socialni_sluzba"
    OTHER = "jine"

    @property
    def label(self) -> str:
        return {
            "ospod": "OSPOD",
            "krajsky_urad": "krajský úřad",
            "socialni_sluzba": "sociální služba",
            "jine": "jiné",
        }[self.value]


class StaffRole(str, enum.Enum):
    ADMIN = "admin"
    ORGANISER = "organiser"
    COORDINATOR = "coordinator"
    LECTURER = "lecturer"

    @property
    def label(self) -> str:
        """What the back office calls the role: the work, not a gendered title of the person."""
        return {
            "admin": "správa systému",
            "organiser": "organizace termínů",
            "coordinator": "koordinace kraje",
            "lecturer": "lektorské vedení",
        }[self.value]


class OutboxState(str, enum.Enum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"


class User(UserMixin, db.Model):
    """A staff member: MPSV coordinator of a kraj, organiser, administrator, lecturer."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[StaffRole] = mapped_column(_enum(StaffRole))
    # None until the person sets a password through an e-mailed link.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Changing it (password change, deactivation) ends every existing session.
    session_nonce: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    # Base32 TOTP secret (RFC 6238); the second factor counts only once confirmed with a first code.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The 30-second step of the last code accepted: a code of that step or an earlier one is
    # refused, so a code seen over someone's shoulder cannot be given again (RFC 6238 §5.2).
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    regions: Mapped[list[Region]] = relationship(back_populates="coordinator")
    # The terms she is linked to as a lecturer: her check-in, attendance and printed lists.
    taught_terms: Mapped[list[Term]] = relationship(secondary="term_lecturers", back_populates="lecturers")

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_nonce}"


class UserToken(db.Model):
    """A one-time link for a staff member: setting the first password, or a new one."""

    __tablename__ = "user_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class StaffSession(db.Model):
    """One signed-in browser of a staff member, held on the server.

    The session cookie carries only this row's token, so logging out, a
    password change or the idle timeout ends the session for every copy of
    the cookie, not just in the browser that clicked.
    """

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the second factor (TOTP or a recovery code) was given in this session.
    second_factor_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class RecoveryCode(db.Model):
    """A one-time code that stands in for the TOTP app once; only its hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginFailures(db.Model):
    """Password attempts at the staff login for one e-mail address, whether it has an account
    or not, in the window that began with the first of them (trainings/people/accounts.py).
    Only a hash of the address is kept: people mistype other people's addresses too."""

    __tablename__ = "staff_login_failures"

    # SHA-256 of the address as the login looks it up (trimmed, lower case).
    email_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # Wrong passwords, and those being checked right now; a right one gives its attempt back.
    attempts: Mapped[int] = mapped_column(Integer)


class AuditEntry(db.Model):
    """Who did what to which object, and with what data (after pretix's log entries)."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()


class Region(db.Model):
    """Kraj."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)  # NUTS3, CZ010 …
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    coordinator: Mapped[User | None] = relationship(back_populates="regions")
    orps: Mapped[list[Orp]] = relationship(back_populates="region", order_by="Orp.name")


class Orp(db.Model):
    """An ORP, or one of Prague's 22 districts, which play the ORP's role there."""

    __tablename__ = "orps"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)  # ČSÚ code, PHA-01 … for Prague
    name: Mapped[str] = mapped_column(String(100))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    population: Mapped[int | None]

    region: Mapped[Region] = relationship(back_populates="orps")


class Offer(db.Model):
    """A catalogue item: workshop, training (B), support item A1–A7 or kraj item 1–12."""

    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[OfferKind] = mapped_column(_enum(OfferKind), index=True)
    status: Mapped[OfferStatus | None] = mapped_column(_enum(OfferStatus))
    code: Mapped[str | None] = mapped_column(String(8))
    group: Mapped[str | None] = mapped_column(String(8))
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(300))
    forms: Mapped[list] = mapped_column(JSON, default=list)
    # Other names the offer documents use for it: shown on its page, linked in other offers' texts.
    aliases: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    period: Mapped[str | None] = mapped_column(String(100))
    custom: Mapped[bool] = mapped_column(default=False)
    summary: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    audience: Mapped[str | None] = mapped_column(Text)
    prerequisite_hint: Mapped[str | None] = mapped_column(Text)
    # Set once staff publish a change (or add or withdraw it): `flask seed` then leaves the row alone.
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Out of the public catalogue and sign-up; its terms' pages, feeds and certificates stay.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    terms: Mapped[list[Term]] = relationship(back_populates="offer", order_by="Term.starts_at")

    @property
    def form_labels(self) -> list[str]:
        return [TermForm(f).label for f in self.forms or []]


class OfferRevision(db.Model):
    """One version of an offer's texts: a draft while `published_at` is None (at most one per
    offer), else what the catalogue showed from then on."""

    __tablename__ = "offer_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), index=True)
    # "baseline" (the catalogue before the first staff change), "edit", "restore", "created".
    action: Mapped[str] = mapped_column(String(20))
    values: Mapped[dict] = mapped_column(JSON)  # every editable field, as catalogue/editing.py names them
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # {field: [old, new]} against the version before
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    restored_from_id: Mapped[int | None] = mapped_column(ForeignKey("offer_revisions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    offer: Mapped[Offer] = relationship()
    author: Mapped[User | None] = relationship()
    restored_from: Mapped[OfferRevision | None] = relationship(remote_side=[id])


# A term's lecturers as staff accounts. Only this link opens a term's check-in, attendance and
# printed lists to a lecturer (trainings/access.py); the term's `lecturer` text is what pages,
# e-mails and certificates print, and grants nothing.
term_lecturers = db.Table(
    "term_lecturers",
    db.Column("term_id", Integer, ForeignKey("terms.id"), primary_key=True),
    db.Column("user_id", Integer, ForeignKey("users.id"), primary_key=True, index=True),
)


class Term(db.Model):
    """One dated occurrence of a workshop."""

    __tablename__ = "terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    form: Mapped[TermForm] = mapped_column(_enum(TermForm))
    # Where a prezenční term takes place; None for online terms.
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    venue: Mapped[str | None] = mapped_column(String(300))
    # Shown only to confirmed participants and staff.
    online_url: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int] = mapped_column(Integer)
    per_orp_limit: Mapped[int | None] = mapped_column(Integer)
    registration_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lecturer: Mapped[str | None] = mapped_column(String(300))
    # Teaching hours for certificates and the 24-hour yearly duty; None means
    # the length from start to end.
    hours: Mapped[float | None]
    state: Mapped[TermState] = mapped_column(_enum(TermState), default=TermState.SCHEDULED)
    # Closed terms are not listed publicly (workshops "na klíč").
    public: Mapped[bool] = mapped_column(default=True)
    restricted_region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    restricted_orp_id: Mapped[int | None] = mapped_column(ForeignKey("orps.id"))
    # The private sign-up link of a closed term. Kept readable so the
    # coordinator can copy it again; it grants sign-up, not access to anyone's data.
    signup_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Raised on every change so calendars update the event instead of duplicating it.
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The request ("na klíč") this closed term was made for.
    request_id: Mapped[int | None] = mapped_column(ForeignKey("support_requests.id"), index=True)

    offer: Mapped[Offer] = relationship(back_populates="terms")
    request: Mapped[SupportRequest | None] = relationship(back_populates="terms")
    # Read with the term in the same statement (the sign-up's lock too), so the rule in
    # takes_sign_ups costs no query of its own.
    offer_withdrawn_at: Mapped[datetime | None] = column_property(
        select(Offer.withdrawn_at).where(Offer.id == offer_id).correlate_except(Offer).scalar_subquery())
    region: Mapped[Region | None] = relationship(foreign_keys=[region_id])
    restricted_region: Mapped[Region | None] = relationship(foreign_keys=[restricted_region_id])
    restricted_orp: Mapped[Orp | None] = relationship(foreign_keys=[restricted_orp_id])
    lecturers: Mapped[list[User]] = relationship(secondary=term_lecturers, back_populates="taught_terms")

    @property
    def is_online(self) -> bool:
        return self.form == TermForm.ONLINE

    @hybrid_property
    def length_hours(self) -> float:
        if self.hours is not None:
            return self.hours
        return round((self.ends_at - self.starts_at).total_seconds() / 3600, 2)

    @length_hours.inplace.expression
    @classmethod
    def _length_hours_expression(cls):
        # The same rule in SQL, so reports can sum hours without loading terms.
        return func.coalesce(cls.hours, func.round(_HoursBetween(cls.starts_at, cls.ends_at), 2))

    @property
    def closes_at(self) -> datetime:
        """Registration closes at the deadline, or at the start when none is set."""
        if self.registration_deadline and self.registration_deadline < self.starts_at:
            return self.registration_deadline
        return self.starts_at

    @property
    def has_ended(self) -> bool:
        """It took place: its attendance and certificates stand, so it can no longer be called off."""
        return self.ends_at <= utcnow()

    @property
    def meets_online_later(self) -> bool:
        """An online term that stands and has not ended: its meeting link is still to be of use."""
        return self.is_online and self.state == TermState.SCHEDULED and not self.has_ended

    @property
    def has_started(self) -> bool:
        """People are on it (in the room or online): it can no longer be called off."""
        return self.starts_at <= utcnow()

    def is_running(self, now: datetime | None = None) -> bool:
        """Started and not yet over: staff lists mark it "probíhá"."""
        now = now or utcnow()
        return self.state == TermState.SCHEDULED and self.starts_at <= now < self.ends_at

    @hybrid_method
    def is_open(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.state == TermState.SCHEDULED and now < self.closes_at

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls, now: datetime | None = None):
        # now < closes_at, spelled without a conditional: before the start and before any deadline.
        now = now or utcnow()
        return and_(cls.state == TermState.SCHEDULED, cls.starts_at > now,
                    or_(cls.registration_deadline.is_(None), cls.registration_deadline > now))

    def takes_sign_ups(self, now: datetime | None = None) -> bool:
        """Open, and its workshop still in the catalogue: a withdrawn one takes nobody new."""
        return self.is_open(now) and self.offer_withdrawn_at is None


class Registration(db.Model):
    """Přihláška: one person on one term."""

    __tablename__ = "registrations"
    __table_args__ = (
        # One active registration per address and term; a cancelled one stays as it was (her old
        # link shows it), and signing up again makes a new row with its own links and door code.
        Index("uq_registrations_term_id_active", "term_id", "email_normalized", unique=True,
              postgresql_where=text("state <> 'cancelled'"), sqlite_where=text("state <> 'cancelled'")),
        Index("ix_registrations_term_state", "term_id", "state"),
        # Kde jsme byli reads one kraj's participants: only they, without the table (trainings/coverage.py).
        Index("ix_registrations_present_region", "region_id", "term_id", postgresql_include=["orp_id"],
              postgresql_where=text("state = 'confirmed' AND attended IS TRUE"),
              sqlite_where=text("state = 'confirmed' AND attended IS TRUE")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id"))
    state: Mapped[RegistrationState] = mapped_column(_enum(RegistrationState))
    # The waiting list is ordered by this; it is set on every (re)entry.
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    email_normalized: Mapped[str] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    employer_type: Mapped[EmployerType] = mapped_column(_enum(EmployerType))
    job_title: Mapped[str] = mapped_column(String(200))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    orp_id: Mapped[int | None] = mapped_column(ForeignKey("orps.id"))
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consent_version: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Indexed: its latest value tells the reports whether anything changed (trainings/reporting.py).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, index=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Raised when this person's own event changes (cancellation), on top of the term's sequence.
    calendar_sequence: Mapped[int] = mapped_column(default=0)
    # Attendance: None until marked; True present, False no-show.
    attended: Mapped[bool | None]
    attendance_marked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Short code on the confirmation e-mail (and its QR code) that opens the
    # person's check-in row for logged-in staff.
    check_in_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    internal_note: Mapped[str | None] = mapped_column(Text)
    # Set by a staff member who added the person by hand.
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # A switch of term: this entry waits on another term of the same workshop while
    # the person keeps her seat in `replaces_registration`; when this one is
    # confirmed, that one is given up in the same transaction.
    replaces_registration_id: Mapped[int | None] = mapped_column(ForeignKey("registrations.id"))
    # Random part of the osvědčení's verification address, set when it is first issued.
    certificate_code: Mapped[str | None] = mapped_column(String(16), unique=True)

    term: Mapped[Term] = relationship()
    region: Mapped[Region] = relationship()
    orp: Mapped[Orp | None] = relationship()
    replaces_registration: Mapped[Registration | None] = relationship(remote_side="Registration.id")

    # What she is shown: one rule each, read alike by her page, her e-mails (composed when
    # sent, so from the rows as they are then), her calendar and the back office.

    @property
    def is_expected(self) -> bool:
        """A confirmed seat on a term that stands: she is expected at the workshop."""
        return self.state == RegistrationState.CONFIRMED and self.term.state == TermState.SCHEDULED

    def online_link(self) -> str | None:
        """The online meeting's address, for a confirmed seat only and only while the term stands
        and has not ended: a waiting or cancelled person, or anyone on a cancelled term, could
        otherwise still join, and after the workshop the room may be someone else's meeting."""
        if self.is_expected and self.term.is_online and not self.term.has_ended:
            return self.term.online_url or None
        return None

    def awaits_online_link(self) -> bool:
        """No link for her yet, but one will come if she gets a seat: the online term stands and
        has not ended, and she has not cancelled. Her e-mails promise it only then."""
        return (self.online_link() is None and self.term.meets_online_later
                and self.state != RegistrationState.CANCELLED)

    def door_code(self) -> str | None:
        """The check-in code while it is of use: she is expected at a prezenční term and her
        attendance is not yet marked. An online term has no door (attends_online)."""
        if self.is_expected and self.attended is None and not self.term.is_online:
            return self.check_in_code
        return None

    def attends_online(self) -> bool:
        """Expected at an online term and not yet marked: she is told how the lecturer records
        attendance by the names in the meeting, instead of a door code."""
        return self.is_expected and self.attended is None and self.term.is_online

    def waitlist_position(self) -> int | None:
        if self.state != RegistrationState.WAITLISTED:
            return None
        ahead = db.session.scalar(
            select(func.count(Registration.id)).where(
                Registration.term_id == self.term_id,
                Registration.state == RegistrationState.WAITLISTED,
                (Registration.queued_at < self.queued_at)
                | ((Registration.queued_at == self.queued_at) & (Registration.id < self.id)),
            )
        )
        return ahead + 1


class RegistrationLink(db.Model):
    """A private link to one registration; only the SHA-256 of its token is kept.

    Each e-mail that carries a link gets a fresh token, so a promotion e-mail
    can carry a working link although no earlier token can be read back.
    """

    __tablename__ = "registration_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None: valid until revoked (rows from before expiry was introduced).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    registration: Mapped[Registration] = relationship()


class SeatHandover(db.Model):
    """A seat offered to a colleague: it moves only when she confirms, with consent, in time.

    The colleague's data are held here until then; the seat stays with the
    first person meanwhile, and nothing changes if the offer lapses.
    """

    __tablename__ = "seat_handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    email_normalized: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    employer_type: Mapped[EmployerType] = mapped_column(_enum(EmployerType))
    job_title: Mapped[str] = mapped_column(String(200))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    orp_id: Mapped[int | None] = mapped_column(ForeignKey("orps.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Exactly one of these ends an offer: confirmed by the colleague (the new
    # registration is recorded), or withdrawn / refused.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    new_registration_id: Mapped[int | None] = mapped_column(ForeignKey("registrations.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    registration: Mapped[Registration] = relationship(foreign_keys=[registration_id])
    new_registration: Mapped[Registration | None] = relationship(foreign_keys=[new_registration_id])
    region: Mapped[Region] = relationship()
    orp: Mapped[Orp | None] = relationship()


class FeedbackInvitation(db.Model):
    """The one feedback questionnaire a present participant is asked to fill in.

    It knows who was asked and whether she answered; the answer itself is in
    FeedbackAnswer without any link back, so staff cannot tell who said what.
    """

    __tablename__ = "feedback_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    registration: Mapped[Registration] = relationship()


class FeedbackAnswer(db.Model):
    """One anonymous answer: scores 1–5 per question key and free text, tied to the term only."""

    __tablename__ = "feedback_answers"
    __table_args__ = (Index("ix_feedback_answers_term", "term_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id"))
    # The term's lecturer text when answered, so results per lecturer survive term edits.
    lecturer: Mapped[str | None] = mapped_column(String(300))
    # A date, not a time: a timestamp next to the invitations' answered_at would tell who it was.
    submitted_on: Mapped[date] = mapped_column(Date)
    scores: Mapped[dict] = mapped_column(JSON, default=dict)
    comment: Mapped[str | None] = mapped_column(Text)

    term: Mapped[Term] = relationship()


class SiteSetting(db.Model):
    """Texts the organisers change without code (e.g. the feedback questions), as JSON by key."""

    __tablename__ = "site_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict | list] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ProjectFactsVersion(db.Model):
    """One version of the project's facts and contacts as the back office edits them
    (trainings/facts_editing.py). The latest is in force; with none, catalogue.yaml is."""

    __tablename__ = "project_facts_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "baseline" (catalogue.yaml before the first staff change), "edit", "restore".
    action: Mapped[str] = mapped_column(String(20))
    values: Mapped[dict] = mapped_column(JSON)  # {"project": {...}, "contacts": [...]}
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    restored_from_id: Mapped[int | None] = mapped_column(ForeignKey("project_facts_versions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()
    restored_from: Mapped[ProjectFactsVersion | None] = relationship(remote_side=[id])


class PersonLink(db.Model):
    """A private link to everything one e-mail address did ("Moje vzdělávání").

    A person is her e-mail address, proven by receiving this link there: it is
    only ever delivered by e-mail, never shown after a sign-up. `purpose` is
    "page" (the page itself, short-lived) or "feed" (the personal calendar
    feed, long-lived so subscriptions keep working, until the person ends it).
    Only the SHA-256 of the token is kept.
    """

    __tablename__ = "person_links"
    __table_args__ = (Index("ix_person_links_email_created", "email_normalized", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email_normalized: Mapped[str] = mapped_column(String(254))
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InterestEntry(db.Model):
    """"Chci vědět, až bude termín": someone waiting for a planned workshop."""

    __tablename__ = "interest_entries"
    __table_args__ = (UniqueConstraint("offer_id", "email_normalized"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    email: Mapped[str] = mapped_column(String(254))
    email_normalized: Mapped[str] = mapped_column(String(254))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    orp_id: Mapped[int | None] = mapped_column(ForeignKey("orps.id"))
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consent_version: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    offer: Mapped[Offer] = relationship()
    region: Mapped[Region] = relationship()
    orp: Mapped[Orp | None] = relationship()


class OutboxMessage(db.Model):
    """An e-mail written in the same transaction as the change that causes it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(254))
    # None until composed: a message about a registration is queued as a plan in
    # `context` and written by the outbox worker when it sends it (mail/composers.py, by its kind).
    # The bodies and attachments are None / [] again once it is sent: they carry private
    # links, and the staff e-mail log needs only kind, recipient, subject and times.
    subject: Mapped[str | None] = mapped_column(String(300))
    body_text: Mapped[str | None] = mapped_column(Text)
    context: Mapped[dict | None] = mapped_column(JSON)
    body_html: Mapped[str | None] = mapped_column(Text)
    # [{"filename", "content_type", "data"}] with data as text (.ics is text).
    attachments: Mapped[list] = mapped_column(JSON, default=list)
    state: Mapped[OutboxState] = mapped_column(_enum(OutboxState), default=OutboxState.QUEUED)
    # Tries at sending: the message handed to the server (or failing to be written). Being
    # claimed, taken over or put back untried is no try (trainings/mail/dispatch.py).
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registrations.id"))
    # Messages that must go out once only (reminders, interest notices) carry a
    # key; the unique index makes a second attempt to queue them fail.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # When a dispatcher took the message; one stuck "sending" after a crash is retaken.
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The fencing token of the claim: a dispatcher sends and marks a row only
    # while this is still the token it wrote (trainings/mail/dispatch.py).
    claim_token: Mapped[str | None] = mapped_column(String(32))
    # When the server took the whole message and did not confirm it: it may have stored it,
    # so it is sent at most once more (trainings/mail/dispatch.py).
    unconfirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    registration: Mapped[Registration | None] = relationship()


# --- requests: workshops "na klíč", methodical support A1–A7, kraj packages ---


class RequestKind(str, enum.Enum):
    CUSTOM_WORKSHOP = "custom_workshop"  # workshop „na klíč" for a kraj or an ORP
    SUPPORT = "support"  # methodical support A1–A7 for an OSPOD
    REGION_PACKAGE = "region_package"  # kraj offer items 1–12

    @property
    def label(self) -> str:
        return {
            "custom_workshop": "workshop na klíč",
            "support": "metodická podpora A1–A7",
            "region_package": "balíček podpory pro kraj",
        }[self.value]


class RequestState(str, enum.Enum):
    NEW = "nova"
    IN_PROGRESS = "v_reseni"
    AGREED = "dohodnuto"
    SCHEDULED = "naplanovano"
    CLOSED = "uzavreno"
    REJECTED = "zamitnuto"

    @property
    def label(self) -> str:
        return {
            "nova": "nová",
            "v_reseni": "v řešení",
            "dohodnuto": "dohodnuto",
            "naplanovano": "naplánováno",
            "uzavreno": "uzavřeno",
            "zamitnuto": "zamítnuto",
        }[self.value]

    @property
    def is_final(self) -> bool:
        return not REQUEST_TRANSITIONS[self]

    def can_become(self, other: RequestState) -> bool:
        return other in REQUEST_TRANSITIONS[self]


# The one place that says which state may follow which, for a request and for
# each of its items alike. Agreement can fall through (dohodnuto → v řešení)
# and a planned date can be called off (naplánováno → dohodnuto); a closed or
# rejected request stays so: a new need is a new request.
REQUEST_TRANSITIONS: dict[RequestState, tuple[RequestState, ...]] = {
    RequestState.NEW: (RequestState.IN_PROGRESS, RequestState.REJECTED),
    RequestState.IN_PROGRESS: (RequestState.AGREED, RequestState.REJECTED),
    RequestState.AGREED: (RequestState.SCHEDULED, RequestState.IN_PROGRESS, RequestState.REJECTED),
    RequestState.SCHEDULED: (RequestState.CLOSED, RequestState.AGREED),
    RequestState.CLOSED: (),
    RequestState.REJECTED: (),
}


class Urgency(str, enum.Enum):
    NORMAL = "bezna"
    SOON = "brzy"
    URGENT = "nalehava"

    @property
    def label(self) -> str:
        return {
            "bezna": "běžná – stačí v řádu týdnů",
            "brzy": "spěchá – nejlépe do 14 dnů",
            "nalehava": "naléhavá – co nejdříve",
        }[self.value]


class RequestEventKind(str, enum.Enum):
    SUBMITTED = "submitted"
    STATE = "state"
    COMMENT = "comment"
    TERM = "term"  # a closed term was made from the request


class SupportRequest(db.Model):
    """A request from a kraj, an ORP or an OSPOD, followed until it is done."""

    __tablename__ = "support_requests"
    __table_args__ = (Index("ix_support_requests_region_state", "region_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RequestKind] = mapped_column(_enum(RequestKind))
    state: Mapped[RequestState] = mapped_column(_enum(RequestState), default=RequestState.NEW)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))
    orp_id: Mapped[int | None] = mapped_column(ForeignKey("orps.id"))
    # The kraj's coordinator when the request came; the kraj decides who may
    # see it later (a new coordinator inherits the kraj's requests).
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    requester_name: Mapped[str] = mapped_column(String(200))
    requester_email: Mapped[str] = mapped_column(String(254))
    requester_phone: Mapped[str | None] = mapped_column(String(40))
    organisation: Mapped[str] = mapped_column(String(300))

    # Workshop "na klíč": a catalogue workshop or a topic in the requester's words.
    topic_offer_id: Mapped[int | None] = mapped_column(ForeignKey("offers.id"))
    topic_text: Mapped[str | None] = mapped_column(Text)
    participant_needs: Mapped[str | None] = mapped_column(Text)
    expected_participants: Mapped[int | None] = mapped_column(Integer)
    preferred_dates: Mapped[str | None] = mapped_column(Text)
    place: Mapped[str | None] = mapped_column(String(300))
    # Na klíč and A1–A7: online or in person.
    preferred_form: Mapped[TermForm | None] = mapped_column(_enum(TermForm))
    # A1–A7: the situation in a few lines (without personal data) and how soon.
    situation: Mapped[str | None] = mapped_column(Text)
    urgency: Mapped[Urgency | None] = mapped_column(_enum(Urgency))
    note: Mapped[str | None] = mapped_column(Text)

    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    consent_version: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The first staff answer the requester can see; until then the
    # 5-working-day clock runs (trainings.workdays).
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rejection_reason: Mapped[str | None] = mapped_column(Text)

    region: Mapped[Region] = relationship()
    orp: Mapped[Orp | None] = relationship()
    coordinator: Mapped[User | None] = relationship()
    topic_offer: Mapped[Offer | None] = relationship()
    items: Mapped[list[SupportRequestItem]] = relationship(
        back_populates="request", order_by="SupportRequestItem.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request", order_by="[RequestEvent.at, RequestEvent.id]", cascade="all, delete-orphan"
    )
    terms: Mapped[list[Term]] = relationship(back_populates="request", order_by="Term.starts_at")

    @property
    def topic(self) -> str | None:
        return self.topic_offer.title if self.topic_offer else self.topic_text

    @property
    def place_label(self) -> str:
        return f"{self.region.name}, ORP {self.orp.name}" if self.orp else self.region.name

    @property
    def preferred_form_label(self) -> str | None:
        if self.preferred_form is None:
            return None
        if self.kind == RequestKind.SUPPORT and self.preferred_form == TermForm.IN_PERSON:
            return "osobně"  # support comes to the office; "prezenčně" is for workshops
        return self.preferred_form.label


class SupportRequestItem(db.Model):
    """One A1–A7 or 1–12 item of a request, followed on its own."""

    __tablename__ = "support_request_items"
    __table_args__ = (UniqueConstraint("request_id", "offer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_requests.id"))
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    note: Mapped[str | None] = mapped_column(Text)
    state: Mapped[RequestState] = mapped_column(_enum(RequestState), default=RequestState.NEW)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    request: Mapped[SupportRequest] = relationship(back_populates="items")
    offer: Mapped[Offer] = relationship()


class RequestEvent(db.Model):
    """The request's history: each state change and comment, with who and when."""

    __tablename__ = "request_events"
    __table_args__ = (Index("ix_request_events_request_at", "request_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_requests.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("support_request_items.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None: the requester (through her private link).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[RequestEventKind] = mapped_column(_enum(RequestEventKind))
    from_state: Mapped[RequestState | None] = mapped_column(_enum(RequestState))
    to_state: Mapped[RequestState | None] = mapped_column(_enum(RequestState))
    text: Mapped[str | None] = mapped_column(Text)
    visible_to_requester: Mapped[bool] = mapped_column(default=True)

    request: Mapped[SupportRequest] = relationship(back_populates="events")
    item: Mapped[SupportRequestItem | None] = relationship()
    actor: Mapped[User | None] = relationship()


class SupportRequestLink(db.Model):
    """A private link to follow one request; only the SHA-256 of its token is kept.

    Like RegistrationLink: every e-mail to the requester carries a fresh token.
    """

    __tablename__ = "support_request_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("support_requests.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request: Mapped[SupportRequest] = relationship()


class DocumentState(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class DocumentJob(db.Model):
    """A long document (a term's osvědčení) made by the documents worker instead of in a request.

    The finished file is kept in the row until `expires_at`, so the web process that offers it need
    not share a disk with the worker that made it. `fingerprint` says what the file prints (who, and
    when their data last changed): a job is reused while it matches and the file is handed out only
    while it does (trainings/documents/).
    """

    __tablename__ = "document_jobs"
    __table_args__ = (Index("ix_document_jobs_state_created_at", "state", "created_at"),
                      Index("ix_document_jobs_term_kind", "term_id", "kind"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[DocumentState] = mapped_column(_enum(DocumentState), default=DocumentState.QUEUED)
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    # Runs started: a job whose worker died is taken back, but not forever.
    attempts: Mapped[int] = mapped_column(default=0)
    # The fencing token of the worker running it: a worker whose job was taken back writes nothing.
    claim_token: Mapped[str | None] = mapped_column(String(32))
    # Renewed as pages are rendered; a running job silent for long is taken back.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    term: Mapped[Term] = relationship()


# --- lookups every floor shares (the access check, the views, the services) ---------------------


def term_with_facts(term_id: int) -> Term | None:
    """A term with what its pages show of it (workshop, kraj, the ORP or kraj it is kept for), in one query."""
    return db.session.scalars(
        select(Term)
        .options(joinedload(Term.offer), joinedload(Term.region), joinedload(Term.restricted_region),
                 joinedload(Term.restricted_orp))
        .where(Term.id == term_id)
    ).one_or_none()


def registration_for_code(code: str) -> Registration | None:
    """The registration whose door code was typed or scanned (any case, spaces around it), or None."""
    code = (code or "").strip().upper()
    if not code or len(code) > 16:
        return None
    return db.session.scalars(select(Registration).where(Registration.check_in_code == code)).one_or_none()
