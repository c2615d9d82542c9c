from wtforms import EmailField
from wtforms.validators import DataRequired, Length

from ..forms import CzechForm, valid_email


class PageLinkForm(CzechForm):
    email = EmailField(
        "E-mail, se kterým se přihlašujete na workshopy",
        validators=[DataRequired("Vyplňte prosím e-mail."), Length(max=254, message="Nejvýše 254 znaků."),
                    valid_email],
        render_kw={"autocomplete": "email"},
    )


class ActionForm(CzechForm):
    """A button on her page (open a registration, make a calendar address, end links): CSRF only."""
