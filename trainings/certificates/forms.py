from wtforms import StringField
from wtforms.validators import InputRequired, Length, ValidationError

from ..forms import CzechForm
from .service import normalise_code


def _a_code(form, field):
    if normalise_code(field.data) is None:
        raise ValidationError("Kód má 12 znaků, písmena a číslice, např. ABCD-EFGH-JKMN; zkontrolujte jej prosím.")


class CodeForm(CzechForm):
    """Read from the query string: looking a code up changes nothing, so no CSRF token."""

    class Meta:
        csrf = False

    kod = StringField(
        "Ověřovací kód",
        validators=[InputRequired("Zadejte ověřovací kód z osvědčení."), Length(max=40, message="Kód je příliš dlouhý."),
                    _a_code],
        description="Najdete jej v zápatí osvědčení vedle QR kódu, např. ABCD-EFGH-JKMN.",
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"},
    )
