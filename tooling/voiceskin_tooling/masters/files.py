"""Masters from model files: a studio's own neural converter, exported to
TorchScript or ONNX, used as a teacher without writing Python.

Contract of the file (both formats):

* input: float32 audio ``[1, T]`` (batch of one, mono) at ``sample_rate``,
  with T variable;
* output: the converted audio, ``[1, T']``, ``[1, 1, T']`` or ``[T']``. It is
  trimmed/zero-padded to T (a model must not add delay; if it does, set
  ``delay_samples`` and the adapter drops that many leading samples).
* optional further outputs, in order: ``f0`` (Hz per frame) and ``voicing``
  (0..1 per frame), frame i at sample ``i * hop`` — as a TorchScript tuple, or
  ONNX outputs named ``f0`` / ``voicing``.

The target voice is baked into the model (any-to-one), so :meth:`fit` only
checks its input. Settings: ``path`` (relative to the voice TOML when given
there), ``sample_rate``, ``hop``, ``delay_samples``.
"""
from __future__ import annotations

import hashlib
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .base import Master, MasterError, MasterOutput, as_mono_float32, resample

__all__ = ["TorchScriptMaster", "OnnxMaster"]


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


class _FileMaster(Master):
    requires_fit = False
    kind = "file"

    def __init__(self, path: str | Path, sample_rate: int = 16000, hop: int = 64, delay_samples: int = 0) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise MasterError(f"{self.name} master: model file {self.path} does not exist")
        if int(sample_rate) <= 0 or int(hop) <= 0 or int(delay_samples) < 0:
            raise MasterError(f"{self.name} master: bad sample_rate/hop/delay_samples")
        self.sample_rate, self.hop, self.delay_samples = int(sample_rate), int(hop), int(delay_samples)
        self._digest = _digest(self.path)

    def fit(self, reference_audio: Sequence[np.ndarray], sample_rate: int) -> None:
        # any-to-one: the target is inside the model file
        for a in reference_audio:
            as_mono_float32(a)

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "file": self.path.name, "sha256": self._digest,
                "sample_rate": self.sample_rate, "hop": self.hop, "delay_samples": self.delay_samples}

    def _run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        raise NotImplementedError

    def convert(self, audio: np.ndarray, sample_rate: int) -> MasterOutput:
        x = resample(as_mono_float32(audio), int(sample_rate), self.sample_rate)
        if len(x) == 0:
            raise MasterError("input audio is empty")
        try:
            y, f0, voicing = self._run(x)
        except MasterError:
            raise
        except Exception as exc:  # noqa: BLE001 - runtime errors of the model
            raise MasterError(f"{self.name} master {self.path.name} failed on {len(x)} samples: {exc}") from exc
        y = np.asarray(y, dtype=np.float32).reshape(-1)[self.delay_samples:]
        y = np.concatenate([y, np.zeros(max(0, len(x) - len(y)), np.float32)])[: len(x)]
        if not np.all(np.isfinite(y)):
            raise MasterError(f"{self.name} master {self.path.name} produced NaN/inf")
        n = len(x) // self.hop + 1

        def frames(a: np.ndarray | None) -> np.ndarray | None:
            if a is None:
                return None
            a = np.asarray(a, dtype=np.float32).reshape(-1)[:n]
            return np.concatenate([a, np.zeros(n - len(a), np.float32)])

        return MasterOutput(audio=y, f0=frames(f0), voicing=frames(voicing), features=None,
                            sample_rate=self.sample_rate, hop=self.hop)


class TorchScriptMaster(_FileMaster):
    """A ``torch.jit.save``-d module: ``forward(audio [1, T]) -> audio``
    (or a tuple ``(audio, f0, voicing)``). Runs on CPU."""

    name = "torchscript"

    def __init__(self, path: str | Path, sample_rate: int = 16000, hop: int = 64, delay_samples: int = 0) -> None:
        super().__init__(path, sample_rate, hop, delay_samples)
        import torch

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # torch 2.9+ deprecates jit
                self._module = torch.jit.load(str(self.path), map_location="cpu").eval()
        except Exception as exc:  # noqa: BLE001
            raise MasterError(f"torchscript master: cannot load {self.path}: {exc}") from exc

    def _run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        import torch

        with torch.inference_mode():
            out = self._module(torch.from_numpy(x)[None, :])
        if isinstance(out, (tuple, list)):
            parts = [o.detach().cpu().numpy() if o is not None else None for o in out]
            parts += [None] * (3 - len(parts))
            return parts[0], parts[1], parts[2]
        return out.detach().cpu().numpy(), None, None


class OnnxMaster(_FileMaster):
    """An ONNX graph with one float32 input ``[1, T]``; its first output is
    the audio, and outputs named ``f0`` / ``voicing`` are used when present."""

    name = "onnx"

    def __init__(self, path: str | Path, sample_rate: int = 16000, hop: int = 64, delay_samples: int = 0) -> None:
        super().__init__(path, sample_rate, hop, delay_samples)
        import onnxruntime as ort

        try:
            so = ort.SessionOptions()
            so.log_severity_level = 3
            self._sess = ort.InferenceSession(str(self.path), so, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001
            raise MasterError(f"onnx master: cannot load {self.path}: {exc}") from exc
        ins = self._sess.get_inputs()
        if len(ins) != 1:
            raise MasterError(f"onnx master: {self.path.name} must have exactly one input, has {len(ins)}")
        self._input = ins[0].name
        self._outputs = [o.name for o in self._sess.get_outputs()]

    def _run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        res = dict(zip(self._outputs, self._sess.run(None, {self._input: x[None, :]})))
        return res[self._outputs[0]], res.get("f0"), res.get("voicing")
