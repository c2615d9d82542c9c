"""Demo data for a development copy (`flask seed --demo`): terms a few weeks ahead, an organiser and one
account per role, a term today with people on it, a request. Above every capability, as it uses
several of them; the catalogue's own seed (catalogue/seed.py) loads only the catalogue and the kraje.
"""
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta

import pyotp
from sqlalchemy import select

from .catalogue.seed import upsert
from .extensions import db
from .models import (
    EmployerType,
    Offer,
    OfferKind,
    OfferStatus,
    Orp,
    Region,
    StaffRole,
    SupportRequest,
    Term,
    TermForm,
    TermState,
    User,
    utcnow,
)
from .registration import service as registration
from .requests import service as requests
from .people.accounts import set_password
from .people.sessions import SECOND_FACTOR_ROLES
from .timefmt import PRAGUE


# Demo terms: a few weeks ahead, on weekdays, mornings. Their places and links say they are a demo,
# so nobody mistakes a development copy for the real offer.
DEMO_PREFIX = "Ukázkové místo – "
_DEMO_PLACES = [
    ("CZ053", DEMO_PREFIX + "Krajský úřad Pardubického kraje, Komenského náměstí 125, Pardubice"),
    ("CZ064", DEMO_PREFIX + "Krajský úřad Jihomoravského kraje, Žerotínovo náměstí 3, Brno"),
    ("CZ010", DEMO_PREFIX + "MPSV, Kartouzská 200/4, Praha 5"),
]


def demo_online_url(slug: str) -> str:
    return f"https://meet.example.cz/ukazka-{slug}"


def seed_demo_terms(today=None) -> int:
    """Add demo terms to every running workshop that has none; return how many."""
    today = today or datetime.now(PRAGUE).date()
    created = 0
    offers = db.session.scalars(
        select(Offer).where(
            Offer.kind == OfferKind.WORKSHOP,
            Offer.status == OfferStatus.RUNNING,
            Offer.custom.is_(False),
            Offer.withdrawn_at.is_(None),
        ).order_by(Offer.position)
    ).all()
    regions = {r.code: r for r in db.session.scalars(select(Region))}
    for index, offer in enumerate(offers):
        if db.session.scalar(select(Term.id).where(Term.offer_id == offer.id).limit(1)):
            continue
        for week, form in enumerate(offer.forms or [TermForm.ONLINE.value]):
            day = today + timedelta(days=7 * (week + 1) + index)
            while day.weekday() >= 5:
                day += timedelta(days=1)
            starts = datetime.combine(day, time(9, 0), PRAGUE)
            region_code, venue = _DEMO_PLACES[index % len(_DEMO_PLACES)]
            online = form == TermForm.ONLINE.value
            db.session.add(
                Term(
                    offer=offer,
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=3, minutes=30),
                    form=TermForm(form),
                    region=None if online else regions[region_code],
                    venue=None if online else venue,
                    online_url=demo_online_url(offer.slug) if online else None,
                    capacity=20 if online else 16,
                    per_orp_limit=3,
                    registration_deadline=starts - timedelta(days=2),
                    lecturer="Lektorský tým SPOD4",
                )
            )
            created += 1
    db.session.commit()
    return created


DEMO_ORGANISER = ("organizator@spod4.example", "organizator-demo")


def seed_demo_organiser() -> tuple[str, str]:
    """The development default's organiser login; never part of a production seed."""

    email, password = DEMO_ORGANISER
    user = upsert(User, {"email": email}, {"name": "Ukázková organizátorka", "role": StaffRole.ORGANISER})
    set_password(user, password)
    db.session.commit()
    return email, password


# --- day one: a login for every role, a term at the door today, a request to handle ----------------

DEMO_REGION = "CZ053"  # Pardubický kraj: the demo coordinator's, and the demo request's
DEMO_LECTURER = "Ukázková lektorka"


@dataclass(frozen=True)
class DemoLogin:
    role: str  # what the printed list calls the role (no gendered noun: the reader may be anyone)
    email: str
    password: str
    name: str
    staff_role: StaffRole
    totp_secret: str | None = None  # administrators and coordinators must give a code from an app


DEMO_LOGINS = (
    DemoLogin("správa systému", "spravce@spod4.example", "spravce-demo", "Ukázková správa", StaffRole.ADMIN),
    DemoLogin("organizace termínů", DEMO_ORGANISER[0], DEMO_ORGANISER[1], "Ukázková organizátorka", StaffRole.ORGANISER),
    DemoLogin("koordinace Pardubického kraje", "koordinatorka@spod4.example", "koordinatorka-demo",
              "Ukázková koordinátorka", StaffRole.COORDINATOR),
    DemoLogin("lektorské vedení", "lektorka@spod4.example", "lektorka-demo", DEMO_LECTURER, StaffRole.LECTURER),
)


