from wtforms import EmailField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from ..forms import REQUIRED, CheckedBox, CzechForm, phone_field, valid_email
from ..models import EmployerType
from ..places import INVALID, GroupedSelect, optional_int, orp_choices, region_choices, region_exists
from .service import Applicant, place_refusal

# DataRequired, not InputRequired: a field of only spaces counts as empty.
EMPLOYER_TYPES = {t.value for t in EmployerType}


def consent_field():
    """The consent every new participant gives: on the sign-up and on taking over a handed-over seat."""
    return CheckedBox(
        "Souhlasím se zpracováním osobních údajů pro účely registrace a vykazování projektu.",
        validators=[DataRequired("Bez souhlasu se zpracováním údajů se nelze přihlásit.")],
    )


class RegistrationForm(CzechForm):
    name = StringField(
        "Jméno a příjmení",
        validators=[DataRequired(REQUIRED), Length(max=200, message="Nejvýše 200 znaků.")],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        "E-mail",
        validators=[DataRequired(REQUIRED), Length(max=254, message="Nejvýše 254 znaků."), valid_email],
        render_kw={"autocomplete": "email"},
    )
    phone = phone_field()
    employer_type = RadioField(
        "Zaměstnavatel",
        choices=[SelectChoice(t.value, t.label) for t in EmployerType],
        validators=[InputRequired("Vyberte typ zaměstnavatele.")],
    )
    # Checked against the cached places (validate_region, validate_orp), not by WTForms
    # walking and coercing all 241 choices on every sign-up.
    region = SelectField("Kraj", coerce=optional_int, validate_choice=False,
                         validators=[DataRequired("Vyberte kraj.")])
    orp = SelectField(
        "ORP (v Praze městská část)",
        coerce=optional_int,
        validate_choice=False,
        description="Nabízejí se ORP zvoleného kraje.",
        widget=GroupedSelect(),
    )
    job_title = StringField(
        "Pracovní pozice",
        validators=[DataRequired(REQUIRED), Length(max=200, message="Nejvýše 200 znaků.")],
        render_kw={"autocomplete": "organization-title"},
    )
    consent = consent_field()

    def set_places(self, regions):
        self.region.choices = region_choices(regions)
        self.orp.choices = orp_choices(regions)

    def start_at(self, term):
        """A closed term's people come from its kraj / ORP: an untouched form starts them there."""
        if self.region.data is None:
            self.region.data = term.restricted_orp.region_id if term.restricted_orp else term.restricted_region_id
            self.orp.data = term.restricted_orp_id

    def applicant(self) -> Applicant:
        """The person as the service takes her: the sign-up, a handover and an organiser's "add by hand" alike."""
        return Applicant(
            name=self.name.data,
            email=self.email.data,
            phone=self.phone.data,
            employer_type=EmployerType(self.employer_type.data),
            job_title=self.job_title.data,
            region_id=self.region.data,
            orp_id=self.orp.data,
        )

    def validate_region(self, field):
        if not region_exists(field.data):
            raise ValidationError("Vyberte kraj ze seznamu.")

    def validate_orp(self, field):
        if field.data == INVALID:
            raise ValidationError("Vyberte ORP ze seznamu.")
        # The service's own rule, asked here too so its message shows with the form's other errors.
        if self.region.errors or self.employer_type.data not in EMPLOYER_TYPES:
            return
        refusal = place_refusal(EmployerType(self.employer_type.data), self.region.data, field.data)
        if refusal is not None and refusal.field == "orp":
            raise ValidationError(refusal.message)


class ResendLinkForm(CzechForm):
    email = EmailField("E-mail", validators=[DataRequired(REQUIRED), valid_email])


class CancelForm(CzechForm):
    pass


class SwitchForm(CzechForm):
    term = RadioField("Nový termín", coerce=int, validators=[InputRequired("Vyberte termín.")])


class HandoverForm(RegistrationForm):
    """The colleague, named by the person handing her seat over: the sign-up's fields and rules.
    Consent is the colleague's to give, on her own page."""

    consent = None


class HandoverConfirmForm(CzechForm):
    """The colleague takes the seat: her name as it goes on the osvědčení (she may correct what the
    first person typed, titles included), and her own consent."""

    name = StringField(
        "Jméno a příjmení",
        validators=[DataRequired(REQUIRED), Length(max=200, message="Nejvýše 200 znaků.")],
        description="Takto je uvedeno na přihlášce a bude na osvědčení. Opravte je i s tituly, je-li třeba.",
        render_kw={"autocomplete": "name"},
    )
    consent = consent_field()
