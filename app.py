"""Entry point: `flask --app app ...` and `gunicorn 'app:create_app()'`."""
from trainings import create_app

__all__ = ["create_app"]
