"""The back office's form for one catalogue offer; the rules themselves are in editing.py."""
from wtforms import RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .. import czech
from ..forms import CzechForm
from ..models import OfferKind, TermForm
from .editing import PERIOD_MAX, STATUS_LABELS, TITLE_MAX

TEXT_MAX = 20_000


class FormsField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        # WTForms' own message is English and repeats the value sent.
        known = {choice.value for choice in self.choices}
        if any(value not in known for value in self.data or []):
            raise ValidationError("Vyberte formu ze seznamu.")


def _at_most(length: int) -> str:
    return f"Nejvýše {czech.count_noun(length, *czech.CHARACTERS)}."


def _text(label, description=None, rows=4):
    return TextAreaField(label, validators=[Optional(), Length(max=TEXT_MAX, message=_at_most(TEXT_MAX))],
                         description=description, render_kw={"rows": rows})


class OfferForm(CzechForm):
    """Field names follow editing.FIELDS, so a service refusal lands next to its field."""

    title = StringField("Název", validators=[DataRequired("Vyplňte prosím název."),
                                             Length(max=TITLE_MAX, message=_at_most(TITLE_MAX))],
                        description="Adresa stránky se změnou názvu nemění, staré odkazy dál fungují.")
    aliases = TextAreaField(
        "Další názvy", validators=[Optional(), Length(max=TEXT_MAX, message=_at_most(TEXT_MAX))],
        description="Jak dokumenty workshop také nazývají, jeden název na řádek. Zmínka v textu jiné nabídky se "
                    "stane odkazem sem.", render_kw={"rows": 2})
    status = RadioField("Stav workshopu", choices=[SelectChoice(v, label) for v, label in STATUS_LABELS.items()],
                        validators=[DataRequired("Vyberte, zda workshop probíhá, nebo je plánovaný.")])
    forms = FormsField("Forma", choices=[SelectChoice(f.value, f.label) for f in TermForm],
                       validators=[Optional()])
    period = StringField("Plánované období", validators=[Optional(), Length(
        max=PERIOD_MAX, message=_at_most(PERIOD_MAX))],
        description="U plánovaného workshopu, např. „jaro 2027“ nebo „od září 2027“.")
    audience = _text("Pro koho", rows=2)
    summary = _text("Shrnutí", "Krátký text do přehledu nabídky.", rows=3)
    description = _text("Popis", "Každý řádek je odstavec; řádek začínající pomlčkou a mezerou („- “) je odrážka.", rows=10)
    prerequisite_hint = _text("Doporučená návaznost", "Název jiného workshopu se na stránce stane odkazem.", rows=2)

    def for_kind(self, kind: OfferKind) -> "OfferForm":
        """Only workshops run or are planned: other kinds have no status field."""
        if kind != OfferKind.WORKSHOP:
            del self.status
        return self

    def process(self, formdata=None, obj=None, data=None, **kwargs):
        # Stored as a list, typed one a line.
        if data and isinstance(data.get("aliases"), list):
            data = {**data, "aliases": "\n".join(data["aliases"])}
        super().process(formdata, obj, data, **kwargs)

    def values(self) -> dict:
        values = {name: field.data for name, field in self._fields.items() if name != "csrf_token"}
        values["aliases"] = (values.get("aliases") or "").splitlines()
        return values
