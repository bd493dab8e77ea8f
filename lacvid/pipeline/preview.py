"""``preview``: one contact sheet of a run, per shot its keys, a sample of its drawings, lacvid's
frames for them (doubtful areas outlined and hatched: ``lacvid.compose.doubt``) and the shot's
palette: what an animator checks before rendering an episode. Per shot it also sums up where
lacvid guessed: the doubtful share of its frames and the worst frame (``pipeline.doubt``).

It colours only the sampled frames (the shots' propagation runs whole, as in a render, and the
networks as a render runs them: on every frame, or on drawings with flat keys for the sampled frames
that need them; all of it stays in the cache), so a preview costs a fraction of a render, and a
preview after a render (or a render after a preview) reuses everything the other computed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lacvid.compose.doubt import ShotDoubt, mark_doubt
from lacvid.compose.flat import palette_from_keys
from lacvid.media import probe
from lacvid.media.contact_sheet import Row, contact_sheet, palette_strip, write_sheet
from lacvid.media.pipes import refuse_stdio_folder
from lacvid.pipeline.compose import KeyRegions
from lacvid.pipeline.doubt import shot_doubts
from lacvid.pipeline.executors import LocalExecutor, ShotExecutor, ShotTask
from lacvid.pipeline.options import ColorizeOptions
from lacvid.pipeline.session import RunSession, open_session, protected_paths
from lacvid.progress import Progress, ProgressEvent, as_progress
from lacvid.shots.detect import Shot
from lacvid.util.outputs import check_not_an_input, check_output_path

TILE_HEIGHT = 160


@dataclass
class ShotPreview:
    number: int                     # 1-based, as lacvid shots lists it
    shot: Shot
    keys: dict[int, np.ndarray]     # frame -> key as painted (H, W, 3)
    drawings: dict[int, np.ndarray]  # sampled frame -> its drawing or line art
    frames: dict[int, np.ndarray]   # sampled frame -> lacvid's finished frame (H, W, 3)
    palette: np.ndarray             # (N, 3) the keys' colours
    doubts: dict[int, np.ndarray] = field(default_factory=dict)  # sampled frame -> its doubt (H, W) uint8
    doubt: ShotDoubt | None = None  # the shot's doubt figures, over all its frames


@dataclass
class PreviewResult:
    sheet: Path
    shots: list[ShotPreview]
    seconds: float
    pages: list[Path] = field(default_factory=list)   # every sheet page written, ``sheet`` first
    html: Path | None = None                           # the review folder (``--html``), if asked for


def sample_frames(shot: Shot, keys: list[int], n: int) -> list[int]:
    """``n`` frames spread over the shot, keys left out (they are shown as painted)."""
    inner = [t for t in range(shot.start, shot.stop) if t not in keys]
    if len(inner) <= n:
        return inner
    return sorted({inner[round(j * (len(inner) - 1) / max(n - 1, 1))] for j in range(n)})


def preview(input_path: Path | str, keys_dir: Path | str, sheet: Path | str,
            options: ColorizeOptions = ColorizeOptions(), per_shot: int = 4,
            progress: Progress | Callable[[ProgressEvent], Any] | None = None,
            executor: ShotExecutor | None = None, html: Path | str | None = None) -> PreviewResult:
    """Colour ``per_shot`` frames of every shot (or of ``options.shot``/``options.frames``) and write the sheet
    (split into pages, ``sheet_pages``) and, given ``html``, the review page there; ``progress`` as for
    ``colorize``."""
    from lacvid.pipeline.review_page import check_review_output, write_review_page

    started = time.perf_counter()
    progress = as_progress(progress)
    input_path, keys_dir, sheet = Path(input_path), Path(keys_dir), Path(sheet)
    executor = executor or LocalExecutor()
    refuse_stdio_folder(keys_dir, "--keys")
    refuse_stdio_folder(sheet, "-o", "a PNG contact sheet")
    protected = protected_paths(input_path, keys_dir, options)
    check_not_an_input(sheet, protected)
    check_output_path(sheet, options.overwrite)
    if html is not None:
        html = Path(html)
        refuse_stdio_folder(html, "--html", "a review folder")
        check_review_output(html, options.overwrite, protected, [sheet])
    info = probe(input_path)
    with open_session(input_path, keys_dir, info, options, executor, progress) as run:
        selection, chosen = run.choose(options)
        pages = sheet_pages(sheet, len(chosen))
        _check_pages(pages, html, protected, options.overwrite)
        key_frames = [k.index for k in run.keys]
        tasks = [ShotTask(s, range(s.start, s.stop)) for s in chosen]
        samples = {s: [t for t in sample_frames(s, key_frames, per_shot) if selection is None or t in selection]
                   for s in chosen}
        executor.start(run.plan, run.cache, tasks, progress, run.backend)
        task = progress.task("previewing", total=sum(len(v) for v in samples.values()))
        previews = []
        for s in chosen:
            previews.append(_shot_preview(run, executor, ShotTask(s, range(s.start, s.stop)), samples[s], task))
        task.close()
        _add_doubt(run, previews)
    write_sheet_pages(pages, previews, options.overwrite)
    if html is not None:
        write_review_page(html, previews, title=f"lacvid preview: {input_path.name}", overwrite=options.overwrite)
    return PreviewResult(sheet, previews, time.perf_counter() - started, pages, html)


def _shot_preview(run: RunSession, executor: ShotExecutor, task: ShotTask, sample: list[int], bar) -> ShotPreview:
    shot = task.shot
    layers = executor.layers(run.plan, task)
    frames, doubts = {}, {}
    for t in sample:
        finished = layers.layers(t)
        frames[t] = finished.flatten()
        if finished.doubt is not None:
            doubts[t] = finished.doubt
        bar.advance()
    keys = {k.index: k.load(run.plan.full, backdrop=run.prep.frames.get("lines_full", k.index))
            for k in run.plan.shot_keys(shot)}
    drawings = {t: run.prep.drawn.get("rgb", t) if run.prep.has_drawing(t) else run.prep.frames.get("lines_full", t)
                for t in sample}
    regions = KeyRegions(run.prep)  # the keys' regions as the render makes them (pipeline.compose.flat_palette)
    palette = palette_from_keys(list(keys.values()), [run.prep.frames.get("lines_full", i) for i in keys],
                                labels=[regions[i] for i in keys])
    return ShotPreview(run.shots.index(shot) + 1, shot, keys, drawings, frames, palette, doubts)


def _add_doubt(run: RunSession, previews: list[ShotPreview]) -> None:
    """Each shot's doubt figures, over every frame of it (``pipeline.doubt``: no network runs)."""
    task = run.progress.task("measuring doubt", total=sum(len(p.shot) for p in previews))
    try:
        for p, d in zip(previews, shot_doubts(run, [p.shot for p in previews], task)):
            p.doubt = d.figures
    finally:
        task.close()


