"""Staff accounts as administrators manage them under Lidé: invite, role, a coordinator's kraj,
the terms a lecturer teaches, deactivation and a lost second factor.

Each change is in the person's audit trail (object type "users"). The CLI (`flask users …`)
calls the account functions these build on (accounts.py, second_factor.py).

An administrator cannot deactivate herself nor take her own role away: someone must be left
to run the programme, and only administrators can change roles, so whoever does it stays one.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..audit import record
from ..collation import czech_key, person_key
from ..db_session import transaction
from ..errors import ServiceError
from ..extensions import db
from ..models import Region, StaffRole, SupportRequest, Term, TermState, User, utcnow
from ..places import MAX_ID
from ..terms import service as terms
from . import accounts, second_factor, sessions

ROLE_LABELS = {role: role.label for role in StaffRole}


class AccountState(str, enum.Enum):
    ACTIVE = "active"
    INVITED = "invited"
    DEACTIVATED = "deactivated"

    @property
    def label(self) -> str:
        return {"active": "aktivní", "invited": "zatím bez prvního přihlášení",
                "deactivated": "deaktivovaný"}[self.value]


def state_of(user: User) -> AccountState:
    if not user.active:
        return AccountState.DEACTIVATED
    if user.last_login_at is None:
        return AccountState.INVITED
    return AccountState.ACTIVE


TAKEN = "Účet s touto e-mailovou adresou už existuje."


class PeopleError(ServiceError):
    """A change to a staff account that cannot be made; `field` names the form field it concerns."""

    message = "Změnu účtu nelze uložit."


def staff() -> list[User]:
    """Every staff account, by surname in Czech order (the e-mail breaks a tie of names)."""
    users = db.session.scalars(select(User).options(selectinload(User.regions))).all()
    return sorted(users, key=lambda user: (person_key(user.name), user.email))


def person(user_id: int) -> User | None:
    """`user_id` comes from the URL, whose `<id:…>` converter has refused what the database cannot hold."""
    return db.session.get(User, user_id)


def regions_in_order(regions) -> list[Region]:
    return sorted(regions, key=lambda region: czech_key(region.name))


def all_regions() -> list[Region]:
    return regions_in_order(db.session.scalars(select(Region).options(selectinload(Region.coordinator))).all())


def _region(region_id: int | None) -> Region:
    region = db.session.get(Region, region_id) if region_id and 0 < region_id <= MAX_ID else None
    if region is None:
        raise PeopleError("Vyberte kraj ze seznamu.", "region_id")
    return region


def invite(email: str, name: str, role: StaffRole, region_id: int | None, actor: User) -> User:
    """A new account without a password and an e-mail with a one-time link to set one; a
    coordinator gets her kraj at once. The second factor is set up at her first login."""
    email = email.strip().lower()
    if accounts.user_by_email(email) is not None:
        raise PeopleError(TAKEN, "email")
    region = _region(region_id) if role == StaffRole.COORDINATOR else None
    try:
        with transaction():  # the account, its audit entries, the kraj and the e-mail together
            user = accounts.create_user(email, name, role)
            db.session.flush()  # the same address sent twice at once: the unique index takes the first
            record("user.invited", user, actor, role=role, region=region.name if region else None)
            if region is not None:
                _take_over(region, user, actor)
            accounts.send_password_link(user)
    except IntegrityError:
        raise PeopleError(TAKEN, "email") from None
    return user


def send_new_link(user: User, actor: User) -> None:
    """Another link to set a password: the first e-mail was lost or its link ran out."""
    if not user.active:
        raise PeopleError("Deaktivovanému účtu nelze poslat odkaz k nastavení hesla. Nejprve jej aktivujte.")
    with transaction():
        record("user.link_sent", user, actor)
        accounts.send_password_link(user)


def change_role(user: User, role: StaffRole, actor: User) -> bool:
    """Her sessions end: the new role's pages (and for an administrator or coordinator the
    second factor) apply from her next login. False when the role is the same."""
    if role == user.role:
        return False
    if user.id == actor.id:
        raise PeopleError("Svou vlastní roli změnit nemůžete: správu systému musí mít vždy někdo. "
                          "Požádejte o to jinou osobu se správou systému.", "role")
    if user.role == StaffRole.COORDINATOR and user.regions:
        names = ", ".join(region.name for region in regions_in_order(user.regions))
        raise PeopleError(f"Tento účet koordinuje: {names}. Nejprve kraj přidělte jiné koordinaci, "
                          "aby žádosti z kraje měl kdo vyřizovat.", "role")
    with transaction():
        record("user.role_changed", user, actor, role=[user.role.value, role.value])
        user.role = role
        sessions.end_all(user)
    return True


@dataclass(frozen=True)
class Handover:
    """What assigning a kraj changed: its previous coordinator and the requests that went with it."""

    region: Region
    previous: User | None
    requests_moved: int


def assign_region(user: User, region_id: int | None, actor: User) -> Handover:
    """Make her the coordinator of the kraj. A kraj has one coordinator: the previous one
    loses it, and the kraj's requests assigned to her go to the new one (new requests of the
    kraj come to the new one by the kraj alone)."""
    if user.role != StaffRole.COORDINATOR:
        raise PeopleError("Kraj lze přidělit jen účtu s rolí koordinace kraje.", "region_id")
    region = _region(region_id)
    if region.coordinator_id == user.id:
        return Handover(region, None, 0)
    with transaction():
        return _take_over(region, user, actor)


def _take_over(region: Region, user: User, actor: User) -> Handover:
    """In the caller's transaction. The requests follow the kraj: whoever coordinates it
    sees them, and the requester's page names the coordinator who now answers."""
    previous = region.coordinator
    moved = 0
    if previous is not None:
        moved = db.session.execute(
            update(SupportRequest).where(SupportRequest.region_id == region.id,
                                         SupportRequest.coordinator_id == previous.id)
            .values(coordinator_id=user.id)
        ).rowcount
        record("user.region_removed", previous, actor, region=region.name, new_coordinator=user.name)
    region.coordinator = user
    record("user.region_assigned", user, actor, region=region.name,
           previous_coordinator=previous.name if previous else None, requests_moved=moved)
    return Handover(region, previous, moved)


