"""What the two term forms share: the organiser's term form (staff/forms.py TermEditForm) and
the coordinator's closed term of a request (requests/forms.py ClosedTermForm).

Both build their `TermData` through `term_data` and take their number fields' limits from
the service (terms/service.py), which checks the same limits for every caller; so a form
never lets through what the service refuses, nor refuses what it takes.
"""
from __future__ import annotations

from datetime import datetime

from wtforms.validators import InputRequired, NumberRange, Optional

from ..forms import WholeNumberField
from ..models import TermForm
from .service import CAPACITY_MESSAGE, HOURS_MESSAGE, MAX_CAPACITY, MAX_HOURS, MIN_HOURS, TermData


def capacity_field(label: str = "Kapacita", **kwargs) -> WholeNumberField:
    return WholeNumberField(label, validators=[
        InputRequired("Zadejte kapacitu."), NumberRange(min=1, max=MAX_CAPACITY, message=CAPACITY_MESSAGE)], **kwargs)


def per_orp_limit_field(label: str, **kwargs) -> WholeNumberField:
    return WholeNumberField(label, validators=[
        Optional(), NumberRange(min=1, max=MAX_CAPACITY, message=CAPACITY_MESSAGE)], **kwargs)


def hours_range() -> NumberRange:
    return NumberRange(min=MIN_HOURS, max=MAX_HOURS, message=HOURS_MESSAGE)


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def term_data(*, offer_id: int, starts_at: datetime, ends_at: datetime, form: TermForm, capacity: int,
              region_id: int | None = None, venue: str | None = None, online_url: str | None = None,
              per_orp_limit: int | None = None, registration_deadline: datetime | None = None,
              lecturer: str | None = None, hours: float | None = None, public: bool = True,
              restricted_region_id: int | None = None, restricted_orp_id: int | None = None) -> TermData:
    """The term a form describes. An online term has no place and a prezenční one no meeting
    link: what was typed for the other form is dropped, not kept stale. Empty text is None."""
    online = form == TermForm.ONLINE
    return TermData(
        offer_id=offer_id, starts_at=starts_at, ends_at=ends_at, form=form, capacity=capacity,
        region_id=None if online else region_id,
        venue=None if online else _text(venue),
        online_url=_text(online_url) if online else None,
        per_orp_limit=per_orp_limit, registration_deadline=registration_deadline, lecturer=_text(lecturer),
        hours=hours, public=public, restricted_region_id=restricted_region_id, restricted_orp_id=restricted_orp_id,
    )
