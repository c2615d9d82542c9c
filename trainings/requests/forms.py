"""The three public request forms and the staff forms of the request pages."""
from datetime import datetime, time, timedelta

from wtforms import (
    BooleanField,
    EmailField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .. import czech
from ..forms import REQUIRED, CzechDateField, CzechForm, CzechTimeField, WholeNumberField, phone_field, valid_email
from ..models import TermForm, Urgency
from ..places import GroupedSelect, check_orp_in_region, optional_int, orp_choices, region_choices
from ..terms.forms import capacity_field, per_orp_limit_field, term_data
from ..terms.service import TermData
from ..timefmt import PRAGUE


def _text(label, max_length, required=True, **kw):
    validators = [DataRequired(REQUIRED)] if required else [Optional()]
    validators += [Length(max=max_length, message=f"Nejvýše {czech.count_noun(max_length, *czech.CHARACTERS)}.")]
    return TextAreaField(label, validators=validators, **kw)


def _line(label, max_length, required=True, **kw):
    validators = [DataRequired(REQUIRED)] if required else [Optional()]
    validators += [Length(max=max_length, message=f"Nejvýše {czech.count_noun(max_length, *czech.CHARACTERS)}.")]
    return StringField(label, validators=validators, **kw)


def consent_field():
    return BooleanField(
        "Souhlasím se zpracováním osobních údajů pro vyřízení žádosti a vykazování projektu.",
        validators=[DataRequired("Bez souhlasu se zpracováním údajů nelze žádost přijmout.")],
    )


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class RequesterForm(CzechForm):
    """Who asks: the same block on all three forms."""

    name = _line("Jméno a příjmení", 200, render_kw={"autocomplete": "name"})
    email = EmailField(
        "E-mail",
        validators=[DataRequired(REQUIRED), Length(max=254, message="Nejvýše 254 znaků."), valid_email],
        description="Sem pošleme potvrzení a odkaz, na kterém budete žádost sledovat.",
        render_kw={"autocomplete": "email"},
    )
    phone = phone_field()
    organisation = _line("Úřad nebo organizace", 300, render_kw={"autocomplete": "organization"})
    region = SelectField("Kraj", coerce=optional_int, validators=[DataRequired("Vyberte kraj.")])
    # Each form declares its `consent = consent_field()` last: the error summary lists the fields
    # in the order they are declared, and the consent is the last thing on every page.

    def set_places(self, regions):
        self.region.choices = region_choices(regions)
        if hasattr(self, "orp"):
            self.orp.choices = orp_choices(regions)

    def validate_orp(self, field):
        check_orp_in_region(self.region.data, field.data)


FORM_CHOICES = [SelectChoice(TermForm.IN_PERSON.value, "prezenčně"), SelectChoice(TermForm.ONLINE.value, "online")]


class CustomWorkshopForm(RequesterForm):
    orp = SelectField(
        "ORP (v Praze městská část; nepovinné)",
        coerce=optional_int,
        description="Vyplňte, je-li workshop pro jednu ORP; pro celý kraj nechte prázdné.",
        widget=GroupedSelect(),
    )
    topic_offer = SelectField(
        "Téma",
        coerce=optional_int,
        description="Workshop z nabídky, nebo „Jiné téma“ a popište je níže.",
    )
    topic_text = _text("Jiné téma nebo upřesnění", 2000, required=False)
    participant_needs = _text(
        "Co účastníci potřebují",
        4000,
        description="S čím se v praxi potýkají, co si mají z workshopu odnést.",
    )
    expected_participants = WholeNumberField(
        "Předpokládaný počet účastníků",
        validators=[
            InputRequired("Zadejte předpokládaný počet účastníků."),
            NumberRange(min=1, max=500, message="Zadejte číslo od 1 do 500."),
        ],
        render_kw={"inputmode": "numeric"},
    )
    preferred_dates = _text(
        "Preferované měsíce nebo termíny", 1000, description="Např. „březen nebo duben 2027, ne v pátek“."
    )
    form = RadioField("Forma", choices=FORM_CHOICES, default=TermForm.IN_PERSON.value,
                      validators=[InputRequired("Vyberte formu.")])
    place = _line("Místo konání (nepovinné)", 300, required=False,
                  description="Např. zasedací místnost krajského úřadu; můžete doplnit i později.")
    consent = consent_field()

    def set_topics(self, workshops):
        self.topic_offer.choices = [SelectChoice("", "Jiné téma (popište níže)")] + [
            SelectChoice(o.id, o.title) for o in workshops
        ]

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        # Not a validate_topic_text: Optional() on the field would stop the chain before it.
        if self.topic_offer.data is None and not self.topic_text.data and not self.topic_offer.errors:
            self.topic_text.errors = [*self.topic_text.errors, "Vyberte téma z nabídky, nebo je popište vlastními slovy."]
            ok = False
        return ok


PERSONAL_DATA_REMINDER = (
    "Popište situaci obecně a nepište sem jména, data narození, adresy ani jiné údaje, "
    "podle kterých by šlo poznat konkrétní dítě nebo rodinu. Podrobnosti probereme osobně."
)


class SupportForm(RequesterForm):
    orp = SelectField(
        "ORP vašeho OSPOD (v Praze městská část)",
        coerce=optional_int,
        validators=[DataRequired("Vyberte ORP, kde OSPOD působí.")],
    )
    items = MultiCheckboxField("O jakou podporu žádáte", coerce=int)
    situation = _text("Situace v několika větách", 3000, description=PERSONAL_DATA_REMINDER)
    form = RadioField(
        "Preferovaná forma",
        choices=[SelectChoice(TermForm.ONLINE.value, "online"), SelectChoice(TermForm.IN_PERSON.value, "osobně")],
        validators=[InputRequired("Vyberte formu.")],
    )
    urgency = RadioField(
        "Naléhavost",
        choices=[SelectChoice(u.value, u.label) for u in Urgency],
        default=Urgency.NORMAL.value,
        validators=[InputRequired("Vyberte naléhavost.")],
    )
    consent = consent_field()

    def set_items(self, offers):
        self.items.choices = [SelectChoice(o.id, f"{o.code}. {o.title}") for o in offers]

    def validate_items(self, field):
        if not field.data:
            raise ValidationError("Vyberte alespoň jednu položku A1–A7.")


def _package_note():
    return _text("Poznámka k celému balíčku (nepovinné)", 3000, required=False)


class RegionPackageForm(RequesterForm):
    """Items 1–12, each with a note; the note fields are added per item (package_form)."""

    items = MultiCheckboxField("Položky balíčku", coerce=int)
    note = _package_note()
    consent = consent_field()

    def validate_items(self, field):
        if not field.data:
            raise ValidationError("Vyberte alespoň jednu položku nabídky 1–12.")

    def note_field(self, offer):
        return self[f"note_{offer.id}"]

    def item_notes(self) -> tuple[tuple[int, str | None], ...]:
        return tuple((offer_id, self[f"note_{offer_id}"].data or None) for offer_id in self.items.data)


def package_form(offers) -> RegionPackageForm:
    """A package form with one note field per item of the kraj offer."""

    class Form(RegionPackageForm):
        pass

    for offer in offers:
        setattr(Form, f"note_{offer.id}", _text(f"Poznámka k položce {offer.code}", 2000, required=False))
    # The item notes stand inside the list of items, before the package's note and the consent.
    Form.note, Form.consent = _package_note(), consent_field()
    form = Form()
    form.items.choices = [SelectChoice(o.id, f"{o.code}. {o.title}") for o in offers]
    return form


# --- staff ------------------------------------------------------------------------


class TransitionForm(CzechForm):
    """A state change of the request or of one item; one button per allowed state."""

    to_state = StringField(validators=[DataRequired("Vyberte nový stav.")])
    text = _text(
        "Poznámka k odpovědi",
        2000,
        required=False,
        description="Poznámka se ukáže na stránce žádosti a odejde e-mailem na adresu, ze které žádost přišla. U zamítnutí napište důvod (povinné).",
    )


class CommentForm(CzechForm):
    text = _text("Komentář", 5000)
    visible = BooleanField("Ukázat na stránce žádosti a poslat e-mailem na adresu žádosti",
                           description="Bez zaškrtnutí je komentář interní: vidí jej jen správa.")


class RequesterMessageForm(CzechForm):
    text = _text("Vaše zpráva", 3000, description=PERSONAL_DATA_REMINDER)


RESTRICT_REGION, RESTRICT_ORP, RESTRICT_NONE = "kraj", "orp", "nikdo"


class ClosedTermForm(CzechForm):
    offer = SelectField("Workshop", coerce=optional_int, validators=[DataRequired("Vyberte workshop.")])
    day = CzechDateField("Datum", validators=[InputRequired("Zadejte datum.")])
    start = CzechTimeField("Začátek", validators=[InputRequired("Zadejte čas začátku.")])
    end = CzechTimeField("Konec", validators=[InputRequired("Zadejte čas konce.")])
    form = RadioField("Forma", choices=[SelectChoice(f.value, f.label) for f in TermForm],
                      validators=[InputRequired("Vyberte formu.")])
    region = SelectField("Kraj konání", coerce=optional_int,
                         description="U prezenčního termínu povinné.")
    venue = _line("Místo konání (adresa)", 300, required=False)
    online_url = URLField(
        "Odkaz na online setkání",
        validators=[Optional(), URL(message="Zadejte celou adresu, např. https://…"),
                    Length(max=500, message="Nejvýše 500 znaků.")],
        description="Dostanou jej jen potvrzení účastníci.",
    )
    capacity = capacity_field()
    per_orp_limit = per_orp_limit_field("Nejvýše účastníků z jedné ORP (nepovinné)")
    deadline = CzechDateField("Uzávěrka přihlášek (nepovinné)", validators=[Optional()],
                         description="Přihlásit se lze do konce tohoto dne; bez uzávěrky do začátku termínu.")
    lecturer = _line("Lektorské vedení (nepovinné)", 300, required=False)
    restriction = RadioField("Kdo se může přihlásit", validators=[InputRequired("Vyberte, kdo se může přihlásit.")])

    def set_choices(self, workshops, regions, request):
        self.offer.choices = [SelectChoice("", "Vyberte workshop")] + [SelectChoice(o.id, o.title) for o in workshops]
        self.region.choices = region_choices(regions)
        choices = [SelectChoice(RESTRICT_REGION, f"jen pracovníci z tohoto kraje: {request.region.name}")]
        if request.orp is not None:
            choices.append(SelectChoice(RESTRICT_ORP, f"jen pracovníci z ORP {request.orp.name}"))
        choices.append(SelectChoice(RESTRICT_NONE, "kdokoli, kdo dostane odkaz"))
        self.restriction.choices = choices

    def validate_end(self, field):
        if self.start.data and field.data and field.data <= self.start.data:
            raise ValidationError("Konec musí být po začátku.")

    def to_data(self, request) -> TermData:
        """The closed term of this request: not public, open to whom the restriction says."""
        def local(day, at: time) -> datetime:
            return datetime.combine(day, at, PRAGUE)

        deadline = None
        if self.deadline.data:
            # "Přihlášky do 10. 3." means through that day.
            deadline = local(self.deadline.data + timedelta(days=1), time(0)) - timedelta(minutes=1)
        return term_data(
            offer_id=self.offer.data,
            starts_at=local(self.day.data, self.start.data),
            ends_at=local(self.day.data, self.end.data),
            form=TermForm(self.form.data),
            capacity=self.capacity.data,
            region_id=self.region.data,
            venue=self.venue.data,
            online_url=self.online_url.data,
            per_orp_limit=self.per_orp_limit.data,
            registration_deadline=deadline,
            lecturer=self.lecturer.data,
            public=False,
            restricted_region_id=request.region_id if self.restriction.data == RESTRICT_REGION else None,
            restricted_orp_id=request.orp_id if self.restriction.data == RESTRICT_ORP else None,
        )
