"""The interest list of planned workshops ("Chci vědět, až bude termín")."""
from flask import current_app
from sqlalchemy import select

from ..db_session import transaction
from ..extensions import db
from ..models import InterestEntry, Offer, utcnow
from ..registration.service import normalize_email


def add_interest(offer: Offer, email: str, region_id: int, orp_id: int | None) -> bool:
    """Record the interest; False if this e-mail is already on the list (then it is updated)."""
    email_normalized = normalize_email(email)
    with transaction():
        entry = db.session.scalars(
            select(InterestEntry).where(
                InterestEntry.offer_id == offer.id, InterestEntry.email_normalized == email_normalized
            )
        ).one_or_none()
        created = entry is None
        if created:
            entry = InterestEntry(offer=offer, email_normalized=email_normalized)
            db.session.add(entry)
        entry.email = email.strip()
        entry.region_id = region_id
        entry.orp_id = orp_id
        entry.consent_at = utcnow()
        entry.consent_version = current_app.config["CONSENT_VERSION"]
    return created
