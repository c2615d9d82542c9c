"""Template filters: Czech dates, counts and catalogue text."""
from . import czech, timefmt


def description_parts(text: str | None) -> tuple[list[str], list[str]]:
    """Catalogue texts: lines starting with "- " are bullets, other lines paragraphs."""
    paragraphs, bullets = [], []
    for line in (text or "").splitlines():
        line = line.strip()
        if line.startswith("- "):
            bullets.append(line[2:])
        elif line:
            paragraphs.append(line)
    return paragraphs, bullets


def register(app):
    app.add_template_filter(timefmt.date_time, "date_time")
    app.add_template_filter(timefmt.date_only, "date_only")
    app.add_template_global(timefmt.term_span, "term_span")
    app.add_template_filter(description_parts, "description_parts")
    # Every count people read goes through these: {{ n | count_noun("termín", "termíny", "termínů") }}.
    app.add_template_filter(czech.plural, "plural")
    app.add_template_filter(czech.count_noun, "count_noun")
    app.add_template_filter(czech.number, "number")
    app.add_template_filter(czech.greeting, "greeting")  # every e-mail's "Dobrý den, …,"
