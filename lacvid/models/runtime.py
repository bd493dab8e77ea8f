"""Where colorize runs its networks: eager PyTorch, or ONNX Runtime on the CPU.

A backend owns the checkpoint's colour and temporal networks and runs them in the three
calls the pipeline makes: ``encode_references`` once per reference set of a shot, ``colour``
per frame with that handle, ``temporal`` per three-frame window.

Arrays in and out are numpy float32 in [0, 1], in the layouts of docs/ARCHITECTURE.md: the
passes of colorize never build tensors, and each backend converts at its own boundary (the torch
backend to tensors on its device, ONNX Runtime takes numpy as it is). The handle
``encode_references`` returns is opaque: torch ``References`` for the torch backend, the ORT
output arrays for the ONNX one, kept as they are between frames.

A model is loaded once (``load_model``: on the CPU, where the checkpoint's own networks stay);
each backend makes the one copy it runs (spectral norm baked in) on its device.

``make_backend(..., backend="auto")`` picks ONNX Runtime on the CPU when it imports (and the attention
matrix is small enough for it to be the faster: ``attention_bytes``). Measured
on 2 cores (AMD EPYC, torch 2.13, ORT 1.32), CPU model (width 8), K = 2, colour + temporal net
per frame, best of 15 interleaved rounds: 256 x 256: torch fp32 132 ms, torch bf16 autocast
103-112 ms, ORT 97 ms; 256 x 456: 285, 248, 198 ms, i.e. ORT is ~1.4x eager fp32 and
~1.1-1.25x bf16 autocast (whose error ORT does not add). The exported graphs are written once
per checkpoint into the cache (``OnnxBackend``); the bundled model's ship with lacvid
(``lacvid/weights/default-onnx/``, checked against ``default.pt``'s digest: ``bundled_graphs``), so
its first run exports nothing.

torch is imported only where a backend runs it (``TorchBackend``, an export): the ONNX Runtime path
of the bundled model never imports it (seconds of every run's start). ``load_model`` reads a
checkpoint's networks on first use of ``LoadedModel.checkpoint``.
"""

from __future__ import annotations

import json
import math
import os
import threading
import warnings
from contextlib import nullcontext
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from lacvid._version import __version__
from lacvid.errors import CheckpointError, InputError, disk_full, is_disk_full
from lacvid.models.config import BACKENDS, COLOR_INPUTS, DEFAULT_MODEL, REF_NAMES
from lacvid.progress import NULL_PROGRESS, Progress, warn
from lacvid.util.cache_home import default_cache_dir
from lacvid.util.cpus import load_library, thread_limit
from lacvid.util.hashing import file_digest
from lacvid.util.outputs import atomic_output

if TYPE_CHECKING:
    import torch

    from lacvid.models.checkpoint import Checkpoint
    from lacvid.models.color import References

# Above this whole attention matrix "auto" runs torch on the CPU too, its fused kernel being faster (attention_bytes).
ONNX_ATTENTION_LIMIT = int(1.5e9)
_EXPORT_FORMAT = 3  # 2: the reference keys' graph input is named attn_keys; 3: attention in query slices
_MANIFEST = "export.json"


def _torch():
    """torch, imported where a backend first runs it, and told ``--threads`` then (``load_library``)."""
    return load_library("torch")


def default_model_path() -> Path:
    """The model bundled with lacvid (``lacvid/weights/default.pt``)."""
    return Path(str(resources.files("lacvid") / "weights" / "default.pt"))


def bundled_graphs_dir() -> Path:
    """Where the bundled model's exported graphs ship (``lacvid/weights/default-onnx/``)."""
    return Path(str(resources.files("lacvid") / "weights" / "default-onnx"))


