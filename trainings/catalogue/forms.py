from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from ..forms import CzechForm, valid_email
from ..models import TermForm
from ..places import GroupedSelect, check_orp_in_region, optional_int, orp_choices, region_choices


class CatalogueFilterForm(CzechForm):
    """GET filters of the catalogue; no CSRF needed for a read-only query."""

    class Meta:
        csrf = False
        locales = ("cs_CZ", "cs")

    form = SelectField(
        "Forma",
        choices=[SelectChoice("", "Všechny formy")] + [SelectChoice(f.value, f.label) for f in TermForm],
        validators=[Optional()],
    )
    kraj = SelectField("Kraj", coerce=optional_int, validators=[Optional()])
    mesic = SelectField("Měsíc", validators=[Optional()])
    volna = BooleanField("Jen s volnými místy")
    q = StringField("Hledat", validators=[Optional(), Length(max=100)])


class InterestForm(CzechForm):
    email = EmailField(
        "E-mail",
        validators=[DataRequired("Vyplňte prosím e-mail."), Length(max=254), valid_email],
        render_kw={"autocomplete": "email"},
    )
    region = SelectField("Kraj", coerce=optional_int, validators=[DataRequired("Vyberte kraj.")])
    orp = SelectField("ORP (v Praze městská část; nepovinné)", coerce=optional_int, widget=GroupedSelect())
    consent = BooleanField(
        "Souhlasím se zpracováním e-mailu a pracoviště pro zaslání zprávy o novém termínu.",
        validators=[DataRequired("Bez souhlasu vám nemůžeme napsat.")],
    )

    def set_places(self, regions):
        self.region.choices = region_choices(regions)
        self.orp.choices = orp_choices(regions)

    def validate_orp(self, field):
        check_orp_in_region(self.region.data, field.data)
