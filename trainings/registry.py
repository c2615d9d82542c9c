"""Where a lower floor lets a higher one plug in (e-mail composers by kind, parts of her registration's
page): a table of functions by key, each key filled once, so the lower floor never imports the higher."""
from collections.abc import Callable


def registrar(table: dict[str, Callable], what: str):
    """A decorator factory `under(*keys)` that files the decorated function under each key of `table`."""
    def under(*keys: str):
        def register(function: Callable) -> Callable:
            for key in keys:
                if table.get(key, function) is not function:
                    raise ValueError(f"two {what} {key!r}")
                table[key] = function
            return function
        return register
    return under
