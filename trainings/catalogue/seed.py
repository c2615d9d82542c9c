"""Loading the SPOD4 catalogue and reference data from the package's data files.

Every loader is an upsert keyed by a natural key (slug, code, e-mail), so
running `flask --app app seed` twice changes nothing.
"""
import csv
from datetime import datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import select

from ..extensions import db
from ..models import (
    Offer,
    OfferKind,
    OfferStatus,
    Orp,
    Region,
    StaffRole,
    Term,
    TermForm,
    User,
)
from ..timefmt import PRAGUE

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@lru_cache
def catalogue_document() -> dict:
    """The catalogue file as written: project facts, contacts, sections, offers."""
    with open(DATA_DIR / "catalogue.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def _regions_document() -> dict:
    with open(DATA_DIR / "regions.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def _upsert(model, key: dict, values: dict):
    obj = db.session.scalars(select(model).filter_by(**key)).one_or_none()
    if obj is None:
        obj = model(**key)
        db.session.add(obj)
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
    return obj


def seed_regions() -> None:
    doc = _regions_document()
    regions = {}
    for item in doc["regions"]:
        person = item["coordinator"]
        # Coordinators start without a password; they set one through an e-mailed link.
        user = _upsert(
            User,
            {"email": person["email"]},
            {"name": person["name"]},
        )
        if user.role is None:
            user.role = StaffRole.COORDINATOR
        regions[item["code"]] = _upsert(
            Region,
            {"code": item["code"]},
            {"slug": item["slug"], "name": item["name"], "coordinator": user},
        )
    db.session.flush()

    with open(DATA_DIR / "orp.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            _upsert(
                Orp,
                {"code": row["orp_code"]},
                {
                    "name": row["orp_name"],
                    "region_id": regions[row["region_nuts3"]].id,
                    "population": int(row["population_2019"]),
                },
            )
    for number in range(1, doc["prague_districts"] + 1):
        _upsert(
            Orp,
            {"code": f"PHA-{number:02d}"},
            {"name": f"Praha {number}", "region_id": regions["CZ010"].id, "population": None},
        )


def seed_catalogue() -> None:
    for position, item in enumerate(catalogue_document()["offers"]):
        _upsert(
            Offer,
            {"slug": item["slug"]},
            {
                "kind": OfferKind(item["kind"]),
                "status": OfferStatus(item["status"]) if item.get("status") else None,
                "code": item.get("code"),
                "group": item.get("group"),
                "position": position,
                "title": item["title"],
                "forms": list(item.get("forms") or []),
                "period": item.get("period"),
                "custom": bool(item.get("custom")),
                "summary": item.get("summary"),
                "description": item.get("description"),
                "audience": item.get("audience"),
                "prerequisite_hint": item.get("prerequisite_hint"),
            },
        )


def seed_all() -> None:
    seed_regions()
    seed_catalogue()
    db.session.commit()


# Demo terms: a few weeks ahead, on weekdays, mornings.
_DEMO_PLACES = [
    ("CZ053", "Krajský úřad Pardubického kraje, Komenského náměstí 125, Pardubice"),
    ("CZ064", "Krajský úřad Jihomoravského kraje, Žerotínovo náměstí 3, Brno"),
    ("CZ010", "MPSV, Kartouzská 200/4, Praha 5"),
]


def seed_demo_terms(today=None) -> int:
    """Add demo terms to every running workshop that has none; return how many."""
    today = today or datetime.now(PRAGUE).date()
    created = 0
    offers = db.session.scalars(
        select(Offer).where(
            Offer.kind == OfferKind.WORKSHOP,
            Offer.status == OfferStatus.RUNNING,
            Offer.custom.is_(False),
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
                    online_url="https://teams.microsoft.com/l/meetup-join/demo" if online else None,
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
    from ..staff.accounts import set_password

    email, password = DEMO_ORGANISER
    user = _upsert(User, {"email": email}, {"name": "Ukázková organizátorka", "role": StaffRole.ORGANISER})
    set_password(user, password)
    db.session.commit()
    return email, password
