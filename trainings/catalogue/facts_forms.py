"""The back office's form for the project's facts and contacts; the rules are in facts_editing.py."""
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional

from .. import czech
from ..forms import CzechForm, phone_field, valid_email
from .facts_editing import CONTACT_FIELDS, TEXTS

# Rows of the form: the contacts there are and room for new ones; an emptied row is removed.
CONTACT_ROWS = 6
LINE_MAX = 200
TEXT_MAX = 5_000
_LONG_TEXTS = {"intro", "region_intro", "region_note"}


def _at_most(length: int) -> str:
    return f"Nejvýše {czech.count_noun(length, *czech.CHARACTERS)}."


def _line(label, **kwargs):
    return StringField(label, validators=[Optional(), Length(max=LINE_MAX, message=_at_most(LINE_MAX))], **kwargs)


class FactsForm(CzechForm):
    """Texts by their names in facts_editing.TEXTS; contact n's fields are contact_<n>_<field>."""

    def values(self) -> dict:
        return {
            "project": {name: self[name].data for name in TEXTS},
            "contacts": [{name: self[f"contact_{row}_{name}"].data or "" for name in CONTACT_FIELDS}
                         for row in range(CONTACT_ROWS)],
        }

    @staticmethod
    def data_of(values: dict) -> dict:
        data = dict(values["project"])
        for row, person in enumerate(values["contacts"][:CONTACT_ROWS]):
            data.update({f"contact_{row}_{name}": person.get(name) or "" for name in CONTACT_FIELDS})
        return data

    def contact_rows(self) -> list[list]:
        return [[self[f"contact_{row}_{name}"] for name in CONTACT_FIELDS] for row in range(CONTACT_ROWS)]


for _name, _label in TEXTS.items():
    _label = _label[0].upper() + _label[1:]  # str.capitalize() would lower "OSPOD"
    setattr(FactsForm, _name, TextAreaField(
        _label, validators=[Optional(), Length(max=TEXT_MAX, message=_at_most(TEXT_MAX))],
        render_kw={"rows": 5}) if _name in _LONG_TEXTS else _line(_label))

for _row in range(CONTACT_ROWS):
    setattr(FactsForm, f"contact_{_row}_name", _line("Jméno", render_kw={"autocomplete": "off"}))
    setattr(FactsForm, f"contact_{_row}_topic", _line(
        "Kontakt pro", description="Např. „workshopy“ nebo „oblast metodické podpory“."))
    setattr(FactsForm, f"contact_{_row}_email", StringField(
        "E-mail", validators=[Optional(), Length(max=254, message=_at_most(254)), valid_email],
        render_kw={"autocomplete": "off", "inputmode": "email"}))
    _phone = phone_field()
    _phone.args = ("Telefon (nepovinné)",)
    _phone.kwargs["render_kw"] = {"autocomplete": "off"}
    setattr(FactsForm, f"contact_{_row}_phone", _phone)
