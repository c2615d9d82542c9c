"""The forms of Lidé: an invitation, a role, a kraj, a term, and the one-button actions (CzechForm)."""
from wtforms import EmailField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from ..forms import CzechForm, valid_email
from ..models import StaffRole


def _id_or_none(value):
    """A select's value as an id; anything else (the empty option, a crafted text) as None,
    which the service refuses with its own message next to the field."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def role_choices(placeholder: bool):
    roles = [SelectChoice(role.value, role.label.capitalize()) for role in StaffRole]
    return [SelectChoice("", "Vyberte roli"), *roles] if placeholder else roles


class RoleField(SelectField):
    def __init__(self, label="Role", placeholder=False, **kwargs):
        super().__init__(label, choices=role_choices(placeholder), validate_choice=True,
                         validators=[DataRequired("Vyberte roli.")], **kwargs)


class InviteForm(CzechForm):
    email = EmailField("E-mail", validators=[DataRequired("Vyplňte prosím e-mail."), Length(max=254), valid_email],
                       render_kw={"autocomplete": "off"})
    name = StringField("Jméno a příjmení", validators=[DataRequired("Vyplňte prosím jméno a příjmení."),
                                                       Length(max=200)],
                       description="Tak, jak se má zobrazovat, např. „Mgr. Jana Nováková“.",
                       render_kw={"autocomplete": "off"})
    role = RoleField(placeholder=True)
    region_id = SelectField("Kraj (jen pro koordinaci kraje)", coerce=_id_or_none, validate_choice=False,
                            description="Koordinace kraje dostává žádosti z tohoto kraje.")

    def validate_region_id(self, field):
        if self.role.data == StaffRole.COORDINATOR.value and field.data is None:
            raise ValidationError("Vyberte kraj, který bude koordinovat.")


class RoleForm(CzechForm):
    role = RoleField("Nová role")


class RegionForm(CzechForm):
    region_id = SelectField("Kraj", coerce=_id_or_none, validate_choice=False,
                            validators=[DataRequired("Vyberte kraj.")])


class TermForm(CzechForm):
    term_id = SelectField("Další termín, který vede", coerce=_id_or_none, validate_choice=False,
                          validators=[DataRequired("Vyberte termín.")])


class UnlinkTermForm(CzechForm):
    term_id = HiddenField(filters=[_id_or_none])
