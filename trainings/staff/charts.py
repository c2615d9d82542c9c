"""Bar charts drawn on the server as SVG: no script, no inline style (the CSP forbids both);
sizes are SVG attributes, colours come from classes in static/css/app.css.

A chart only repeats a table printed beside it, which is what screen readers read: the
templates hide the SVG from them (aria-hidden)."""
from __future__ import annotations

from dataclasses import dataclass

WIDTH = 400  # viewBox units; the picture scales to the column it is in
LINE = 16  # one line of label text


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    label_lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    baseline: float = 0


def _scale(values: list[int]) -> int:
    return max(values, default=0) or 1


def columns(items: list[tuple[str, int]], plot_height: int = 160) -> Chart:
    """Upright bars side by side (months): the value above each bar, the label below it."""
    top, bottom = LINE + 4, LINE + 8
    peak = _scale([v for _, v in items])
    step = WIDTH / max(len(items), 1)
    bars = []
    for index, (label, value) in enumerate(items):
        height = plot_height * value / peak
        bars.append(Bar(label, value, x=index * step + step * 0.15, y=top + plot_height - height,
                        width=step * 0.7, height=height))
    return Chart(WIDTH, top + plot_height + bottom, bars, baseline=top + plot_height)


def rows(items: list[tuple[str, int]], label_chars: int = 52) -> Chart:
    """Lying bars one under another (workshops): the label above each bar, the value after it."""
    value_room = 48
    peak = _scale([v for _, v in items])
    bars, y = [], 0.0
    for label, value in items:
        lines = _wrap(label, label_chars)
        y += LINE * len(lines) + 2
        width = (WIDTH - value_room) * value / peak
        bars.append(Bar(label, value, x=0, y=y, width=width, height=14, label_lines=lines))
        y += 14 + 10
    return Chart(WIDTH, int(y) + 2, bars)


def _wrap(text: str, limit: int) -> tuple[str, ...]:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > limit:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return tuple(lines + [line]) if line else ("",)
