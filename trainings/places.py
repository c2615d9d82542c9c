"""Kraje and ORP for forms: choices grouped by kraj, and the rule that an ORP
must lie in the chosen kraj."""
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from markupsafe import Markup, escape
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import Select, html_params
from wtforms.validators import ValidationError

from .collation import czech_key
from .extensions import db
from .models import Region


@dataclass(frozen=True)
class PlaceOrp:
    id: int
    name: str


@dataclass(frozen=True)
class PlaceRegion:
    id: int
    name: str
    orps: tuple[PlaceOrp, ...]


# Kraje and ORP change only when `seed` runs on a deploy; every form page
# needs all 14 + 227 of them. Loading them as ORM objects on each request was
# the largest cost of the sign-up form, so each process keeps plain copies
# for a few minutes.
PLACES_CACHE_SECONDS = 300


@dataclass(frozen=True)
class Places:
    regions: tuple[PlaceRegion, ...]
    region_of_orp: dict[int, int]


_places_cache: dict[str, tuple[float, Places]] = {}


def places() -> Places:
    key = str(db.engine.url)
    cached = _places_cache.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    regions = in_czech_order(db.session.scalars(select(Region).options(selectinload(Region.orps))).all())
    value = Places(
        tuple(PlaceRegion(r.id, r.name, tuple(PlaceOrp(o.id, o.name) for o in in_czech_order(r.orps)))
              for r in regions),
        {o.id: r.id for r in regions for o in r.orps},
    )
    _places_cache[key] = (time.monotonic() + PLACES_CACHE_SECONDS, value)
    return value


def regions_with_orps() -> tuple[PlaceRegion, ...]:
    return places().regions


def regions_open_to(region_id: int | None, orp_id: int | None) -> tuple[PlaceRegion, ...]:
    """The kraje (and ORP) a closed term admits, for its form: only its kraj, only its ORP; every one
    when it is not restricted. The service decides (check_eligibility); the form offers no other."""
    if orp_id is not None:
        region_id = places().region_of_orp.get(orp_id, region_id)
    if region_id is None:
        return regions_with_orps()
    return tuple(
        PlaceRegion(r.id, r.name, tuple(o for o in r.orps if orp_id is None or o.id == orp_id))
        for r in regions_with_orps() if r.id == region_id
    )


def region_exists(region_id) -> bool:
    return any(r.id == region_id for r in places().regions)


def orp_in_region(region_id, orp_id) -> bool:
    """The rule that an ORP lies in the chosen kraj, from the cached mapping (no query)."""
    return orp_id is not None and places().region_of_orp.get(orp_id) == region_id


def regions_with_coordinators() -> list[Region]:
    return in_czech_order(db.session.scalars(select(Region).options(selectinload(Region.coordinator))).all())


def in_czech_order(places):
    """Kraje or ORP (anything with a `name`) in Czech alphabetical order, Prague's districts by number.

    Sorted here rather than in SQL: neither SQLite nor PostgreSQL's default
    collation knows Czech ("Chrudim" after "Hlinsko", "Česká Třebová" after
    "Cvikov"), and every list of places comes through this module.
    """
    return sorted(places, key=lambda place: czech_key(place.name))


# Choice lists built once per cached tuple of places (the sign-up form needs 241 of them
# on every request, also on the POST that only re-shows the form on an error).
_choices_memo: dict[tuple, tuple] = {}


def _memo(key, regions, build) -> tuple:
    hit = _choices_memo.get((key, id(regions)))
    if hit is None or hit[0] is not regions:
        if len(_choices_memo) > 64:
            _choices_memo.clear()
        hit = _choices_memo[(key, id(regions))] = (regions, tuple(build()))
    return hit[1]


def region_choices(regions, empty="Vyberte kraj") -> tuple[SelectChoice, ...]:
    return _memo(("regions", empty), regions,
                 lambda: [SelectChoice("", empty)] + [SelectChoice(r.id, r.name) for r in regions])


def orp_choices(regions) -> tuple[SelectChoice, ...]:
    """Grouped by kraj (an <optgroup> each), so the list works without JavaScript."""
    return _memo("orps", regions, lambda: [SelectChoice("", "Vyberte ORP / městskou část")] + [
        SelectChoice(o.id, o.name, optgroup=r.name) for r in regions for o in r.orps
    ])


class GroupedSelect(Select):
    """A <select> for the long ORP list (240 options in 14 groups).

    WTForms escapes and formats every option on every page; here the options'
    HTML is built once per distinct choice list and only the chosen option is
    marked, which took the sign-up form's rendering from most of its time to
    a small part of it.
    """

    _options_html: dict[tuple, str] = {}

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        if "required" not in kwargs and "required" in getattr(field, "flags", []):
            kwargs["required"] = True
        choices = tuple((str(c.value), c.label, c.optgroup) for c in field.choices)
        options = self._options_html.get(choices)
        if options is None:
            options = self._options_html[choices] = self._render(choices)
        chosen = "" if field.data is None else str(field.data)
        marker = f'<option value="{escape(chosen)}">'
        options = options.replace(marker, f'<option selected value="{escape(chosen)}">', 1)
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")

    @staticmethod
    def _render(choices) -> str:
        parts, group = [], None
        for value, label, optgroup in choices:
            if optgroup != group:
                if group is not None:
                    parts.append("</optgroup>")
                if optgroup is not None:
                    parts.append(f'<optgroup label="{escape(optgroup)}">')
                group = optgroup
            parts.append(f'<option value="{escape(value)}">{escape(label)}</option>')
        if group is not None:
            parts.append("</optgroup>")
        return "".join(parts)


ORP_NOT_IN_REGION = "Vybraná ORP nepatří do zvoleného kraje."


def check_orp_in_region(region_id, orp_id) -> None:
    """The form's check, so the message shows with the form's other errors at once."""
    if orp_id is None or region_id is None or orp_id == INVALID:
        return
    if not orp_in_region(region_id, orp_id):
        raise ValidationError(ORP_NOT_IN_REGION)


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