def deactivate(user: User, actor: User) -> None:
    if user.id == actor.id:
        raise PeopleError("Svůj vlastní účet deaktivovat nemůžete: správu systému musí mít vždy někdo.")
    if not user.active:
        return
    accounts.deactivate(user, actor)


def reactivate(user: User, actor: User) -> None:
    if user.active:
        return
    accounts.reactivate(user, actor)


def reset_second_factor(user: User, actor: User) -> None:
    second_factor.reset_by_administrator(user, actor)


# --- a lecturer's terms -------------------------------------------------------------------


def taught_terms(user: User) -> list[Term]:
    return sorted(user.taught_terms, key=lambda term: term.starts_at)


def terms_to_link(user: User, now=None) -> list[Term]:
    """Terms she can be linked to: not cancelled, not ended, not hers yet; soonest first."""
    now = now or utcnow()
    mine = {term.id for term in user.taught_terms}
    return [term for term in db.session.scalars(
        select(Term).options(selectinload(Term.offer))
        .where(Term.state != TermState.CANCELLED, Term.ends_at >= now).order_by(Term.starts_at, Term.id))
        if term.id not in mine]


def link_term(user: User, term_id: int | None, teaches: bool, actor: User) -> Term:
    """The same link the term form writes (terms.service.set_lecturer), noted on her trail too."""
    term = db.session.get(Term, term_id) if term_id and 0 < term_id <= MAX_ID else None
    if term is None:
        raise PeopleError("Vyberte termín ze seznamu.", "term_id")
    if teaches and not (user.role == StaffRole.LECTURER and user.active):
        raise PeopleError("Termíny lze přidělit jen aktivnímu účtu s rolí lektorského vedení.", "term_id")
    user_id, term_id = user.id, term.id
    try:
        with transaction():  # the term's link and the entry in her trail together
            if terms.set_lecturer(term_id, user, teaches, actor):
                record("user.term_linked" if teaches else "user.term_unlinked", db.session.get(User, user_id),
                       actor, term=term_id)
    except terms.TermError as error:
        raise PeopleError(error.message, "term_id") from error
    return term
