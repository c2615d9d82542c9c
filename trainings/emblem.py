"""The EU emblem, drawn from its published geometric description.

ESF+ publicity puts the emblem beside "Spolufinancováno Evropskou unií" on
everything the project prints or shows. The emblem is defined geometrically
(the EU's graphic rules for the European flag): a blue rectangle 1.5 times as
wide as high; twelve gold five-pointed stars on an invisible circle whose
radius is a third of the height, centred in the rectangle; each star's points
lie on a circle whose radius is an eighteenth of the height; the stars stand
at the positions of the hours on a clock face and all stand upright (one
point straight up), whatever their place on the circle.

The pages and the PDFs (trainings/exports/pdf.py, through WeasyPrint) show the
same file, static/img/eu-emblem.svg, written by `python -m trainings.emblem`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

BLUE = "#003399"  # Pantone Reflex Blue, as the graphic rules give it for screens
GOLD = "#FFCC00"  # Pantone Yellow
STAR_COUNT = 12
# Inner to outer radius of a regular five-pointed star: its inner corners are
# where the lines of a pentagram cross, (3 - √5) / 2 of the outer radius.
STAR_INNER_RATIO = (3 - math.sqrt(5)) / 2

Point = tuple[float, float]


@dataclass(frozen=True)
class Emblem:
    width: float
    height: float
    stars: tuple[tuple[Point, ...], ...]  # each star: 10 corners, outer and inner alternating, top point first


def star(cx: float, cy: float, radius: float) -> tuple[Point, ...]:
    """An upright five-pointed star centred at (cx, cy); y grows downwards, as in SVG and PDF pages."""
    corners = []
    for i in range(10):
        r = radius if i % 2 == 0 else radius * STAR_INNER_RATIO
        angle = math.radians(-90 + 36 * i)
        corners.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    return tuple(corners)


def emblem(height: float) -> Emblem:
    """The emblem `height` units high, with its origin at the top left corner."""
    width = 1.5 * height
    cx, cy = width / 2, height / 2
    ring, star_radius = height / 3, height / 18
    stars = []
    for hour in range(STAR_COUNT):  # 12 o'clock first, then clockwise
        angle = math.radians(-90 + 30 * hour)
        stars.append(star(cx + ring * math.cos(angle), cy + ring * math.sin(angle), star_radius))
    return Emblem(width, height, tuple(stars))


# 540 units high: the ring's radius (180) and each star's (30) come out whole.
SVG_HEIGHT = 540


def _number(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def emblem_svg(height: float = SVG_HEIGHT) -> str:
    """The emblem as a standalone SVG document, the text of static/img/eu-emblem.svg."""
    shape = emblem(height)
    w, h = _number(shape.width), _number(shape.height)
    lines = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}">',
        "<title>Vlajka Evropské unie</title>",
        f'<rect width="{w}" height="{h}" fill="{BLUE}"/>',
        f'<g fill="{GOLD}">',
    ]
    for corners in shape.stars:
        points = " ".join(f"{_number(x)},{_number(y)}" for x, y in corners)
        lines.append(f'<polygon points="{points}"/>')
    lines += ["</g>", "</svg>", ""]
    return "\n".join(lines)


if __name__ == "__main__":  # python -m trainings.emblem > static/img/eu-emblem.svg
    import sys

    sys.stdout.write(emblem_svg())
