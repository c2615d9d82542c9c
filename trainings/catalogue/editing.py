"""The catalogue edited by staff: drafts, publishing, revisions, restoring, withdrawal, new workshops.

Every published change is an `OfferRevision` holding all editable fields as they were from then
on, and what changed against the version before. The first staff change of a seeded offer first
keeps the catalogue's own text as a "baseline" revision, so it can always be restored. A draft is
the one unpublished revision of an offer: the public pages and the API read only the `offers` row,
which changes on publishing alone.

Addresses: an offer's slug is made once, from its first title, and never changes, so every link
ever given out (e-mails, calendars, the API, bookmarks) keeps working after a rename.

A workshop is never deleted, only withdrawn: its terms, registrations, certificates and feeds
refer to it. `flask seed` leaves every row staff touched (`edited_at`) as it is.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import case, select

from .. import audit, czech
from . import texts
from ..db_session import transaction
from ..errors import ServiceError
from ..extensions import db
from ..models import Offer, OfferKind, OfferRevision, OfferStatus, TermForm, User, utcnow

# The fields staff edit, in the order forms and diffs show them, with their Czech names.
FIELDS = {
    "title": "název",
    "aliases": "další názvy",
    "status": "stav",
    "forms": "forma",
    "period": "plánované období",
    "audience": "pro koho",
    "summary": "shrnutí",
    "description": "popis",
    "prerequisite_hint": "doporučená návaznost",
}
STATUS_LABELS = {OfferStatus.RUNNING.value: "probíhající", OfferStatus.PLANNED.value: "plánovaný"}
KIND_HEADINGS = {
    OfferKind.WORKSHOP: "Workshopy",
    OfferKind.TRAINING: "Plošné vzdělávání (B)",
    OfferKind.SUPPORT: "Cílená metodická podpora (A1–A7)",
    OfferKind.REGION_SUPPORT: "Nabídka pro kraje (1–12)",
}
ACTIONS = {
    "baseline": "původní text katalogu",
    "edit": "úprava",
    "restore": "obnovení starší verze",
    "created": "nový workshop",
}
TITLE_MAX = 300
PERIOD_MAX = 100


class EditRefused(ServiceError):
    pass


def values_of(offer: Offer) -> dict:
    """The editable fields of an offer, JSON-ready."""
    return {
        "title": offer.title,
        "aliases": list(offer.aliases or []),
        "status": offer.status.value if offer.status else None,
        "forms": list(offer.forms or []),
        "period": offer.period,
        "audience": offer.audience,
        "summary": offer.summary,
        "description": offer.description,
        "prerequisite_hint": offer.prerequisite_hint,
    }


def _apply(offer: Offer, values: dict) -> None:
    offer.title = values["title"]
    offer.aliases = list(values.get("aliases") or [])
    offer.status = OfferStatus(values["status"]) if values.get("status") else None
    offer.forms = list(values.get("forms") or [])
    for name in ("period", "audience", "summary", "description", "prerequisite_hint"):
        setattr(offer, name, values.get(name) or None)


def clean(offer_kind: OfferKind, values: dict) -> dict:
    """The values as stored: empty texts as None, known forms in catalogue order; refused with a
    Czech message at the field when a rule is broken (the form says the same first)."""
    title = (values.get("title") or "").strip()
    if not title:
        raise EditRefused("Vyplňte prosím název.", "title")
    if len(title) > TITLE_MAX:
        raise EditRefused(f"Název může mít nejvýše {czech.count_noun(TITLE_MAX, *czech.CHARACTERS)}.", "title")
    period = (values.get("period") or "").strip() or None
    if period and len(period) > PERIOD_MAX:
        raise EditRefused(f"Období může mít nejvýše {czech.count_noun(PERIOD_MAX, *czech.CHARACTERS)}.", "period")
    aliases = []
    for alias in values.get("aliases") or []:
        alias = " ".join(alias.split())
        if len(alias) > TITLE_MAX:
            raise EditRefused(f"Každý název může mít nejvýše {czech.count_noun(TITLE_MAX, *czech.CHARACTERS)}.",
                              "aliases")
        if alias and alias != title and alias not in aliases:
            aliases.append(alias)
    status = values.get("status") or None
    if offer_kind == OfferKind.WORKSHOP:
        if status not in STATUS_LABELS:
            raise EditRefused("Vyberte, zda workshop probíhá, nebo je plánovaný.", "status")
    else:
        status = None  # only workshops run or are planned
    forms = [f.value for f in TermForm if f.value in (values.get("forms") or [])]
    texts = {name: (values.get(name) or "").strip() or None
             for name in ("audience", "summary", "description", "prerequisite_hint")}
    return {"title": title, "aliases": aliases, "status": status, "forms": forms, "period": period, **texts}


def diff(before: dict, after: dict) -> dict:
    """{field: [old, new]} for the editable fields that differ."""
    return {name: [before.get(name), after.get(name)] for name in FIELDS if before.get(name) != after.get(name)}


# --- reading -----------------------------------------------------------------------------------


def draft_of(offer: Offer) -> OfferRevision | None:
    return db.session.scalars(
        select(OfferRevision).where(OfferRevision.offer_id == offer.id, OfferRevision.published_at.is_(None))
    ).first()


def offers_with_drafts() -> set[int]:
    return set(db.session.scalars(select(OfferRevision.offer_id).where(OfferRevision.published_at.is_(None))))


def history(offer: Offer) -> list[OfferRevision]:
    """Published versions, newest first; the first is what the catalogue shows now."""
    return db.session.scalars(
        select(OfferRevision)
        .where(OfferRevision.offer_id == offer.id, OfferRevision.published_at.is_not(None))
        # The baseline is kept in the same instant as the first change it precedes.
        .order_by(OfferRevision.published_at.desc(), case((OfferRevision.action == "baseline", 1), else_=0),
                  OfferRevision.id.desc())
    ).all()


def catalogue_for_staff() -> dict[OfferKind, list[Offer]]:
    """Every offer, withdrawn ones included, grouped by kind in catalogue order."""
    offers = db.session.scalars(select(Offer).order_by(Offer.position, Offer.id)).all()
    return {kind: [o for o in offers if o.kind == kind] for kind in KIND_HEADINGS}


def as_drafted(offer: Offer, values: dict) -> Offer:
    """A detached copy of `offer` with the draft's values, for the public templates to show as
    a preview. Never added to the session, so nothing of it is written."""
    copy = Offer(id=offer.id, slug=offer.slug, kind=offer.kind, code=offer.code, group=offer.group,
                 position=offer.position, custom=offer.custom, withdrawn_at=offer.withdrawn_at)
    _apply(copy, values)
    return copy


# --- changing ------------------------------------------------------------------------------------


def save_draft(offer: Offer, values: dict, actor: User) -> OfferRevision:
    """Keep the edit as the offer's draft (one per offer: a later edit replaces it)."""
    values = clean(offer.kind, values)
    with transaction():
        draft = draft_of(offer)
        if draft is None:
            draft = OfferRevision(offer=offer, action="edit", values=values, changes={})
            db.session.add(draft)
        draft.values = values
        draft.changes = diff(values_of(offer), values)
        draft.author = actor
        draft.created_at = utcnow()
    return draft