def doubt_figures(p: ShotPreview) -> dict:
    """One shot's row of ``lacvid preview``'s table and ``--json``."""
    return {"shot": p.number, "start": p.shot.start, "stop": p.shot.stop, **(p.doubt.figures() if p.doubt else {})}


def doubt_table(previews: list[ShotPreview]) -> str:
    """Per shot: its frames, the doubtful share of its painted area, its worst frame and that frame's share."""
    head = ["shot", "frames", "doubtful", "worst frame", "its doubtful"]
    rows = []
    for p in previews:
        f = doubt_figures(p)
        worst = f.get("worst_frame")
        rows.append([str(p.number), f"{p.shot.start}-{p.shot.stop - 1}", f"{f.get('doubtful', 0):.1%}",
                     "-" if worst is None else str(worst), "-" if worst is None else f"{f['worst_doubtful']:.1%}"])
    widths = [max(len(h), *(len(r[j]) for r in rows)) for j, h in enumerate(head)]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in [head, *rows])


def _marked(p: ShotPreview, t: int) -> np.ndarray:
    """lacvid's frame ``t`` with its doubtful areas outlined and hatched (the paint stays visible)."""
    return mark_doubt(p.frames[t], p.doubts[t]) if t in p.doubts else p.frames[t]


def _lacvid_label(p: ShotPreview) -> str:
    """The label of lacvid's frames: the shot's doubtful share and worst frame (short: labels are narrow)."""
    if p.doubt is None:
        return "lacvid"
    if p.doubt.worst_frame is None:
        return "lacvid, no doubt"
    return f"lacvid {p.doubt.doubtful:.0%}, worst {p.doubt.worst_frame}"


