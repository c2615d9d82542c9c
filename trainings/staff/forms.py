from wtforms import EmailField, PasswordField
from wtforms.validators import EqualTo, InputRequired, Length

from ..forms import CzechForm

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
