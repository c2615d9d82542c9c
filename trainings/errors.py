"""The one error type of the services.

Every expected refusal (a full term is not one, a closed term is) is a
`ServiceError`: a Czech sentence meant for the person and, when it is about one
input, the name of the form field it belongs next to. Services raise it (or a
named subclass a caller wants to tell apart); views put it on the form with
`trainings.forms.show_error`, the API and the CLI print its message.
"""
from __future__ import annotations


class ServiceError(Exception):
    message = "Požadavek nelze provést."
    field: str | None = None

    def __init__(self, message: str | None = None, field: str | None = None):
        super().__init__(message or self.message)
        if message:
            self.message = message
        if field:
            self.field = field