def preview_rows(previews: list[ShotPreview]) -> list[Row]:
    """Per shot: a heading, its keys, the sampled drawings, lacvid's frames (doubt hatched), the palette."""
    rows: list[Row] = []
    for p in previews:
        frames = sorted(p.frames)
        rows.append((f"shot {p.number}: {p.shot.start}-{p.shot.stop - 1}", []))
        rows.append(("keys " + " ".join(str(k) for k in sorted(p.keys)), [p.keys[k] for k in sorted(p.keys)]))
        if frames:
            rows.append(("drawing " + " ".join(str(t) for t in frames), [p.drawings[t] for t in frames]))
            rows.append((_lacvid_label(p), [_marked(p, t) for t in frames]))
        rows.append(("palette", [palette_strip(p.palette, TILE_HEIGHT, TILE_HEIGHT // 4)]))
    return rows


SHOTS_PER_PAGE = 20   # a sheet page: about 14,000 px tall at most, which viewers and PNG tools open


def sheet_pages(sheet: Path, shots: int) -> list[Path]:
    """Where the sheet's pages go: ``SHEET.png`` holds the first ``SHOTS_PER_PAGE`` shots,
    ``SHEET-2.png`` the next, and so on, rather than one picture 200,000 px tall."""
    count = max(1, -(-shots // SHOTS_PER_PAGE))
    return [sheet] + [sheet.with_name(f"{sheet.stem}-{i}{sheet.suffix}") for i in range(2, count + 1)]


def _check_pages(pages: list[Path], html: Path | None, protected: dict[str, Path], overwrite: bool) -> None:
    """The pages after the first may be written (the first was checked before any work)."""
    from lacvid.pipeline.review_page import check_apart

    for page in pages[1:]:
        check_not_an_input(page, protected)
        check_output_path(page, overwrite)
    if html is not None:
        check_apart(html, pages)


def write_sheet_pages(pages: list[Path], previews: list[ShotPreview], overwrite: bool) -> None:
    """Each page's shots as one contact sheet; with ``overwrite``, the pages an earlier, longer sheet
    of the same name left beyond these are removed (lacvid wrote them: ``SHEET-N.png``)."""
    for i, page in enumerate(pages):
        shots = previews[i * SHOTS_PER_PAGE:(i + 1) * SHOTS_PER_PAGE]
        write_sheet(page, contact_sheet(preview_rows(shots), TILE_HEIGHT), overwrite=overwrite)
    first = pages[0]
    n = len(pages) + 1
    while overwrite and (stale := first.with_name(f"{first.stem}-{n}{first.suffix}")).is_file():
        stale.unlink()
        n += 1


def shot_figures(p: ShotPreview) -> list[tuple[str, str]]:
    """A shot's figures as (name, value), what the review page shows beside its pictures: one place,
    so a figure added to ``ShotPreview`` reaches the page by one line here."""
    return [("frames", f"{p.shot.start}-{p.shot.stop - 1} ({p.shot.stop - p.shot.start})"),
            ("keys", ", ".join(str(t) for t in sorted(p.keys)) or "none"),
            ("sampled", ", ".join(str(t) for t in sorted(p.frames)) or "none"),
            ("palette", f"{len(p.palette)} colours")]
