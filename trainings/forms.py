"""Shared form pieces: a Czech base form and the e-mail field rule."""
from email_validator import EmailNotValidError, validate_email
from flask_wtf import FlaskForm
from wtforms.validators import ValidationError


class CzechForm(FlaskForm):
    """WTForms' built-in messages in Czech; CSRF on, as with every FlaskForm."""

    class Meta:
        locales = ("cs_CZ", "cs")

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        csrf = getattr(self, "csrf_token", None)
        if csrf is not None and csrf.errors:
            csrf.errors = ["Platnost formuláře vypršela. Zkontrolujte údaje a odešlete jej prosím znovu."]
        return ok


def valid_email(form, field):
    """Syntax only: no DNS look-ups, which would fail on a closed network and slow the form."""
    value = (field.data or "").strip()
    if not value:
        return
    try:
        field.data = validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValidationError("Zadejte platnou e-mailovou adresu, např. jana.novakova@mesto.cz.")


def no_control_chars(form, field):
    if field.data and any(ord(c) < 32 and c not in "\t\n\r" for c in field.data):
        raise ValidationError("Text obsahuje nepovolené znaky.")
