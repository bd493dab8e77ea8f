"""``lacvid export``: a checkpoint's networks as ONNX, for ONNX Runtime or other engines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lacvid.cli.app import app
from lacvid.cli.common import Debug, Overwrite, Quiet, Threads, make_progress, use_threads


@app.command("export")
def export_cmd(
    checkpoint: Annotated[Path, typer.Argument(help="A checkpoint written by 'lacvid train' (.pt).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="A folder to create (color.onnx, color_encode.onnx, "
                                                                 "color_frame.onnx, temporal.onnx, model.json), or "
                                                                 "NAME.onnx for the colour net alone (+ "
                                                                 "NAME.temporal.onnx).")],
    refs: Annotated[int, typer.Option("--refs", "-k", min=1, help="References K in the example the graph is traced "
                                                                  "with; K stays dynamic in the graph.")] = 2,
    threads: Threads = None,
    overwrite: Overwrite = False,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Export the colour and temporal networks as ONNX with dynamic batch, K, height and width."""
    import tempfile

    from lacvid.models.checkpoint import load_checkpoint
    from lacvid.models.export import export_color_net, export_model, export_temporal_net
    from lacvid.util.outputs import atomic_output, check_output_path

    progress = make_progress(quiet, debug)
    use_threads(threads, "torch")
    check_output_path(output, overwrite, inputs={"checkpoint": checkpoint})
    ckpt = load_checkpoint(checkpoint)  # CheckpointError (exit 2) on a bad file
    progress.log(f"exporting {checkpoint} (colour width {ckpt.config.color.width}"
                 f"{', with temporal net' if ckpt.temporal_net is not None else ', no temporal net'})")
    if output.suffix.lower() != ".onnx":
        with atomic_output(output, overwrite=overwrite, directory=True) as tmp:
            export_model(ckpt.config, ckpt.color_net, ckpt.temporal_net, tmp, k=refs)
        typer.echo(str(output))
        return
    written = []
    with atomic_output(output, overwrite=overwrite) as tmp, tempfile.TemporaryDirectory(dir=output.parent) as work:
        export_color_net(ckpt.color_net, work, k=refs, split=False)
        Path(work, "color.onnx").replace(tmp)
    written.append(output)
    if ckpt.temporal_net is not None:
        temporal = output.with_name(f"{output.stem}.temporal.onnx")
        with atomic_output(temporal, overwrite=overwrite) as tmp:
            export_temporal_net(ckpt.temporal_net, tmp)
        written.append(temporal)
    for path in written:
        typer.echo(str(path))
