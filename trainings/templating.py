"""Everything templates get from the app, registered once by the factory: filters (Czech dates,
counts and catalogue text), globals (the audit trail's wording, feed links, hours, `may`) and
the project's facts. No blueprint registers any of these as a side effect."""
from . import czech, display, project, timefmt
from .access import may
from .calendar.feeds import feed_links
from .catalogue.periods import shown_period
from .catalogue.texts import link_offer_names
from .czech import hours as format_hours
from .paging import page_url


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
    app.add_template_filter(timefmt.until, "until")  # "Přihlášky {{ term.closes_at | until }}"
    app.add_template_filter(description_parts, "description_parts")
    # Every count people read goes through these: {{ n | count_noun("termín", "termíny", "termínů") }}.
    app.add_template_filter(czech.plural, "plural")
    app.add_template_filter(czech.count_noun, "count_noun")
    app.add_template_filter(czech.number, "number")
    app.add_template_filter(czech.greeting, "greeting")  # every e-mail's "Dobrý den, …,"
    app.add_template_filter(link_offer_names, "link_offer_names")
    # A planned workshop's period as the public sees it today ("Termín bude upřesněn" once passed).
    app.add_template_filter(shown_period, "shown_period")
    app.add_template_global(feed_links, "feed_links")
    app.add_template_global(format_hours, "format_hours")
    app.add_template_global(page_url, "page_url")  # the pager macro's links
    app.add_template_global(may, "may")  # a link or button shows only where its handler would admit her
    # The back office's audit trail, in Czech.
    app.add_template_global(display.action_label, "audit_action")
    app.add_template_global(display.describe, "audit_lines")
    # PDFs, e-mails and pages name the project (name, registration number, period) from one place.
    app.context_processor(lambda: {"project": project.facts()})