def discard_draft(offer: Offer) -> None:
    with transaction():
        draft = draft_of(offer)
        if draft is not None:
            db.session.delete(draft)


def _keep_baseline(offer: Offer, now) -> None:
    """Before the first staff change: the version the catalogue file gave, so it can be restored."""
    if db.session.scalar(select(OfferRevision.id).where(
            OfferRevision.offer_id == offer.id, OfferRevision.published_at.is_not(None)).limit(1)) is None:
        db.session.add(OfferRevision(offer=offer, action="baseline", values=values_of(offer), changes={},
                                     created_at=now, published_at=now))
        db.session.flush()


def _publish_values(offer: Offer, values: dict, actor: User, revision: OfferRevision, now) -> OfferRevision:
    # A new workshop's first version is all new; any other is compared with what is shown now.
    changes = diff({} if revision.action == "created" else values_of(offer), values)
    if not changes:
        raise EditRefused("Tato verze se od zveřejněné ničím neliší.")
    _apply(offer, values)
    offer.edited_at = now
    revision.values = values
    revision.changes = changes
    revision.author = actor
    revision.published_at = now
    db.session.flush()
    audit.record("offer.published", offer, actor, fields=", ".join(FIELDS[name] for name in FIELDS if name in changes))
    return revision


def publish(offer: Offer, actor: User) -> OfferRevision:
    """The draft becomes what the public pages and the API show."""
    with transaction():
        draft = draft_of(offer)
        if draft is None:
            raise EditRefused("Nabídka nemá žádný koncept ke zveřejnění.")
        now = utcnow()
        if draft.action != "created":
            _keep_baseline(offer, now)
        revision = _publish_values(offer, draft.values, actor, draft, now)
    texts.forget()  # titles and other names link other offers' texts
    return revision


