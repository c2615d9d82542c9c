"""From a submitted form to the service's data, and back: what the request pages hand to
service.py, and the closed-term form filled in from the agreed request."""
from __future__ import annotations

from flask import request

from ..catalogue import queries as catalogue
from ..errors import ServiceError
from ..models import OfferKind, SupportRequest, TermForm, Urgency
from ..project import region_groups
from . import service
from .forms import RESTRICT_ORP, RESTRICT_REGION, ClosedTermForm
from .queries import all_regions


def requester(form) -> service.Requester:
    return service.Requester(
        name=form.name.data, email=form.email.data, phone=form.phone.data, organisation=form.organisation.data
    )


def preselected(offers) -> list[int]:
    """?polozka=<slug> from the catalogue's "Požádat" links ticks that item."""
    slugs = set(request.args.getlist("polozka"))
    return [o.id for o in offers if o.slug in slugs]


def workshops():
    """Topics to choose from: the catalogue's workshops, running and planned."""
    return [o for o in catalogue.offers_of_kind(OfferKind.WORKSHOP) if not o.custom]


def catalogue_groups(offers):
    """Items 1–12 under their A/B/C headings, as seed 004 groups them."""
    return [(g, [o for o in offers if o.group == g["code"]]) for g in region_groups()]


def custom_workshop(form) -> service.CustomWorkshop:
    return service.CustomWorkshop(
        region_id=form.region.data,
        orp_id=form.orp.data,
        topic_offer_id=form.topic_offer.data,
        topic_text=form.topic_text.data,
        participant_needs=form.participant_needs.data,
        expected_participants=form.expected_participants.data,
        preferred_dates=form.preferred_dates.data,
        preferred_form=TermForm(form.form.data),
        place=form.place.data,
    )


def support(form) -> service.Support:
    return service.Support(
        region_id=form.region.data,
        orp_id=form.orp.data,
        offer_ids=tuple(form.items.data),
        situation=form.situation.data,
        preferred_form=TermForm(form.form.data),
        urgency=Urgency(form.urgency.data),
    )


def region_package(form) -> service.RegionPackage:
    return service.RegionPackage(region_id=form.region.data, items=form.item_notes(), note=form.note.data)


# TermError names TermData's fields; the closed-term form has its own names for them.
_TERM_ERROR_FIELDS = {
    "offer_id": "offer", "ends_at": "end", "capacity": "capacity", "per_orp_limit": "per_orp_limit",
    "venue": "venue", "registration_deadline": "deadline", "restricted_orp_id": "restriction",
    "restricted_region_id": "restriction", "region_id": "region",
}


def on_closed_term_form(error: ServiceError) -> ServiceError:
    """The refusal with the closed-term form's name for its field, for forms.show_error."""
    return ServiceError(error.message, _TERM_ERROR_FIELDS.get(error.field, error.field))


def closed_term_form(req: SupportRequest) -> ClosedTermForm:
    """The form for a closed term; on first showing, filled in from what the request agreed."""
    form = ClosedTermForm()
    offers = catalogue.offers_of_kind(OfferKind.WORKSHOP)
    form.set_choices(offers, all_regions(), req)
    if not form.is_submitted():
        custom = next((o for o in offers if o.custom), None)
        form.offer.data = req.topic_offer_id or (custom.id if custom else None)
        form.form.data = (req.preferred_form or TermForm.IN_PERSON).value
        form.region.data = req.region_id
        form.venue.data = req.place
        form.capacity.data = req.expected_participants
        form.restriction.data = RESTRICT_ORP if req.orp_id else RESTRICT_REGION
    return form
