"""`flask --app app …` commands: thin wrappers over service functions."""
import signal
import threading

import click
from flask import Flask, current_app
from sqlalchemy.exc import SQLAlchemyError

from . import czech
from .catalogue.seed import seed_all
from .demo import Demo, seed_demo
from .documents.service import work as make_documents
from .mail.dispatch import send_due, work
from .registration.reminders import send_reminders
from .models import StaffRole
from .people import accounts


def demo_text(demo: Demo) -> str:
    """What `make run` prints: a login for every role and where to start, all clickable."""
    from .people.second_factor import grouped, provisioning_uri
    from .timefmt import term_span
    from .urls import absolute_url

    lines = [
        f"Ukázkové termíny: přidáno {czech.count_noun(demo.terms_added, 'termín', 'termíny', 'termínů')}.",
        "",
        f"Ukázková přihlášení (hesla jsou jen pro tuto vývojovou kopii): {absolute_url('auth.login')}",
    ]
    width = max(len(login.role) for login in demo.logins)
    for login in demo.logins:
        extra = "  + kód z ověřovací aplikace" if login.totp_secret else ""
        lines.append(f"  {login.role:<{width}}  {login.email} / {login.password}{extra}")
    needs_app = [login for login in demo.logins if login.totp_secret]
    if needs_app:
        lines += ["", "Správa systému a koordinace se přihlašují i kódem z ověřovací aplikace v telefonu (Google "
                      "Authenticator, Microsoft Authenticator, Aegis, FreeOTP…) nebo ve správci hesel.",
                  "Přidejte do aplikace tento klíč ručně, nebo otevřete odkaz otpauth:// na zařízení, kde ji máte:"]
        for login in needs_app:
            lines.append(f"  {login.email}: {grouped(login.totp_secret)}")
            lines.append(f"    {provisioning_uri(accounts.user_by_email(login.email), login.totp_secret)}")
    today = demo.today
    lines += [
        "",
        f"Dnes probíhá: {today.offer.title}, {term_span(today.starts_at, today.ends_at)} "
        f"(lektorské vedení: {today.lecturer})",
        f"  příchody a docházka: {absolute_url('attendance.check_in', term_id=today.id)}",
        f"Žádost o workshop na klíč čeká na koordinaci kraje: "
        f"{absolute_url('requests_staff.detail', request_id=demo.request.id)}",
    ]
    if current_app.config.get("MAIL_TRANSPORT") == "files":
        lines.append(f"E-maily se neodesílají: ukládají se jako soubory .eml do {current_app.config['MAIL_FILE_DIR']}.")
    return "\n".join(lines)