class LoadedModel:
    """A checkpoint found once: the file, its digest, what it was trained at and whether it holds a
    temporal net; its networks (``checkpoint``, on the CPU) are read on first use, so a run that
    needs only shipped graphs never imports torch. ``graphs``: the checkpoint's shipped ONNX graphs
    (the bundled model's, verified by ``bundled_graphs``), else None (exported into the cache)."""

    def __init__(self, path: Path, digest: str, trained_size: int | None, has_temporal: bool,
                 graphs: Path | None = None, checkpoint: Checkpoint | None = None) -> None:
        self.path = path
        self.digest = digest              # content hash: keys every cache of its outputs and exported graphs
        self.trained_size = trained_size  # the working size (short side, px) it was trained at, when recorded
        self.has_temporal = has_temporal
        self.graphs = graphs
        self._checkpoint = checkpoint
        self._lock = threading.Lock()

    @property
    def checkpoint(self) -> Checkpoint:
        """The checkpoint's networks, read (with torch) the first time they are asked for."""
        with self._lock:
            if self._checkpoint is None:
                from lacvid.models.checkpoint import load_checkpoint

                self._checkpoint = load_checkpoint(self.path)
            return self._checkpoint

    def __repr__(self) -> str:
        return f"LoadedModel({str(self.path)!r}, digest={self.digest!r}, trained_size={self.trained_size})"


def load_model(model: str | os.PathLike = DEFAULT_MODEL) -> LoadedModel:
    """Find ``model`` (a checkpoint path, or ``"default"`` for the bundled one) and read what a run needs to
    know of it: from the shipped graphs' manifest for the bundled model (no torch), else from the file."""
    path = default_model_path() if str(model) == DEFAULT_MODEL else Path(model)
    if path.is_dir():  # a run folder: it exists, so "does not exist" would mislead
        inside = sorted(path.glob("*.pt"), key=lambda p: p.name != "model.pt")  # lacvid train's final model first
        hint = (f"pass the checkpoint file in it, e.g. --model {inside[0]}" if inside
                else "pass a checkpoint file (.pt) written by lacvid train")
        raise CheckpointError(f"model {path} is a folder, not a checkpoint file; {hint}")
    if not path.is_file():
        if str(model) == DEFAULT_MODEL:
            raise CheckpointError(f"the bundled default model {path} is missing from this install; reinstall "
                                  "lacvid or pass --model PATH")
        raise CheckpointError(f"model {path} does not exist; pass --model PATH to a lacvid checkpoint")
    digest = file_digest(path)
    shipped = bundled_graphs(digest)
    if shipped is not None:
        info = json.loads((shipped / _MANIFEST).read_text())["model"]
        return LoadedModel(path, digest, info["trained_size"], info["has_temporal"], graphs=shipped)
    from lacvid.models.checkpoint import load_checkpoint

    ckpt = load_checkpoint(path)
    return LoadedModel(path, digest, _trained_size(ckpt), ckpt.temporal_net is not None, checkpoint=ckpt)


def _trained_size(ckpt: Checkpoint) -> int | None:
    """The working size ``ckpt`` was trained at (``colorize --size``'s default), None where unrecorded."""
    trained = (ckpt.meta or {}).get("work_size")  # the checkpoint's key, kept for files already written
    return int(trained) if trained else None


def bundled_graphs(model_digest: str, folder: Path | None = None) -> Path | None:
    """The shipped graphs folder when it holds an intact export (every file's size and digest as its
    manifest records them) of the checkpoint whose digest is ``model_digest``; else None.

    Checked on every load, so a replaced ``default.pt`` or a damaged graph is never run: that
    checkpoint is exported into the cache instead, as any other. ``write_bundled_graphs`` makes it.
    """
    folder = bundled_graphs_dir() if folder is None else folder
    if not _valid_export(folder):
        return None
    try:
        manifest = json.loads((folder / _MANIFEST).read_text())
        if manifest.get("checkpoint") != model_digest or not isinstance(manifest.get("model"), dict):
            return None
    except (OSError, ValueError):
        return None
    return folder


