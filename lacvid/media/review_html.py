"""The review page's HTML: pure text from plain data, no files (``pipeline.review_page`` writes them).

One section per shot, in one page an animator scrolls: every ``<img>`` carries its width and height
(the layout never jumps while pictures arrive) and ``loading="lazy"`` (a 300-shot episode loads only
what is on screen), so the page stays light however long the episode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape


@dataclass(frozen=True)
class Picture:
    src: str                 # relative to the page, e.g. "img/s001-k0000.png"
    width: int
    height: int
    caption: str = ""
    alt: str = ""


@dataclass
class ShotSection:
    anchor: str                                  # the section's id, e.g. "shot-3"
    title: str
    figures: Sequence[tuple[str, str]]           # (name, value), shown as given
    strips: Sequence[tuple[str, Sequence[Picture]]] = field(default_factory=list)   # a labelled row of pictures
    flipbook: Picture | None = None


_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0 16px 40px;color:#222;background:#fafafa}
h1{font-size:20px;margin:16px 0 4px} p.note{margin:4px 0 12px;color:#555;max-width:70em}
nav{margin:0 0 12px} nav a{margin-right:6px}
section{display:flex;gap:16px;align-items:flex-start;background:#fff;border:1px solid #ddd;border-radius:6px;
 padding:10px;margin:0 0 12px}
section h2{font-size:16px;margin:0 0 6px} .info{flex:0 0 260px} .info dl{margin:0 0 8px}
.info dt{float:left;clear:left;width:80px;color:#666} .info dd{margin:0 0 2px 84px}
.info img{max-width:100%;height:auto}
.strips{flex:1;min-width:0} .strip{display:flex;flex-wrap:wrap;align-items:flex-start;gap:4px;margin:0 0 6px}
.strip>span{flex:0 0 64px;color:#666;padding-top:4px} figure{margin:0} figcaption{font-size:11px;color:#666}
img{display:block;background:#eee}
"""


def render_page(title: str, note: str, sections: Sequence[ShotSection]) -> str:
    """The whole page: a title, a note saying what it shows, a jump list, then one section per shot."""
    nav = " ".join(f'<a href="#{escape(s.anchor)}">{escape(s.anchor.removeprefix("shot-"))}</a>' for s in sections)
    body = "\n".join(_section(s) for s in sections)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{_STYLE}</style></head>\n<body>\n"
            f"<h1>{escape(title)}</h1>\n<p class=\"note\">{escape(note)}</p>\n"
            f"<nav>shots: {nav}</nav>\n{body}\n</body></html>\n")


def _section(s: ShotSection) -> str:
    figures = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in s.figures)
    flip = f"<figure>{_img(s.flipbook)}<figcaption>flip-book</figcaption></figure>" if s.flipbook else ""
    strips = "".join(f'<div class="strip"><span>{escape(name)}</span>'
                     + "".join(f"<figure>{_img(p)}<figcaption>{escape(p.caption)}</figcaption></figure>"
                               for p in pictures) + "</div>"
                     for name, pictures in s.strips)
    return (f'<section id="{escape(s.anchor)}"><div class="info"><h2>{escape(s.title)}</h2><dl>{figures}</dl>'
            f'{flip}</div><div class="strips">{strips}</div></section>')


def _img(p: Picture) -> str:
    return (f'<img src="{escape(p.src)}" width="{p.width}" height="{p.height}" loading="lazy" decoding="async" '
            f'alt="{escape(p.alt or p.caption)}">')
