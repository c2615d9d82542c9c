"""`flask --app app …` commands: thin wrappers over service functions."""
import time

import click
from flask import Flask

from .catalogue.seed import seed_all, seed_demo_terms
from .mail.dispatch import send_due


def register_commands(app: Flask) -> None:
    @app.cli.command("seed")
    @click.option("--demo", is_flag=True, help="Také ukázkové termíny na příští týdny.")
    def seed(demo):
        """Load kraje, ORP, coordinators and the SPOD4 catalogue (idempotent)."""
        seed_all()
        click.echo("Katalog, kraje a ORP nahrány.")
        if demo:
            click.echo(f"Ukázkové termíny: přidáno {seed_demo_terms()}.")

    @app.cli.group("outbox")
    def outbox():
        """The e-mail outbox."""

    @outbox.command("send")
    @click.option("--limit", default=100, show_default=True)
    def outbox_send(limit):
        """One pass: send every message that is due."""
        counts = send_due(limit)
        click.echo(f"Odesláno {counts['sent']}, k opakování {counts['retry']}, selhalo {counts['failed']}.")

    @outbox.command("work")
    @click.option("--interval", default=5.0, show_default=True, help="Sekund mezi průchody.")
    def outbox_work(interval):
        """Keep sending due messages until stopped (Ctrl+C)."""
        click.echo(f"Odesílání e-mailů běží (každých {interval} s).")
        try:
            while True:
                send_due()
                time.sleep(interval)
        except KeyboardInterrupt:
            pass