def write_bundled_graphs(model_path: str | os.PathLike, folder: str | os.PathLike) -> Path:
    """Export ``model_path``'s graphs into ``folder`` (replaced) as ``bundled_graphs`` reads them: the
    export's manifest plus the checkpoint's digest and what a run needs to know of it without torch
    (``scripts/ship_default_onnx.py`` runs it for the bundled model)."""
    from lacvid.models.checkpoint import load_checkpoint

    path, folder = Path(model_path), Path(folder)
    ckpt = load_checkpoint(path)
    with atomic_output(folder, overwrite=True, directory=True) as tmp:
        _write_export(ckpt, tmp)
        manifest = json.loads((tmp / _MANIFEST).read_text())
        manifest["checkpoint"] = file_digest(path)
        manifest["model"] = {"trained_size": _trained_size(ckpt), "has_temporal": ckpt.temporal_net is not None}
        (tmp / _MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return folder


class NetworkBackend(Protocol):
    """The colour and temporal networks of one checkpoint, ready to run (see the module doc)."""

    name: str  # "torch" or "onnx": part of the run cache key, as their outputs differ in the last bits
    device: str  # where the networks run: "cpu", "cuda:0" (a string, so ONNX Runtime needs no torch)
    has_temporal: bool  # False when the checkpoint holds no temporal network

    def encode_references(self, ref_lines: np.ndarray, ref_colors: np.ndarray, ref_dists: np.ndarray) -> Any:
        """(1, K, 1 | 3 | 1, h, w) references -> an opaque handle for ``color``."""
        ...

    def color(self, target_lines: np.ndarray, target_dist: np.ndarray, refs: Any) -> np.ndarray:
        """(B, 1, h, w) line art and distance fields + a handle (of one reference set, shared by
        the batch) -> color (B, 3, h, w)."""
        ...

    def temporal(self, frames: np.ndarray) -> np.ndarray:
        """(B, 3, 4, h, w) RGB + line art of frames t-1, t, t+1 -> refined frames t (B, 3, h, w)."""
        ...


class TorchBackend:
    """Eager PyTorch: bf16 autocast on CUDA, float32 elsewhere.

    Runs ``inference_copy``s (spectral norm baked into plain weights): the same function as
    the checkpoint's eval-mode networks without recomputing ``weight / sigma`` every call, and
    the same graph the ONNX backend exports.
    """

    name = "torch"

    def __init__(self, ckpt: Checkpoint, device: str | torch.device = "cpu") -> None:
        from lacvid.models.blocks import inference_copy

        torch = self._torch = _torch()
        self.torch_device = torch.device(device)
        self.device = str(self.torch_device)
        self.color_net = inference_copy(ckpt.color_net).to(self.torch_device)
        self.temporal_net = (inference_copy(ckpt.temporal_net).to(self.torch_device)
                             if ckpt.temporal_net is not None else None)
        self.has_temporal = self.temporal_net is not None
        # bf16 on CUDA: ~2x faster, and color is stored as uint8, far coarser than bf16's error.
        self._autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if self.torch_device.type == "cuda"
                          else nullcontext())

    def _tensor(self, x: np.ndarray) -> torch.Tensor:
        return self._torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(self.torch_device)

    @staticmethod
    def _array(t: torch.Tensor) -> np.ndarray:
        return t.float().cpu().numpy()

    def encode_references(self, ref_lines: np.ndarray, ref_colors: np.ndarray, ref_dists: np.ndarray) -> References:
        with self._torch.inference_mode(), self._autocast:
            return self.color_net.encode_references(self._tensor(ref_lines), self._tensor(ref_colors),
                                                    self._tensor(ref_dists))

    def color(self, target_lines: np.ndarray, target_dist: np.ndarray, refs: References) -> np.ndarray:
        from lacvid.models.color import References

        batch = target_lines.shape[0]
        with self._torch.inference_mode():
            if refs.style.shape[0] != batch:  # one reference set for a batch of targets: shared, not copied
                refs = References(*(r.expand(batch, *r.shape[1:]) for r in refs))
            with self._autocast:
                y, _, _ = self.color_net.forward_with_references(self._tensor(target_lines),
                                                                 self._tensor(target_dist), refs)  # (1, 3, h, w)
            return self._array(y)

    def temporal(self, frames: np.ndarray) -> np.ndarray:
        if self.temporal_net is None:
            raise ValueError("this checkpoint holds no temporal network (check has_temporal first)")
        with self._torch.inference_mode(), self._autocast:
            return self._array(self.temporal_net(self._tensor(frames)))  # (1, 3, h, w)


