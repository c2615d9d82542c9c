"""Czech counts: the one place that picks "1 termín", "2 termíny", "5 termínů", "1,5 hodiny".

The form comes from CLDR's plural rules for Czech through Babel, not from our
own arithmetic: one (1), few (2–4), many (any number with decimals: "1,5 hodiny"
takes the genitive singular) and other (0, 5 and up). A number is classified as
it is shown, so 1.0 printed as "1" is "one" and 1.25 printed as "1,25" is "many".

Counts after words like "nejvýše", "celkem" or a colon stay in the nominative
("nejvýše 3 účastníci", "nejvýše 5 účastníků"): the numeral itself decides the
case, which is what the three forms below express.
"""
import re
from decimal import Decimal

from babel import Locale
from babel.numbers import format_decimal
from vokativ import sex as vokativ_sex
from vokativ import vokativ

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



# --- greetings ------------------------------------------------------------------

# Academic and professional titles people type into a name field ("Mgr. Jana Nováková, DiS.").
_TITLE = re.compile(r"^(?:[^\W\d_]+\.)+$")


def greeting(name: str | None) -> str:
    """The salutation of an e-mail: "Dobrý den, paní Nováková," / "Dobrý den, pane Nováku," / "Dobrý den,".

    Czech addresses a stranger by surname in the vocative with "paní" or "pane", so
    the gender must be known; a wrong one offends more than a neutral greeting.
    The vokativ library tells the gender of each word of the name from its ending
    (a woman's surname ends in -ová or -á, her first name mostly in -a or -e); it is
    used only when every word of the name agrees, the name has at least two words,
    and the first word does not look like a woman's surname (someone who wrote
    "Nováková Jana"). Otherwise, as for names whose words disagree ("Kim Nováková",
    "Andrea Müller", "John Doe", "Nguyen Thi Lan"), the greeting stays neutral.
    """
    words = _name_words(name)
    if len(words) < 2 or _FEMALE_SURNAME.search(words[0].lower()):
        return "Dobrý den,"
    sexes = {vokativ_sex(part) for word in words for part in word.split("-")}
    if sexes == {"w"}:
        # A woman's surname keeps its form in the vocative; a second one ("Jůzová Kotalová") belongs to it.
        surname = [words[-1]]
        while len(words) - len(surname) > 1 and _FEMALE_SURNAME.search(words[-len(surname) - 1].lower()):
            surname.insert(0, words[-len(surname) - 1])
        return f"Dobrý den, paní {' '.join(_readable(w) for w in surname)},"
    if sexes == {"m"}:
        surname = "-".join(_keep_case(part, vokativ(part, woman=False, last_name=True))
                           for part in words[-1].split("-"))
        return f"Dobrý den, pane {surname},"
    return "Dobrý den,"


_FEMALE_SURNAME = re.compile(r"(ová|ská|cká|ná)$")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def _name_words(name: str | None) -> list[str]:
    """The words of a name without titles ("Mgr. Jana Nováková, DiS."); none if it holds anything but letters."""
    words = [w for w in (name or "").split(",")[0].split() if not _TITLE.match(w)]
    return words if all(_WORD.fullmatch(w) for w in words) else []


def _readable(word: str) -> str:
    """ "NOVÁK" typed in capitals reads "Novák" in a letter."""
    return "-".join(part.capitalize() for part in word.split("-")) if word.isupper() else word


def _keep_case(original: str, declined: str) -> str:
    """vokativ lower-cases; keep the typed spelling of the stem and add the ending ("Dvořák" -> "Dvořáku")."""
    original = _readable(original)
    stem = 0
    while stem < min(len(original), len(declined)) and original[stem].lower() == declined[stem]:
        stem += 1
    return original[:stem] + declined[stem:]
