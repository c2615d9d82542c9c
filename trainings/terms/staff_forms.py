"""The organiser's term forms: a term of a workshop, its cancellation, a message to its participants."""
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, InputRequired, Length, Optional

from ..forms import REQUIRED, CzechForm, CzechNumberField, PragueDateTimeField
from ..models import OfferStatus, TermForm
from ..places import optional_int, orp_choices, region_choices
from .forms import LecturerAccountsField, capacity_field, hours_range, per_orp_limit_field, term_data
from .service import TermData


class TermEditForm(CzechForm):
    """A term of a workshop; field names follow `TermData`, so service errors land on the right field."""

    offer_id = SelectField("Workshop", coerce=optional_int, validators=[DataRequired("Vyberte workshop.")])
    starts_at = PragueDateTimeField("Začátek", validators=[InputRequired("Zadejte začátek.")],
                                    description="Místní čas (Praha).")
    ends_at = PragueDateTimeField("Konec", validators=[InputRequired("Zadejte konec.")])
    term_form = RadioField(
        "Forma", choices=[SelectChoice(f.value, f.label) for f in TermForm],
        validators=[DataRequired("Vyberte formu.")],
    )
    region_id = SelectField("Kraj konání", coerce=optional_int, description="U prezenčního termínu.")
    venue = StringField("Místo konání", validators=[Optional(), Length(max=300, message="Nejvýše 300 znaků.")],
                        description="Adresa a místnost; u prezenčního termínu povinné.")
    online_url = StringField(
        "Odkaz na online setkání",
        validators=[Optional(), Length(max=500, message="Nejvýše 500 znaků."),
                    URL(message="Zadejte celý odkaz začínající https://.")],
        description="Uvidí jej jen potvrzení účastníci. Lze doplnit později.",
    )
    capacity = capacity_field()
    per_orp_limit = per_orp_limit_field("Limit míst na jednu ORP",
                                        description="Nepovinné; prázdné pole znamená bez limitu.")
    registration_deadline = PragueDateTimeField("Uzávěrka přihlášek", validators=[Optional()],
                                                description="Nepovinné; jinak do začátku termínu.")
    lecturer = StringField("Lektorské vedení", validators=[Optional(), Length(max=300, message="Nejvýše 300 znaků.")],
                           description="Text, který uvidí účastníci a který se tiskne na osvědčení; "
                                       "více jmen oddělte čárkou.")
    lecturer_ids = LecturerAccountsField()
    hours = CzechNumberField("Rozsah v hodinách", validators=[Optional(), hours_range()],
        description="Pro osvědčení a roční povinnost 24 hodin; prázdné pole znamená délku od začátku do konce.")
    public = BooleanField("Veřejný termín (zobrazený v katalogu)")
    restricted_region_id = SelectField("Jen pro kraj", coerce=optional_int,
                                       description="Nepovinné: přihlásit se mohou jen pracovníci z tohoto kraje.")
    restricted_orp_id = SelectField("Jen pro ORP", coerce=optional_int,
                                    description="Nepovinné: přihlásit se mohou jen pracovníci z této ORP.")

    def set_choices(self, offers, regions, lecturers, linked=()):
        self.offer_id.choices = [SelectChoice("", "Vyberte workshop")] + [
            SelectChoice(o.id, o.title, optgroup="Probíhající" if o.status == OfferStatus.RUNNING else "Plánované")
            for o in offers
        ]
        self.region_id.choices = region_choices(regions, empty="—")
        self.restricted_region_id.choices = region_choices(regions, empty="bez omezení")
        self.restricted_orp_id.choices = [SelectChoice("", "bez omezení"), *orp_choices(regions)[1:]]
        self.lecturer_ids.set_accounts(lecturers, linked)

    @classmethod
    def for_data(cls, data: TermData):
        values = {name: getattr(data, name) for name in TermData.__dataclass_fields__}
        values["term_form"] = data.form.value
        return cls(data=values)

    def to_data(self) -> TermData:
        return term_data(
            offer_id=self.offer_id.data,
            starts_at=self.starts_at.data,
            ends_at=self.ends_at.data,
            form=TermForm(self.term_form.data),
            capacity=self.capacity.data,
            region_id=self.region_id.data,
            venue=self.venue.data,
            online_url=self.online_url.data,
            per_orp_limit=self.per_orp_limit.data,
            registration_deadline=self.registration_deadline.data,
            lecturer=self.lecturer.data,
            hours=self.hours.data,
            public=bool(self.public.data),
            restricted_region_id=self.restricted_region_id.data,
            restricted_orp_id=self.restricted_orp_id.data,
            lecturer_ids=self.lecturer_ids.data or (),
        )


class TermCancelForm(CzechForm):
    reason = TextAreaField("Důvod zrušení (pošleme jej přihlášeným)", validators=[
        Optional(), Length(max=500, message="Nejvýše 500 znaků.")])


class MessageForm(CzechForm):
    subject = StringField("Předmět", validators=[DataRequired(REQUIRED), Length(max=150, message="Nejvýše 150 znaků.")])
    body = TextAreaField("Text zprávy", validators=[DataRequired(REQUIRED),
                                                    Length(max=5000, message="Nejvýše 5000 znaků.")],
                         description="Pod text připojíme údaje o termínu a odkaz na přihlášku.")
