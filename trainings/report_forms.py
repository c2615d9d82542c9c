"""A report's period, read from the query string (the reports and the feedback results ask for one)."""
from datetime import date, datetime

from werkzeug.datastructures import MultiDict
from wtforms.validators import InputRequired, ValidationError

from .forms import CzechDateField, CzechForm
from .reporting import Period
from .timefmt import PRAGUE


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