def attention_bytes(work_size: tuple[int, int], k: int) -> int:
    """Bytes of the whole float32 (h/4 * w/4) x (K * h/4 * w/4) attention matrix at working size (h, w).

    The exported colour net computes softmax(QK^T)V explicitly (ONNX has no fused attention operator
    that ONNX Runtime's CPU provider runs here), in ``EXPORT_QUERY_CHUNKS`` slices of the query
    positions one after another (``models.color.attention``), so ORT holds one slice's rows at a
    time. Whole, the matrix grows with the fourth power of the working size (640 MB at 256 x 456,
    K = 3; 10 GB at 512 x 912), and when the graph held it whole (measured on 2 cores, ORT 1.32,
    default model, 256 x 456, K = 3) a colour frame peaked at 2.7 GB resident and its first call
    took 6.1 s; in 32 slices it peaks at 250 MB, the first call takes 0.21 s and a warm one 122 ms
    (was 179), with identical output. The work still grows with the whole matrix, where torch's
    fused kernel does better: colour + temporal per frame, ORT against torch, 227 vs 227 ms at
    256 x 456 (0.64 GB whole), 464 vs 473 at 320 x 570 (1.6 GB), 891 vs 797 at 384 x 684 (3.2 GB),
    2700 vs 1984 at 512 x 912 (10 GB): hence ``ONNX_ATTENTION_LIMIT``.
    """
    h, w = work_size
    n = math.ceil(h / 4) * math.ceil(w / 4)
    return 4 * n * k * n


def _ort():
    import onnxruntime

    return onnxruntime


_SHARED_ARENA = threading.Lock()
_shared_arena_made = False


def _shared_cpu_arena() -> None:
    """Register, once per process, the CPU arena every lacvid ORT session allocates from
    (``session.use_env_allocators``), growing by exactly what a run asks for.

    lacvid runs its networks one call at a time (``pipeline.networks``), so one arena serves them
    all: it holds the largest run's tensors, not each session's own arena side by side, and a run
    that needs a little more than the arena holds adds that, not the next power of two. Measured
    (``benchmarks/memory.py``, working size 128, shaded keys: the networks on every frame): a
    300-frame shot's peak 513, 493 -> 490, 481 MB (30 frames: 480, 481 -> 479, 482); the colour
    net at 512 px within 3% of its time."""
    global _shared_arena_made
    with _SHARED_ARENA:
        if _shared_arena_made:
            return
        ort = _ort()
        cfg = ort.OrtArenaCfg({"arena_extend_strategy": 1})  # 1: kSameAsRequested
        info = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
        ort.create_and_register_allocator(info, cfg)
        _shared_arena_made = True


