"""Shared form pieces: a Czech base form, the rule for typed text, the rules for e-mail and phone fields,
and dates, times and numbers typed the Czech way."""
import math
import re
import unicodedata
from datetime import datetime, timezone

from email_validator import EmailNotValidError, validate_email
from flask import has_request_context, request
from flask_wtf import FlaskForm
from flask_wtf.form import SUBMIT_METHODS
from wtforms import (
    BooleanField,
    DateField,
    Field,
    IntegerField,
    PasswordField,
    StringField,
    TelField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.core import UnboundField
from wtforms.validators import Optional, Regexp, ValidationError
from wtforms.widgets import DateTimeLocalInput, TextInput

from .timefmt import PRAGUE, local

REQUIRED = "Vyplňte prosím toto pole."


class CheckedBox(BooleanField):
    """A checkbox that counts as ticked only when the browser sends the value it renders.

    WTForms' BooleanField takes any value but "false" and "" as ticked, so a
    crafted `consent=n` was consent; and it wrote what was sent back as the
    box's value, so a re-shown form could never be ticked again.
    """

    VALUE = "y"

    def process_formdata(self, valuelist):
        self.data = bool(valuelist) and valuelist[0] == self.VALUE

    def _value(self):
        return self.VALUE


# "Read the request", as FlaskForm's own default does; a sentinel of ours, as Flask-WTF's is private.
_FROM_REQUEST = object()


class CzechForm(FlaskForm):
    """WTForms' built-in messages in Czech; CSRF on, as with every FlaskForm; and one rule for
    every text field (text_refusal), so that no form can forget it."""

    def __init__(self, formdata=_FROM_REQUEST, **kwargs):
        if formdata is _FROM_REQUEST:
            formdata = _submitted_form()
        super().__init__(formdata=formdata, **kwargs)

    class Meta:
        locales = ("cs_CZ", "cs")

        def bind_field(self, form, unbound_field, options):
            # Every checkbox of every form follows CheckedBox's rule (consent, confirmations,
            # filters), without each form having to remember it.
            if unbound_field.field_class is BooleanField:
                unbound_field = UnboundField(CheckedBox, *unbound_field.args, name=unbound_field.name,
                                             **unbound_field.kwargs)
            field = super().bind_field(form, unbound_field, options)
            if isinstance(field, StringField) and not isinstance(field, PasswordField):
                # First, so that the field's own filters and validators (lengths, e-mail) see
                # the text as it will be stored.
                field.filters = (normalise_text, *field.filters)
            return field

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        for field in self:
            # Every field holding text, typed or crafted (a select's value too): after its own
            # validators, whose message says more when both would refuse.
            message = None if field.errors or not isinstance(field.data, str) else _refusal(field)
            if message:
                field.errors = [*field.errors, message]
                ok = False
        csrf = getattr(self, "csrf_token", None)
        if csrf is not None and csrf.errors:
            csrf.errors = ["Platnost formuláře vypršela. Zkontrolujte údaje a odešlete jej prosím znovu."]
        return ok


def _submitted_form():
    """Only the fields of an HTML form, and only when one was sent. Flask-WTF would also
    take uploaded files (a FileStorage where a field expects text) and a JSON body (numbers,
    lists, or no object at all): each was a 500. No form here takes either."""
    if has_request_context() and request.method in SUBMIT_METHODS and request.form:
        return request.form
    return None


def valid_email(form, field):
    """Syntax only: no DNS look-ups, which would fail on a closed network and slow the form."""
    value = (field.data or "").strip()
    if not value:
        return
    try:
        field.data = validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValidationError("Zadejte platnou e-mailovou adresu, např. jana.novakova@mesto.cz.")


# --- typed text ---------------------------------------------------------------------------
# What a field takes is what everyone is shown: on the osvědčení, its public verification page,
# the attendance sheet, e-mails and exports. Nothing invisible may make "Jana Nováková" a
# different string from the one seen (a zero-width space, a soft hyphen) or show other text
# than is stored (a right-to-left override); nothing damaged is stored as if typed.

INVISIBLE_MESSAGE = "Text obsahuje neviditelné nebo řídicí znaky; napište jej prosím znovu."
DAMAGED_MESSAGE = ("Text obsahuje poškozené znaky (například „�“, „%E1“ nebo prázdný rámeček místo písmene); "
                   "napište jej prosím znovu.")
LINE_BREAK_MESSAGE = "Text musí být na jednom řádku."
# What text editors and browsers break a line with, including Unicode's own separators.
_LINE_BREAKS = "\r\n\x85\u2028\u2029"
_LINE_BREAK = re.compile(f"[{_LINE_BREAKS}]")
# All but printable ASCII and the Latin letters of Czech and its neighbours, which no rule here
# concerns: only these are looked up one by one, so that a long text costs little.
_NOT_PLAIN = re.compile("[^\x20-\x7e\xa0-\xac\xae-\u024f]")
# The only control characters of a multi-line field: its lines and indentation.
_TEXT_CONTROLS = "\t\r\n"
_ZERO_WIDTH_JOINER = "\u200d"
_EMOJI_STYLE = "\ufe0e\ufe0f"
# Unicode's default-ignorable characters that are not format characters (Cf): letters and marks
# drawn as nothing, such as the Hangul fillers of "blank" user names and the variation selectors.
_BLANK = (
    (0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x2065, 0x2065),
    (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0xE0000, 0xE0FFF),
)
# A form sent in another encoding than UTF-8 (Latin-1, Windows-1250) brings bytes that are not
# UTF-8: Werkzeug reads those of a multipart form as U+FFFD and keeps those of a urlencoded one
# as escapes, written in capitals ("Nov%E1kov%E1"). A browser sends a typed "%" as "%25", so
# such escapes are typed only on purpose; the UTF-8 escapes of a copied address ("%C3%A1") pass.
_ESCAPES = re.compile(r"(?:%[0-9A-F]{2})+")


def normalise_text(value):
    """Composed (NFC), as most keyboards send it: "á" typed as "a" and a combining accent
    (macOS, some phones) is the same name, stored the same way. Without surrounding spaces."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value).strip()
    return value


def text_refusal(text: str, single_line: bool) -> str | None:
    """Why this text cannot be taken, as the message shown next to its field; None when it can.

    Refused: line breaks in a one-line field; control characters (in a multi-line field all
    but line breaks and tabs); format and other invisible characters, such as bidirectional
    overrides and isolates, zero-width spaces and joiners, the BOM and the soft hyphen, all of
    which a keyboard does not type but a paste or a crafted request brings; the replacement
    character U+FFFD and escapes of bytes that are not UTF-8 (what Werkzeug makes of a form
    sent in another encoding), private-use characters and noncharacters. Emoji keep their
    joiners and variation selectors: between pictures they draw one picture and hide no letter."""
    if single_line and _LINE_BREAK.search(text):
        return LINE_BREAK_MESSAGE
    others = [match.start() for match in _NOT_PLAIN.finditer(text)]
    if any(_damaged(text[i]) for i in others) or _undecodable_escapes(text):
        return DAMAGED_MESSAGE
    if any(_invisible(text, i, single_line) for i in others):
        return INVISIBLE_MESSAGE
    return None


def _refusal(field) -> str | None:
    if isinstance(field, PasswordField):
        # Only its controls and line breaks: a password is never shown, and refusing more could
        # lock someone out of one set before this rule (a Mac's Option-Shift-K types U+F8FF).
        controls = "".join(c for c in field.data
                           if c in _LINE_BREAKS or (unicodedata.category(c) == "Cc" and c != "\t"))
        return text_refusal(controls, single_line=True)
    return text_refusal(field.data, _single_line(field))


def _damaged(c: str) -> bool:
    code = ord(c)
    return (c == "\ufffd" or unicodedata.category(c) in ("Co", "Cs")
            or 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE)


def _undecodable_escapes(text: str) -> bool:
    for escapes in _ESCAPES.findall(text) if "%" in text else ():
        try:
            bytes.fromhex(escapes.replace("%", "")).decode("utf-8")
        except UnicodeDecodeError:
            return True
    return False


def _invisible(text: str, i: int, single_line: bool) -> bool:
    c = text[i]
    category = unicodedata.category(c)
    if category == "Cc":
        return single_line or c not in _TEXT_CONTROLS
    if c == _ZERO_WIDTH_JOINER:
        # 👩‍💻, 🏳️‍🌈: between two pictures (the first may carry its variation selector).
        return not (0 < i < len(text) - 1 and (text[i - 1] in _EMOJI_STYLE or _pictograph(text[i - 1]))
                    and _pictograph(text[i + 1]))
    if c in _EMOJI_STYLE:
        # After a symbol, a digit or "#" (keycaps such as 1️⃣); after a letter it hides in a name.
        return not i or unicodedata.category(text[i - 1])[0] not in "SNP"
    code = ord(c)
    return category == "Cf" or any(low <= code <= high for low, high in _BLANK)


def _pictograph(c: str) -> bool:
    return unicodedata.category(c) in ("So", "Sm", "Sk")


def _single_line(field) -> bool:
    """A text input (names, job titles, e-mail, phone, search): anything typed into one line.
    A line break there is pasted or crafted, and would break the line of an e-mail, an
    export or the attendance sheet it is printed on."""
    return isinstance(field, StringField) and not isinstance(field, TextAreaField)


def phone_field() -> TelField:
    """The optional phone number of a person who signs up or sends a request: one rule for both."""
    return TelField(
        "Telefon (nepovinné)",
        validators=[
            Optional(),
            Regexp(r"^\+?[0-9 ]{9,20}$", message="Zadejte telefon číslicemi, např. +420 777 123 456."),
        ],
        render_kw={"autocomplete": "tel"},
    )


class WholeNumberField(IntegerField):
    """An integer field for counts and limits.

    A number of hundreds of digits is a valid Python int, and WTForms'
    NumberRange then fails converting it to a float (a 500); no count here
    needs more than nine digits, so longer input is refused while parsing.
    """

    MAX_DIGITS = 9

    def process_formdata(self, valuelist):
        if valuelist and len((valuelist[0] or "").strip().lstrip("+-")) > self.MAX_DIGITS:
            self.data = None
            raise ValueError("Zadejte menší číslo.")
        super().process_formdata(valuelist)


def show_error(form, error) -> None:
    """Put a service's refusal (trainings.errors.ServiceError) next to the field it names, or
    above the form when it names none (or a field this form does not have)."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


# --- dates, times and numbers typed the Czech way (every form that asks for one) ---------------


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