def restore(revision: OfferRevision, actor: User) -> OfferRevision:
    """Publish an older version again, as a new revision of its own; a draft stays as it is."""
    offer = revision.offer
    if revision.published_at is None:
        raise EditRefused("Koncept nelze obnovit; zveřejněte ho.")
    try:
        with transaction():  # nothing of it stays when the version is the one shown
            now = utcnow()
            _keep_baseline(offer, now)
            restored = OfferRevision(offer=offer, action="restore", values=dict(revision.values), changes={},
                                     restored_from=revision, created_at=now)
            db.session.add(restored)
            restored = _publish_values(offer, dict(revision.values), actor, restored, now)
    except EditRefused:
        raise EditRefused("Tato verze je právě zveřejněná.") from None
    texts.forget()
    return restored


def withdraw(offer: Offer, actor: User) -> None:
    """Out of the public catalogue and sign-up; nothing that refers to it changes."""
    if offer.withdrawn_at is None:
        with transaction():
            offer.withdrawn_at = offer.edited_at = utcnow()
            audit.record("offer.withdrawn", offer, actor)
        texts.forget()  # its name is no longer a link


def return_to_catalogue(offer: Offer, actor: User) -> None:
    if offer.withdrawn_at is None:
        return
    if _is_new(offer) and not history(offer):
        raise EditRefused("Nový workshop nejdřív zveřejněte: Uložit a zobrazit náhled, pak Zveřejnit.")
    with transaction():
        offer.withdrawn_at = None
        offer.edited_at = utcnow()
        audit.record("offer.returned", offer, actor)
    texts.forget()


def _is_new(offer: Offer) -> bool:
    """Added by staff rather than loaded from the catalogue file."""
    return db.session.scalar(select(OfferRevision.id).where(
        OfferRevision.offer_id == offer.id, OfferRevision.action == "created").limit(1)) is not None


def slug_for(title: str) -> str:
    """"Nový workshop – IPOD 2" -> "novy-workshop-ipod-2", unique among all offers ever made."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:100].rstrip("-") or "workshop"
    taken = set(db.session.scalars(select(Offer.slug).where(Offer.slug.like(f"{base}%"))))
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug


def create_workshop(values: dict, actor: User) -> Offer:
    """A new workshop, outside the catalogue until its first version is published and it is
    put in (its slug comes from this first title and stays)."""
    values = clean(OfferKind.WORKSHOP, values)
    now = utcnow()
    with transaction():
        last = db.session.scalar(select(Offer.position).order_by(Offer.position.desc()).limit(1)) or 0
        offer = Offer(slug=slug_for(values["title"]), kind=OfferKind.WORKSHOP, position=last + 1,
                      title=values["title"], status=OfferStatus(values["status"]), forms=[],
                      edited_at=now, withdrawn_at=now)
        db.session.add(offer)
        db.session.flush()
        db.session.add(OfferRevision(offer=offer, action="created", values=values, changes=diff({}, values),
                                     author=actor, created_at=now))
        audit.record("offer.created", offer, actor, title=values["title"])
    return offer


# --- showing a change in Czech ---------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeLine:
    field: str
    before: str
    after: str


def shown(name: str, value) -> str:
    if value in (None, "", []):
        return "(prázdné)"
    if name == "status":
        return STATUS_LABELS.get(value, value)
    if name == "forms":
        return " i ".join(TermForm(v).label for v in value if v in {f.value for f in TermForm})
    if name == "aliases":
        return "\n".join(value)
    return str(value)


def change_lines(changes: dict) -> list[ChangeLine]:
    """The diff of a revision, field by field in form order, in Czech."""
    return [ChangeLine(FIELDS[name], shown(name, changes[name][0]), shown(name, changes[name][1]))
            for name in FIELDS if name in changes]
