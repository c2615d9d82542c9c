"""Czech counts: the one place that picks "1 termín", "2 termíny", "5 termínů", "1,5 hodiny".

The form comes from CLDR's plural rules for Czech through Babel, not from our
own arithmetic: one (1), few (2–4), many (any number with decimals: "1,5 hodiny"
takes the genitive singular) and other (0, 5 and up). A number is classified as
it is shown, so 1.0 printed as "1" is "one" and 1.25 printed as "1,25" is "many".

Counts after words like "nejvýše", "celkem" or a colon stay in the nominative
("nejvýše 3 účastníci", "nejvýše 5 účastníků"): the numeral itself decides the
case, which is what the three forms below express.
"""
from decimal import Decimal

from babel import Locale
from babel.numbers import format_decimal

# Parsed once, as in timefmt: parsing a locale on every call is the costly part.
_CS = Locale.parse("cs")

# Nouns counted in more than one message: one, few, other ("1 přihláška", "2 přihlášky", "5 přihlášek").
REGISTRATIONS = ("přihláška", "přihlášky", "přihlášek")
ADDRESSES = ("adresu", "adresy", "adres")  # after "na": accusative, "na 1 adresu", "na 5 adres"
EMAILS = ("e-mail", "e-maily", "e-mailů")
REQUESTS = ("žádost", "žádosti", "žádostí")
INTEREST_ENTRIES = ("záznam o zájmu", "záznamy o zájmu", "záznamů o zájmu")
CHARACTERS = ("znak", "znaky", "znaků")
LINKS = ("odkaz", "odkazy", "odkazů")  # "nejvýše 300 znaků"


def _shown(count) -> int | Decimal:
    """The number as people read it: whole numbers as int, others to two decimals."""
    if isinstance(count, bool):
        raise TypeError("a count must be a number, not a bool")
    if isinstance(count, int):
        return count
    value = Decimal(str(count)).quantize(Decimal("0.01")).normalize()
    if value == value.to_integral_value():
        return int(value)
    return value


def plural_form(count) -> str:
    """CLDR category for Czech: "one", "few", "many" or "other"."""
    return _CS.plural_form(_shown(count))


def plural(count, one: str, few: str, other: str, many: str | None = None) -> str:
    """The word for this count: plural(2, "termín", "termíny", "termínů") -> "termíny".

    `many` (numbers with decimals) is needed only where such a count can occur;
    asking for it without giving it is a programming error, not a guess.
    """
    form = plural_form(count)
    if form == "many":
        if many is None:
            raise ValueError(f"no Czech form given for the decimal count {count!r}")
        return many
    return {"one": one, "few": few}.get(form, other)


def number(count) -> str:
    """Czech digits: "1,5", "3 000" (a non-breaking space between thousands)."""
    return format_decimal(_shown(count), locale=_CS)


def count_noun(count, one: str, few: str, other: str, many: str | None = None) -> str:
    """Number and word: count_noun(5, "termín", "termíny", "termínů") -> "5 termínů"."""
    return f"{number(count)} {plural(count, one, few, other, many)}"


def hours(count) -> str:
    """ "1 hodina", "3 hodiny", "1,5 hodiny", "24 hodin"."""
    return count_noun(count, "hodina", "hodiny", "hodin", many="hodiny")