def seed_demo_accounts() -> list[DemoLogin]:
    """The development default's staff: one login per role, with passwords anyone may read here
    (never part of a production seed). Administrator and coordinator get their authenticator app
    set up already; the secret is returned to be printed and typed into an app.

    Run again, it changes nothing that works: a password is set only when it no longer matches
    (setting one ends the person's sessions), a confirmed app secret is kept.
    """
    from werkzeug.security import check_password_hash


    logins = []
    for login in DEMO_LOGINS:
        user = upsert(User, {"email": login.email}, {"name": login.name, "role": login.staff_role})
        user.active = True
        if user.password_hash is None or not check_password_hash(user.password_hash, login.password):
            set_password(user, login.password)
        secret = None
        if login.staff_role in SECOND_FACTOR_ROLES:
            if user.totp_secret is None or user.totp_confirmed_at is None:
                user.totp_secret = pyotp.random_base32()
                user.totp_confirmed_at = utcnow()
            secret = user.totp_secret
        logins.append(replace(login, totp_secret=secret))
    db.session.flush()
    # The demo coordinator takes Pardubický kraj over in this copy, so its requests (the demo one
    # and any a newcomer sends from the public form) come to a login that exists.
    region = db.session.scalars(select(Region).where(Region.code == DEMO_REGION)).one()
    region.coordinator = _user_by_email(DEMO_LOGINS[2].email)
    db.session.commit()
    return logins


def _user_by_email(email: str) -> User:
    return db.session.scalars(select(User).where(User.email == email)).one()


_DEMO_PEOPLE = [
    ("Alena Dvořáková", "Litomyšl"), ("Bohumil Čermák", "Pardubice"), ("Eva Horáková", "Chrudim"),
    ("Lenka Řeháková", "Svitavy"), ("Jiří Šťastný", "Hlinsko"), ("Marie Chalupová", "Česká Třebová"),
]


def seed_demo_term_today(now: datetime | None = None) -> Term:
    """A term at the door right now (started an hour ago, ends in two), taught by the demo
    lecturer (her account linked, so she checks people in) and a few people confirmed, so
    check-in and the exports can be tried at once. Once a day is enough: a term of the demo
    lecturer running now is reused, and linked to her if an older seed left it unlinked."""

    now = (now or utcnow()).replace(second=0, microsecond=0)
    # Her account comes with the demo logins; without them (a screenshot run) the term is nobody's.
    lecturer = db.session.scalars(select(User).where(User.email == DEMO_LOGINS[3].email)).one_or_none()
    running = db.session.scalars(
        select(Term).where(Term.lecturer == DEMO_LECTURER, Term.state == TermState.SCHEDULED,
                           Term.starts_at <= now, Term.ends_at > now)
    ).first()
    if running is not None:
        if lecturer is not None and lecturer not in running.lecturers:
            running.lecturers.append(lecturer)
            db.session.commit()
        return running
    region = db.session.scalars(select(Region).where(Region.code == DEMO_REGION)).one()
    offer = db.session.scalars(
        select(Offer).where(Offer.kind == OfferKind.WORKSHOP, Offer.status == OfferStatus.RUNNING,
                            Offer.custom.is_(False), Offer.withdrawn_at.is_(None)).order_by(Offer.position)
    ).first()
    term = Term(offer=offer, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=2),
                form=TermForm.IN_PERSON, region=region, venue=_DEMO_PLACES[0][1], capacity=16, per_orp_limit=3,
                lecturer=DEMO_LECTURER, lecturers=[lecturer] if lecturer is not None else [])
    db.session.add(term)
    db.session.commit()
    orps = {o.name: o for o in db.session.scalars(select(Orp).where(Orp.region_id == region.id))}
    signed_up = now - timedelta(days=3)  # they signed up while it was open
    for name, orp_name in _DEMO_PEOPLE:
        email = normalized_demo_email(name)
        registration.register(term.id, registration.Applicant(
            name=name, email=email, employer_type=EmployerType.OSPOD, job_title="sociální pracovník OSPOD",
            region_id=region.id, orp_id=orps[orp_name].id), now=signed_up)
    return term


def normalized_demo_email(name: str) -> str:
    """ "Jiří Šťastný" -> "jiri.stastny@spod4.example": a reserved domain, so no e-mail leaves."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return ".".join(plain.split()) + "@spod4.example"


DEMO_REQUESTER = "zadatelka@spod4.example"


def seed_demo_request() -> SupportRequest:
    """A request for a workshop na klíč from Pardubický kraj, waiting for the demo coordinator:
    journey 2 (request → agreed → closed term) without typing a request first."""

    waiting = db.session.scalars(
        select(SupportRequest).where(SupportRequest.requester_email == DEMO_REQUESTER)
        .order_by(SupportRequest.id.desc())
    ).first()
    if waiting is not None:
        return waiting
    region = db.session.scalars(select(Region).where(Region.code == DEMO_REGION)).one()
    offer = db.session.scalars(select(Offer).where(Offer.slug == "od-analyzy-k-tvorbe-ipod")).one_or_none()
    return requests.submit_custom_workshop(
        requests.Requester(name="Marie Ukázková", email=DEMO_REQUESTER,
                           organisation="Ukázkový úřad – odbor sociálních věcí Pardubického kraje"),
        requests.CustomWorkshop(
            region_id=region.id, participant_needs="Ukázková žádost: sjednotit postup při tvorbě IPOD napříč ORP kraje.",
            expected_participants=18, preferred_dates="příští měsíc, nejlépe v úterý dopoledne",
            topic_offer_id=offer.id if offer else None, topic_text=None if offer else "Tvorba IPOD",
            preferred_form=TermForm.IN_PERSON, place=_DEMO_PLACES[0][1]),
    ).request


@dataclass
class Demo:
    terms_added: int
    logins: list[DemoLogin]
    today: Term
    request: SupportRequest


def seed_demo(now: datetime | None = None) -> Demo:
    """Everything `make run` shows a newcomer: demo terms, logins, a term today, a request."""
    added = seed_demo_terms()
    logins = seed_demo_accounts()
    return Demo(added, logins, seed_demo_term_today(now), seed_demo_request())
