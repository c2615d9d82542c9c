"""Kraje and ORP for forms: choices grouped by kraj, and the rule that an ORP
must lie in the chosen kraj."""
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from .extensions import db
from .models import Orp, Region


def regions_with_orps() -> list[Region]:
    return db.session.scalars(select(Region).options(selectinload(Region.orps)).order_by(Region.name)).all()


def regions_with_coordinators() -> list[Region]:
    return db.session.scalars(
        select(Region).options(selectinload(Region.coordinator)).order_by(Region.name)
    ).all()


def region_choices(regions, empty="Vyberte kraj") -> list[SelectChoice]:
    return [SelectChoice("", empty)] + [SelectChoice(r.id, r.name) for r in regions]


def orp_choices(regions) -> list[SelectChoice]:
    """Grouped by kraj (an <optgroup> each), so the list works without JavaScript."""
    return [SelectChoice("", "Vyberte ORP / městskou část")] + [
        SelectChoice(o.id, o.name, optgroup=r.name) for r in regions for o in r.orps
    ]


def check_orp_in_region(region_id, orp_id) -> None:
    if orp_id is None or region_id is None or orp_id == INVALID:
        return
    orp = db.session.get(Orp, orp_id)
    if orp is None or orp.region_id != region_id:
        raise ValidationError("Vybraná ORP nepatří do zvoleného kraje.")


MAX_ID = 2**31 - 1
INVALID = -1  # matches no choice, so the select says "not a valid choice"


def optional_int(value):
    """Coerce for selects of ids whose empty choice means "nothing chosen".

    Garbage and numbers no database id can have become INVALID rather than
    an exception or an integer too large for the database driver.
    """
    if value in (None, "", "None"):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return INVALID
    return number if 0 < number <= MAX_ID else INVALID
