"""The site's icon: white "S4" on the site's blue, a neutral mark (no emblem, no ministry logo).

Run `python -m trainings.catalogue.favicon` to draw static/favicon.svg and static/favicon.ico
again; both are committed, so nothing is drawn at start-up. The letters are DejaVu Sans Bold
(shipped in trainings/data/fonts/) turned into SVG paths, so the icon looks the same whatever
fonts a visitor has; the ICO is the same drawing rasterised by Pillow at 16, 32 and 48 px.
"""
from __future__ import annotations

from pathlib import Path

BLUE = "#2362a2"  # --blue in static/css/app.css
TEXT = "S4"
SIZE = 64  # the SVG's coordinate square
STATIC = Path(__file__).resolve().parents[2] / "static"
FONT = Path(__file__).resolve().parents[1] / "data" / "fonts" / "DejaVuSans-Bold.ttf"


def svg() -> str:
    from fontTools.pens.boundsPen import BoundsPen
    from fontTools.pens.svgPathPen import SVGPathPen
    from fontTools.pens.transformPen import TransformPen
    from fontTools.ttLib import TTFont

    font = TTFont(FONT)
    glyphs, cmap = font.getGlyphSet(), font.getBestCmap()
    names = [cmap[ord(c)] for c in TEXT]
    # Lay the letters out on one baseline, then scale the run to fit the square with a margin.
    bounds, x = BoundsPen(glyphs), 0
    for name in names:
        glyphs[name].draw(TransformPen(bounds, (1, 0, 0, 1, x, 0)))
        x += glyphs[name].width
    x_min, y_min, x_max, y_max = bounds.bounds
    scale = (SIZE * 0.78) / max(x_max - x_min, y_max - y_min)
    dx = (SIZE - (x_max - x_min) * scale) / 2 - x_min * scale
    dy = (SIZE + (y_max - y_min) * scale) / 2 + y_min * scale  # font units grow upwards, SVG downwards
    pen, x = SVGPathPen(glyphs, ntos=lambda v: f"{v:.1f}".rstrip("0").rstrip(".")), 0
    for name in names:
        glyphs[name].draw(TransformPen(pen, (scale, 0, 0, -scale, dx + x * scale, dy)))
        x += glyphs[name].width
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}">'
        f'<rect width="{SIZE}" height="{SIZE}" rx="10" fill="{BLUE}"/>'
        f'<path fill="#fff" d="{pen.getCommands()}"/></svg>\n'
    )


def ico(path: Path) -> None:
    from PIL import Image, ImageDraw, ImageFont

    big = 256
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 10 // SIZE, fill=BLUE)
    font = ImageFont.truetype(str(FONT), size=10)
    left, top, right, bottom = draw.textbbox((0, 0), TEXT, font=font)
    font = ImageFont.truetype(str(FONT), size=round(10 * big * 0.78 / max(right - left, bottom - top)))
    left, top, right, bottom = draw.textbbox((0, 0), TEXT, font=font)
    draw.text(((big - (right - left)) / 2 - left, (big - (bottom - top)) / 2 - top), TEXT, font=font, fill="#fff")
    image.save(path, format="ICO", sizes=[(16, 16), (32, 32), (48, 48)])


def main() -> None:
    (STATIC / "favicon.svg").write_text(svg(), encoding="utf-8")
    ico(STATIC / "favicon.ico")
    print(STATIC / "favicon.svg", STATIC / "favicon.ico")


if __name__ == "__main__":
    main()
