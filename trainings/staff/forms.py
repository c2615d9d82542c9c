"""Staff forms: login and password, and the back office (terms, messages, reports).
What organisers do with registrations is in trainings/registration/staff_forms.py."""
import math
import re
from datetime import date, datetime, timezone

from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Field,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, EqualTo, InputRequired, Length, Optional, ValidationError
from werkzeug.datastructures import MultiDict
from wtforms.widgets import DateTimeLocalInput, TextInput

from ..forms import CzechForm
from ..models import OfferStatus, TermForm
from ..places import optional_int, orp_choices, region_choices
from ..reporting import Period
from ..terms.forms import LecturerAccountsField, capacity_field, hours_range, per_orp_limit_field, term_data
from ..terms.service import TermData
from ..timefmt import PRAGUE, local

REQUIRED = "Vyplňte prosím toto pole."


class LoginForm(CzechForm):
    email = EmailField("E-mail", validators=[InputRequired(REQUIRED), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField("Heslo", validators=[InputRequired(REQUIRED), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


class SetPasswordForm(CzechForm):
    password = PasswordField(
        "Nové heslo",
        validators=[InputRequired(REQUIRED), Length(min=10, max=200, message="Heslo musí mít 10 až 200 znaků.")],
        description="Alespoň 10 znaků.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Heslo znovu",
        validators=[InputRequired(REQUIRED), EqualTo("password", message="Hesla se neshodují.")],
        render_kw={"autocomplete": "new-password"},
    )


class ForgotPasswordForm(CzechForm):
    email = EmailField("E-mail", validators=[InputRequired(REQUIRED), Length(max=254)],
                       description="Adresa, na kterou vám chodí e-maily ze správy registrací.",
                       render_kw={"autocomplete": "username"})


class SecondFactorForm(CzechForm):
    """The code at login: six digits from the app, or a recovery code."""

    code = StringField("Kód", validators=[InputRequired(REQUIRED), Length(max=40, message="Kód je příliš dlouhý.")],
                       description="Šestimístný kód z ověřovací aplikace, nebo jeden ze záložních kódů.",
                       render_kw={"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "none"})


class AppCodeForm(CzechForm):
    """A current code from the app: confirms the setup and new recovery codes."""

    code = StringField("Kód z aplikace", validators=[InputRequired(REQUIRED), Length(max=40, message="Kód je příliš dlouhý.")],
                       description="Šest číslic, které aplikace právě ukazuje.",
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


# --- back office: terms, messages, reports ------------------------


MIN_YEAR, MAX_YEAR = 2000, 2100


class PragueDateTimeField(Field):
    """A date and time typed in Prague local time; `data` is an aware UTC datetime.

    The browser's datetime-local picker sends "2026-03-12T09:00"; where there
    is no picker people type "12. 3. 2026 9:00", which is accepted too.
    """

    widget = DateTimeLocalInput()
    FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M", "%d.%m.%Y %H.%M")
    MESSAGE = "Zadejte datum a čas, např. 12. 3. 2026 9:00."

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            self.data = None
            return
        text = re.sub(r"\s*\.\s*(?=\d)", ".", text)  # "12. 3. 2026" -> "12.3.2026"
        for fmt in self.FORMATS:
            try:
                naive = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            self.data = None
            raise ValueError(self.MESSAGE)
        if not MIN_YEAR <= naive.year <= MAX_YEAR:  # also keeps the UTC conversion from overflowing
            self.data = None
            raise ValueError(f"Zadejte rok {MIN_YEAR} až {MAX_YEAR}.")
        aware = naive.replace(tzinfo=PRAGUE)
        if aware.astimezone(timezone.utc).astimezone(PRAGUE).replace(tzinfo=None) != naive:
            self.data = None
            raise ValueError("Tento čas v noci přechodu na letní čas neexistuje; zvolte jiný.")
        self.data = aware.astimezone(timezone.utc)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return local(self.data).strftime("%Y-%m-%dT%H:%M") if self.data else ""


def _dotted(text: str) -> str:
    """ "12. 3. 2026" -> "12.3.2026", "9. 30" -> "9.30": Czech dates as people type them."""
    return re.sub(r"\s*\.\s*(?=\d)", ".", text.strip())


def _parsed(text: str, formats, part):
    """`part` (datetime.date or datetime.time) of the first format that reads `text`, or None."""
    for fmt in formats:
        try:
            return part(datetime.strptime(text, fmt))
        except ValueError:
            continue
    return None


class CzechDateField(DateField):
    """A day from the browser's date picker ("2027-03-12"), or typed the Czech way ("12. 3. 2027")
    where there is no picker. No format hint: the picker shows the format of the person's locale,
    and a hint naming another one only confuses."""

    MESSAGE = "Zadejte datum, např. 12. 3. 2027."

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format=["%Y-%m-%d", "%d.%m.%Y"], **kwargs)

    def process_formdata(self, valuelist):
        text = _dotted(valuelist[0]) if valuelist else ""
        self.data = _parsed(text, self.strptime_format, datetime.date) if text else None
        if text and self.data is None:
            raise ValueError(self.MESSAGE)
        if self.data is not None and not MIN_YEAR <= self.data.year <= MAX_YEAR:
            self.data = None
            raise ValueError(f"Zadejte rok {MIN_YEAR} až {MAX_YEAR}.")


class CzechTimeField(TimeField):
    """A time of day from the browser's time picker ("09:00", in five-minute steps), or typed
    "9:00" / "9.00" where there is none."""

    MESSAGE = "Zadejte čas, např. 9:00."

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs["render_kw"] = {"step": "300", **(kwargs.get("render_kw") or {})}
        super().__init__(label, validators, format=["%H:%M", "%H.%M", "%H:%M:%S"], **kwargs)

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = _parsed(text, self.strptime_format, datetime.time) if text else None
        if text and self.data is None:
            raise ValueError(self.MESSAGE)


class CzechNumberField(Field):
    """A decimal number with a comma or a dot ("3,5"), as Czech people write it."""

    widget = TextInput()

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip().replace(",", ".")
        if not text:
            self.data = None
            return
        try:
            self.data = float(text)
        except ValueError:
            self.data = None
        if self.data is None or not math.isfinite(self.data):  # float() also reads "nan" and "inf"
            self.data = None
            raise ValueError("Zadejte číslo, např. 3,5.")

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        return f"{self.data:g}".replace(".", ",")


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


class ReportPeriodForm(CzechForm):
    """Read from the query string; a GET form needs no CSRF token."""

    class Meta:
        csrf = False

    od = CzechDateField("Od", validators=[InputRequired("Zadejte datum.")])
    do = CzechDateField("Do", validators=[InputRequired("Zadejte datum.")])

    def validate_do(self, field):
        if self.od.data and field.data and field.data < self.od.data:
            raise ValidationError("Konec období musí být po jeho začátku.")

    @staticmethod
    def this_year() -> dict:
        today = datetime.now(PRAGUE).date()
        return {"od": date(today.year, 1, 1), "do": date(today.year, 12, 31)}

    @classmethod
    def from_query(cls, args) -> "ReportPeriodForm":
        """The period from the query string; this year when none is given."""
        if "od" in args or "do" in args:
            return cls(formdata=args)
        return cls(formdata=MultiDict({k: v.isoformat() for k, v in cls.this_year().items()}))

    def period(self) -> Period:
        return Period(self.od.data, self.do.data)