def register_commands(app: Flask) -> None:
    @app.cli.command("seed")
    @click.option("--demo", is_flag=True, help="Také ukázkové termíny na příští týdny.")
    def seed(demo):
        """Load kraje, ORP, coordinators and the SPOD4 catalogue (idempotent)."""
        seed_all()
        click.echo("Katalog, kraje a ORP nahrány.")
        if demo:
            click.echo(demo_text(seed_demo()))

    @app.cli.group("reminders")
    def reminders():
        """Reminders before terms."""

    @reminders.command("send")
    @click.option("--days", type=int, default=None, help="Kolik dní předem (výchozí REMINDER_DAYS_BEFORE).")
    def reminders_send(days):
        """Queue reminders for terms starting soon; each person gets one (safe to run from cron)."""
        days = days if days is not None else app.config["REMINDER_DAYS_BEFORE"]
        click.echo(f"Připomínek zařazeno do fronty: {send_reminders(days)}.")

    @app.cli.group("feedback")
    def feedback():
        """Feedback after workshops."""

    @feedback.command("send")
    @click.option("--remind-after", type=int, default=None, help="Po kolika dnech připomenout (výchozí 4).")
    def feedback_send(remind_after):
        """Queue the e-mail after a term (osvědčení + questionnaire) and the one reminder; safe to run from cron."""
        from .feedback import service as feedback_service

        invited, reminded = feedback_service.send(
            remind_after if remind_after is not None else feedback_service.REMINDER_AFTER_DAYS)
        click.echo(f"Dotazníků zařazeno do fronty: {invited}, připomínek: {reminded}.")

    @app.cli.group("retention")
    def retention():
        """Anonymising personal data the project no longer needs."""

    @retention.command("run")
    @click.option("--days", type=int, default=None, help="Po kolika dnech (výchozí RETENTION_DAYS).")
    def retention_run(days):
        """Anonymise registrations, interest entries and finished requests older than the period."""
        from datetime import timedelta

        from .privacy.service import run_retention

        outcome = run_retention(timedelta(days=days) if days is not None else None)
        click.echo(
            f"Anonymizováno: {czech.count_noun(outcome.registrations, *czech.REGISTRATIONS)}, "
            f"{czech.count_noun(outcome.interest_entries, *czech.INTEREST_ENTRIES)}, "
            f"{czech.count_noun(outcome.requests, *czech.REQUESTS)}; "
            f"smazáno: {czech.count_noun(outcome.messages, *czech.EMAILS)}."
        )

    @app.cli.group("users")
    def users():
        """Staff accounts."""

    @users.command("create")
    @click.argument("email")
    @click.option("--name", required=True)
    @click.option("--role", type=click.Choice([r.value for r in StaffRole]), required=True)
    @click.option("--password", help="Bez hesla přijde na adresu účtu e-mailem odkaz k nastavení hesla.")
    def users_create(email, name, role, password):
        """Create a staff user."""
        try:
            user = accounts.create_user(email, name, StaffRole(role), password)
        except accounts.AccountError as exc:
            raise click.ClickException(exc.message)
        if not password:
            accounts.send_password_link(user)
            click.echo(f"Uživatel {user.email} vytvořen; odkaz k nastavení hesla je ve frontě e-mailů.")
        else:
            click.echo(f"Uživatel {user.email} vytvořen.")

    @users.command("invite")
    @click.argument("email")
    def users_invite(email):
        """E-mail a staff user a link to set a (new) password."""
        user = accounts.user_by_email(email)
        if user is None:
            raise click.ClickException(f"Uživatel {email} neexistuje.")
        accounts.send_password_link(user)
        click.echo(f"Odkaz k nastavení hesla pro {user.email} je ve frontě e-mailů.")

    def _existing_user(email):
        user = accounts.user_by_email(email)
        if user is None:
            raise click.ClickException(f"Uživatel {email} neexistuje.")
        return user

    @users.command("reset-second-factor")
    @click.argument("email")
    def users_reset_second_factor(email):
        """For someone who lost her phone and her recovery codes: forget her app and codes, end her sessions."""
        from .people import second_factor

        user = _existing_user(email)
        second_factor.reset_by_administrator(user)
        click.echo(f"Účet {user.email}: ověřovací aplikace a záložní kódy jsou zrušené, všechna přihlášení "
                   "ukončená. Při příštím přihlášení se aplikace nastaví znovu.")

    @users.command("deactivate")
    @click.argument("email")
    def users_deactivate(email):
        """Take a staff user's access away: her sessions end and she can no longer log in."""
        user = _existing_user(email)
        accounts.deactivate(user)
        click.echo(f"Účet {user.email} je deaktivovaný, všechna jeho přihlášení jsou ukončená.")

    @app.cli.group("outbox")
    def outbox():
        """The e-mail outbox."""

    @outbox.command("send")
    @click.option("--limit", default=100, show_default=True)
    def outbox_send(limit):
        """One pass: send every message that is due."""
        try:
            counts = send_due(limit)
        except SQLAlchemyError as exc:
            raise click.ClickException(f"Chyba databáze: {' '.join(str(getattr(exc, 'orig', exc)).split())}")
        click.echo(f"Odesláno: {counts['sent']}, k opakování: {counts['retry']}, selhalo: {counts['failed']}.")

    @outbox.command("work")
    @click.option("--interval", default=5.0, show_default=True, help="Sekund mezi průchody, když není co odeslat.")
    @click.option("--batch", default=50, show_default=True, help="Kolik zpráv si vzít najednou.")
    @click.option("--exit-when-idle", is_flag=True, help="Skončit, jakmile není co odeslat.")
    def outbox_work(interval, batch, exit_when_idle):
        """Keep sending due messages; several workers may run at once, and outages are waited out."""
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        click.echo(f"Odesílání e-mailů běží (po {batch}, pauza {interval} s).")
        try:
            work(batch=batch, interval=interval, exit_when_idle=exit_when_idle, stop=stop)
        except KeyboardInterrupt:
            pass

    @app.cli.group("documents")
    def documents():
        """Long documents made off the request (a term's osvědčení)."""

    @documents.command("work")
    @click.option("--interval", default=2.0, show_default=True, help="Sekund mezi průchody, když není co dělat.")
    @click.option("--exit-when-idle", is_flag=True, help="Skončit, jakmile není co dělat.")
    def documents_work(interval, exit_when_idle):
        """Keep making asked-for documents; several workers may run at once, and a dead one's job is taken back."""
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        click.echo(f"Příprava dokumentů běží (pauza {interval} s).")
        try:
            make_documents(interval=interval, exit_when_idle=exit_when_idle, stop=stop)
        except KeyboardInterrupt:
            pass
