"""Shared form pieces: a Czech base form and the rules for e-mail and phone fields."""
from email_validator import EmailNotValidError, validate_email
from flask import has_request_context, request
from flask_wtf import FlaskForm
from flask_wtf.form import SUBMIT_METHODS
from wtforms import BooleanField, IntegerField, StringField, TelField, TextAreaField
from wtforms.fields.core import UnboundField
from wtforms.validators import Optional, Regexp, ValidationError


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
    """WTForms' built-in messages in Czech; CSRF on, as with every FlaskForm."""

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
            return super().bind_field(form, unbound_field, options)

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        for field in self:
            # Every text field, also those without no_control_chars: PostgreSQL refuses
            # NUL in text (a 500), and no one types other control characters.
            if not field.errors and isinstance(field.data, str) and _has_control_chars(field.data):
                field.errors = [*field.errors, CONTROL_CHARS_MESSAGE]
                ok = False
            elif not field.errors and _single_line(field) and _has_line_break(field.data):
                field.errors = [*field.errors, LINE_BREAK_MESSAGE]
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


CONTROL_CHARS_MESSAGE = "Text obsahuje nepovolené znaky."


def _has_control_chars(text: str) -> bool:
    return any(ord(c) < 32 and c not in "\t\n\r" for c in text)


LINE_BREAK_MESSAGE = "Text musí být na jednom řádku."
# What text editors and browsers break a line with, including Unicode's own separators.
_LINE_BREAKS = "\r\n\x85\u2028\u2029"


def _single_line(field) -> bool:
    """A text input (names, job titles, e-mail, phone, search): anything typed into one line.
    A line break there is pasted or crafted, and would break the line of an e-mail, an
    export or the attendance sheet it is printed on."""
    return isinstance(field, StringField) and not isinstance(field, TextAreaField) and isinstance(field.data, str)


def _has_line_break(text: str) -> bool:
    return any(c in _LINE_BREAKS for c in text)


def no_control_chars(form, field):
    if field.data and _has_control_chars(field.data):
        raise ValidationError(CONTROL_CHARS_MESSAGE)


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
