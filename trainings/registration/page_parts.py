"""What her registration's page shows that another capability decides (feedback: her questionnaire).

Each such capability stands above registration and registers a function of the registration under
the template variable it fills, so the page shows it without registration importing it; the same
way each capability registers the composers of its e-mails (mail/composers.py)."""
from collections.abc import Callable

from ..models import Registration
from ..registry import registrar

_PARTS: dict[str, Callable[[Registration], object]] = {}
# @shows("name"): the decorated function fills the template variable `name` of her page.
shows = registrar(_PARTS, "parts of her registration's page named")


def parts_of(registration: Registration) -> dict:
    return {name: part(registration) for name, part in _PARTS.items()}
