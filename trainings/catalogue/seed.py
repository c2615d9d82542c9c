"""Loading the SPOD4 catalogue and reference data from the package's data files.

Every loader is an upsert keyed by a natural key (slug, code, e-mail), so
running `flask --app app seed` twice changes nothing; offers staff have edited are skipped.
"""
import csv

import yaml
from sqlalchemy import select

from ..extensions import db
from . import texts
from ..models import Offer, OfferKind, OfferStatus, Orp, Region, StaffRole, User
from ..project import DATA_DIR, catalogue_document


def _regions_document() -> dict:
    with open(DATA_DIR / "regions.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def upsert(model, key: dict, values: dict):
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
        user = upsert(
            User,
            {"email": person["email"]},
            {"name": person["name"]},
        )
        if user.role is None:
            user.role = StaffRole.COORDINATOR
        region = upsert(Region, {"code": item["code"]}, {"slug": item["slug"], "name": item["name"]})
        # Only a kraj without one gets the seed's coordinator: after that administrators assign
        # them under Lidé, and a deploy's seed must not undo their choice.
        if region.coordinator_id is None and region.coordinator is None:
            region.coordinator = user
        regions[item["code"]] = region
    db.session.flush()

    with open(DATA_DIR / "orp.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            upsert(
                Orp,
                {"code": row["orp_code"]},
                {
                    "name": row["orp_name"],
                    "region_id": regions[row["region_nuts3"]].id,
                    "population": int(row["population_2019"]),
                },
            )
    for number in range(1, doc["prague_districts"] + 1):
        upsert(
            Orp,
            {"code": f"PHA-{number:02d}"},
            {"name": f"Praha {number}", "region_id": regions["CZ010"].id, "population": None},
        )


def seed_catalogue() -> None:
    """The catalogue file is the first seed only: an offer staff have changed, added or withdrawn
    in the back office (`edited_at`) is left as they made it (trainings/catalogue/editing.py)."""
    edited = set(db.session.scalars(select(Offer.slug).where(Offer.edited_at.is_not(None))))
    for position, item in enumerate(catalogue_document()["offers"]):
        if item["slug"] in edited:
            continue
        upsert(
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
                "aliases": list(item.get("aliases") or []),
                "period": item.get("period"),
                "custom": bool(item.get("custom")),
                "summary": item.get("summary"),
                "description": item.get("description"),
                "audience": item.get("audience"),
                "prerequisite_hint": item.get("prerequisite_hint"),
            },
        )
    texts.forget()  # the names that link other offers' texts may have changed


def seed_all() -> None:
    seed_regions()
    seed_catalogue()
    db.session.commit()
