"""What the two term forms share: the organiser's term form (terms/staff_forms.py TermEditForm) and
the coordinator's closed term of a request (requests/forms.py ClosedTermForm).

Both build their `TermData` through `term_data` and take their number fields' limits from
the service (terms/service.py), which checks the same limits for every caller; so a form
never lets through what the service refuses, nor refuses what it takes.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from wtforms import SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import WholeNumberField
from ..models import TermForm, User
from .service import (
    CAPACITY_MESSAGE,
    HOURS_MESSAGE,
    MAX_CAPACITY,
    MAX_HOURS,
    MIN_HOURS,
    TermData,
    account_label,
    in_czech_order,
)


def capacity_field(label: str = "Kapacita", **kwargs) -> WholeNumberField:
    return WholeNumberField(label, validators=[
        InputRequired("Zadejte kapacitu."), NumberRange(min=1, max=MAX_CAPACITY, message=CAPACITY_MESSAGE)], **kwargs)


def per_orp_limit_field(label: str, **kwargs) -> WholeNumberField:
    return WholeNumberField(label, validators=[
        Optional(), NumberRange(min=1, max=MAX_CAPACITY, message=CAPACITY_MESSAGE)], **kwargs)


def hours_range() -> NumberRange:
    return NumberRange(min=MIN_HOURS, max=MAX_HOURS, message=HOURS_MESSAGE)


class LecturerAccountsField(SelectMultipleField):
    """Checkboxes of lecturer accounts; `data` is the ticked accounts' ids. The service checks
    them again (terms/service.py `_linked_lecturers`): this only keeps a crafted value in Czech."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
    MESSAGE = "Vyberte lektorské účty ze seznamu."

    def __init__(self, label="Lektorské účty s přístupem k docházce", **kwargs):
        kwargs.setdefault("description", "Zaškrtnuté účty mohou u tohoto termínu zapisovat příchody a docházku "
                                         "a stáhnout prezenční listinu a osvědčení. Text lektorského vedení "
                                         "výše se jen zobrazuje a tiskne.")
        super().__init__(label, coerce=int, **kwargs)

    def process_formdata(self, valuelist):
        try:
            self.data = [int(value) for value in valuelist]
        except ValueError:
            self.data = []
            raise ValueError(self.MESSAGE)

    def pre_validate(self, form):
        offered = {choice.value for choice in self.choices}
        if any(value not in offered for value in self.data or ()):
            raise ValidationError(self.MESSAGE)

    def set_accounts(self, active: Iterable[User], linked: Iterable[User] = ()) -> None:
        """Active lecturer accounts and those the term has already, by surname in Czech order; a
        deactivated one still linked is shown as such, so that saving the form does not drop her
        unseen."""
        accounts = {user.id: user for user in [*active, *linked]}
        self.choices = [
            SelectChoice(user.id, account_label(user) + ("" if user.active else " – účet je deaktivovaný"))
            for user in in_czech_order(accounts.values())
        ]


def _text(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


def term_data(*, offer_id: int, starts_at: datetime, ends_at: datetime, form: TermForm, capacity: int,
              region_id: int | None = None, venue: str | None = None, online_url: str | None = None,
              per_orp_limit: int | None = None, registration_deadline: datetime | None = None,
              lecturer: str | None = None, hours: float | None = None, public: bool = True,
              restricted_region_id: int | None = None, restricted_orp_id: int | None = None,
              lecturer_ids: Iterable[int] = ()) -> TermData:
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
        lecturer_ids=tuple(sorted(set(lecturer_ids))),
    )
