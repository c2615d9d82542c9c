"""Staff forms: login, password and the second factor. The back office's forms are with their capability
(terms/staff_forms.py, registration/staff_forms.py, ...); a report's period in report_forms.py."""
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from ..forms import REQUIRED, CzechForm


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
