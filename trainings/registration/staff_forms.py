"""Back-office forms about registrations: adding one by hand, confirming, cancelling,
the internal note, and marking attendance at the door."""
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..forms import CzechForm
from .forms import RegistrationForm


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class RegistrationAddForm(RegistrationForm):
    """The public sign-up form, filled in by an organiser on someone's behalf."""

    consent = BooleanField(
        "Osoba souhlasí se zpracováním osobních údajů pro účely registrace a vykazování projektu.",
        validators=[DataRequired("Osobu lze přihlásit jen s jejím souhlasem se zpracováním údajů.")],
    )
    over_capacity = BooleanField(
        "Potvrdit i nad kapacitu",
        description="Bez zaškrtnutí jde osoba při plném termínu (nebo vyčerpaném limitu ORP) na čekací listinu.",
    )
    note = TextAreaField("Interní poznámka", validators=[Optional(), Length(max=2000, message="Nejvýše 2000 znaků.")],
                         description="Nepovinné; vidí ji jen organizátoři.")


class ConfirmRegistrationForm(CzechForm):
    over_capacity = BooleanField("i nad kapacitu")


class StaffCancelForm(CzechForm):
    reason = StringField("Důvod (do historie)", validators=[Optional(), Length(max=300, message="Nejvýše 300 znaků.")],
                         filters=[_strip])


class NoteForm(CzechForm):
    note = TextAreaField("Interní poznámka", validators=[Optional(), Length(max=2000, message="Nejvýše 2000 znaků.")],
                         description="Vidí ji jen organizátoři; přihlášená osoba ji nevidí, není ani v exportech.")


class AttendanceForm(CzechForm):
    """One tap at the door: present, no-show, or back to not marked (the undo)."""

    attended = RadioField(
        choices=[SelectChoice("ano", "přítomnost"), SelectChoice("ne", "neúčast"),
                 SelectChoice("zpet", "nezapsáno")],
        validators=[InputRequired()],
    )

    @property
    def value(self) -> bool | None:
        return {"ano": True, "ne": False}.get(self.attended.data)