def onnx_export_dir(model_digest: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """The cache folder of one checkpoint's exported graphs.

    Keyed by the checkpoint file's content, lacvid's version (the network code), torch's (the
    exporter) and onnxruntime's (what must load the graph), so any of them changing exports anew.
    """
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    versions = f"lacvid{__version__}-torch{_torch().__version__}-ort{_ort().__version__}"
    return root / "onnx" / f"{model_digest}-{versions}".replace("+", "_")


def _valid_export(folder: Path) -> bool:
    """True when the manifest exists and every file it lists has its recorded size and digest."""
    try:
        manifest = json.loads((folder / _MANIFEST).read_text())
        files = manifest["files"]
        if manifest.get("format") != _EXPORT_FORMAT or not files:
            return False
        for name, meta in files.items():
            path = folder / name
            if path.stat().st_size != meta["size"] or file_digest(path) != meta["digest"]:
                return False
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return True


def _write_export(ckpt: Checkpoint, folder: Path) -> None:
    """Export the split colour net and the temporal net into ``folder``, then the manifest (last)."""
    from lacvid.models.blocks import inference_copy
    from lacvid.models.export import export_color_net, export_temporal_net

    torch = _torch()
    color = inference_copy(ckpt.color_net).cpu()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # exporter chatter; the graphs are parity-tested
        export_color_net(color, folder, k=2)
        if ckpt.temporal_net is not None:
            export_temporal_net(inference_copy(ckpt.temporal_net).cpu(), folder / "temporal.onnx")
    (folder / "color.onnx").unlink()  # the unsplit net: the pipeline runs the two halves
    files = {p.name: {"size": p.stat().st_size, "digest": file_digest(p)} for p in sorted(folder.glob("*.onnx"))}
    manifest = {"format": _EXPORT_FORMAT, "lacvid": __version__, "torch": torch.__version__,
                "onnxruntime": _ort().__version__, "files": files}
    (folder / _MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


def ensure_onnx_export(ckpt: Checkpoint, model_digest: str, cache_dir: str | os.PathLike | None = None,
                       progress: Progress = NULL_PROGRESS) -> Path:
    """The folder of ``ckpt``'s exported graphs, exporting them first if not cached intact.

    Written under a temporary name and renamed into place when complete (``atomic_output``),
    and checked against its manifest (sizes and digests) on every use, so an interrupted or
    damaged export is never loaded: it is exported again. Two runs exporting at once each
    publish a complete folder; the last rename wins.
    """
    folder = onnx_export_dir(model_digest, cache_dir)
    if _valid_export(folder):
        return folder
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the cache folder {folder.parent} ({exc.strerror}); pass --cache DIR "
                         "with a writable folder") from exc
    progress.log(f"exporting the model to ONNX once, into {folder}")
    try:
        with atomic_output(folder, overwrite=True, directory=True) as tmp:
            _write_export(ckpt, tmp)
    except OSError as exc:  # the cache's disk, not lacvid: the temporary folder is already removed
        if is_disk_full(exc):
            raise disk_full(folder, export_bytes(ckpt), "pass --cache DIR on another disk") from exc
        raise InputError(f"cannot write the ONNX export {folder} ({exc.strerror or exc}); pass --cache DIR with "
                         "a writable folder, or --backend torch") from exc
    return folder


def export_bytes(ckpt: Checkpoint) -> int:
    """About what the exported graphs take on disk: the colour net's weights twice (the whole net,
    exported to be checked, and its two halves), the temporal net's once, float32."""
    def weights(net: Any) -> int:  # a torch module or None
        return 0 if net is None else 4 * sum(t.numel() for t in net.state_dict().values())
    return 2 * weights(ckpt.color_net) + weights(ckpt.temporal_net) + 1_000_000


class OnnxBackend:
    """ONNX Runtime on the CPU over the checkpoint's exported graphs: the shipped ones of the bundled
    model (``model.graphs``), else exported once into the cache (which needs torch).

    ``threads``: ORT's intra-op threads, default ``thread_limit()`` (``--threads``: the CPUs this
    process may use). The graphs are float32 only; results match ``TorchBackend`` on the CPU to ~1e-5.
    """

    name = "onnx"

    def __init__(self, model: LoadedModel, cache_dir: str | os.PathLike | None = None, *, threads: int | None = None,
                 progress: Progress = NULL_PROGRESS) -> None:
        ort = _ort()
        self.device = "cpu"
        self.has_temporal = model.has_temporal
        self.folder = model.graphs or ensure_onnx_export(model.checkpoint, model.digest, cache_dir, progress)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or thread_limit()
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # ORT's worker threads otherwise busy-wait after each run, taking the cores from the
        # threads that compose and write frames between network calls. Measured on 2 cores,
        # 256 x 256: spinning off made ORT itself faster too (colour + temporal 97 vs 118-125 ms).
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # ORT's memory pattern plans one block for all of a run's tensors per input shape, held beside
        # the arena. Off, measured on 2 cores at 256 x 456 (default model, K = 3): the colour frame's
        # peak 251 -> 203 MB, the temporal net's 296 -> 226 MB, each within 2% of its time.
        opts.enable_mem_pattern = False
        _shared_cpu_arena()
        opts.add_session_config_entry("session.use_env_allocators", "1")

        self._options = opts
        self._sessions: dict[str, Any] = {}
        self._opening = threading.Lock()

    def _session(self, name: str) -> Any:
        """The ORT session of graph ``name``, made when first run: a drawing whose networks run on demand
        (``pipeline.networks``) often never runs them, and each session takes ~0.1 s to make."""
        with self._opening:
            if name not in self._sessions:
                self._sessions[name] = _ort().InferenceSession(str(self.folder / name), self._options,
                                                               providers=["CPUExecutionProvider"])
            return self._sessions[name]

    def encode_references(self, ref_lines: np.ndarray, ref_colors: np.ndarray,
                          ref_dists: np.ndarray) -> list[np.ndarray]:
        feed = dict(zip(COLOR_INPUTS[2:], (_f32(ref_lines), _f32(ref_colors), _f32(ref_dists))))
        return self._session("color_encode.onnx").run(REF_NAMES, feed)  # color_feats, attn_keys, mask_ref, style

    def color(self, target_lines: np.ndarray, target_dist: np.ndarray, refs: list[np.ndarray]) -> np.ndarray:
        batch = target_lines.shape[0]
        if refs[0].shape[0] != batch:  # one reference set for a batch of targets
            refs = [_f32(np.broadcast_to(r, (batch, *r.shape[1:]))) for r in refs]
        feed = {COLOR_INPUTS[0]: _f32(target_lines), COLOR_INPUTS[1]: _f32(target_dist),
                **dict(zip(REF_NAMES, refs))}
        (y,) = self._session("color_frame.onnx").run(["y"], feed)
        return y  # (1, 3, h, w)

    def temporal(self, frames: np.ndarray) -> np.ndarray:
        if not self.has_temporal:
            raise ValueError("this checkpoint holds no temporal network (check has_temporal first)")
        (y,) = self._session("temporal.onnx").run(["y"], {"frames": _f32(frames)})
        return y  # (1, 3, h, w)


def _f32(x: np.ndarray) -> np.ndarray:
    """A contiguous float32 array, the array itself when it already is one."""
    return np.ascontiguousarray(x, dtype=np.float32)


def make_backend(model: LoadedModel, device: str = "cpu", backend: str = "auto",
                 cache_dir: str | os.PathLike | None = None, *, work_size: tuple[int, int] | None = None,
                 max_refs: int | None = None, threads: int | None = None,
                 progress: Progress = NULL_PROGRESS) -> NetworkBackend:
    """The backend to run ``model`` with: ``auto``, ``torch`` or ``onnx``.

    ``auto`` = ONNX Runtime on the CPU when onnxruntime imports and the attention matrix at
    ``work_size`` with ``max_refs`` references stays under ``ONNX_ATTENTION_LIMIT``
    (``attention_bytes``), else torch; always torch on CUDA (bf16 there, and ORT's CPU provider
    would leave the GPU idle). ``onnx`` asked for explicitly is honoured above that bound,
    with a warning through ``progress``.
    """
    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}; use auto, torch or onnx")
    device = str(device)
    if backend == "torch":
        return TorchBackend(model.checkpoint, device)
    if device.split(":")[0] != "cpu":
        if backend == "onnx":
            raise InputError(f"--backend onnx runs on the CPU only, but device {device} was asked for; use "
                             "--device cpu or --backend torch")
        return TorchBackend(model.checkpoint, device)
    try:
        _ort()
        if model.graphs is None:
            import onnx  # noqa: F401  torch's exporter needs it to write the graphs
    except ImportError as exc:
        if backend == "onnx":
            raise InputError("--backend onnx needs the onnxruntime and onnx packages; pip install onnxruntime "
                             "onnx, or use --backend torch") from exc
        return TorchBackend(model.checkpoint, device)
    if work_size is not None and max_refs is not None:
        need = attention_bytes(work_size, max_refs)
        if need > ONNX_ATTENTION_LIMIT:
            size = f"{work_size[0]}x{work_size[1]} with {max_refs} references"
            if backend == "auto":
                progress.log(f"running the networks in PyTorch: its fused attention is faster than ONNX Runtime's "
                             f"{need / 1e9:.1f} GB attention matrix at {size}")
                return TorchBackend(model.checkpoint, device)
            warn(progress, f"ONNX Runtime computes a {need / 1e9:.1f} GB attention matrix per frame at {size} "
                           "(in slices); --backend torch runs its fused attention faster there")
    return OnnxBackend(model, cache_dir, threads=threads, progress=progress)
