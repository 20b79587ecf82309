"""The audio side of the sample app: one PortAudio callback that feeds the
microphone (or a file) through a voiceskin.Voice and out to the device.

Everything the callback touches is made in advance (buffers, stats ring,
switch schedule); it does one ``Voice.process_into`` per buffer. Python
itself still allocates small objects in the callback, which is why engines
use the C ABI directly (samples/c_host) — this app is for trying voices.
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import voiceskin

STATS = 4096  # callback timings kept for the status line


@dataclass
class Switch:
    frame: int
    tier: int


@dataclass
class Engine:
    voice: voiceskin.Voice
    out_channels: int
    source: np.ndarray | None = None        # mono float32 file input (None: microphone)
    end_frame: int | None = None            # stop after this many frames (None: run until stopped)
    schedule: list[Switch] = field(default_factory=list)   # pending --switch-at requests
    record_output: bool = False
    record_input: bool = False

    def __post_init__(self) -> None:
        n = self.voice.max_block
        self._mono_in = np.zeros(n, np.float32)
        self._mono_out = np.zeros(n, np.float32)
        self.position = 0                     # frames processed so far
        self.buffers = 0
        self.xruns = 0
        self.worst_us = 0.0                   # over the whole run
        self.worst_cpu_us = 0.0               # the callback thread's own CPU time, worst buffer
        self.xrun_flags: list[str] = []
        self.switches_done: list[Switch] = []
        self._times = np.zeros(STATS)         # callback µs, ring
        self._sizes = np.zeros(STATS)         # frames per callback, ring
        self._voice = np.zeros(STATS)         # µs inside vsk_voice_process, ring
        self.out_queue: queue.Queue[np.ndarray] = queue.Queue()
        self.in_queue: queue.Queue[np.ndarray] = queue.Queue()
        self.finished = threading.Event()
        self._pending = sorted(self.schedule, key=lambda s: s.frame)

    def warm_up(self) -> None:
        """Runs the callback's code paths once on silence (first-call costs:
        page faults in the voice's memory, numpy/cffi caches), then resets
        the voice and counters, so the stream starts as from create."""
        n = len(self._mono_in)
        out = np.zeros((n, self.out_channels), np.float32)
        saved = (self.source, self.record_output, self.record_input, self._pending)
        self.source, self.record_output, self.record_input, self._pending = None, False, False, []
        for _ in range(4):
            self.callback(np.zeros((n, 1), np.float32), out, n, None, None)
        self.source, self.record_output, self.record_input, self._pending = saved
        self.voice.reset()
        self.position = self.buffers = self.xruns = 0
        self.worst_us = self.worst_cpu_us = 0.0
        self.finished.clear()

    # ------------------------------------------------------------ callback
    def callback(self, indata: Any, outdata: np.ndarray, frames: int, _time: Any,
                 status: Any) -> None:
        t0 = time.perf_counter_ns()
        c0 = time.thread_time_ns()            # CPU time: wall minus time descheduled
        if status:
            bad = [f for f in ("input_underflow", "input_overflow", "output_underflow",
                               "output_overflow") if getattr(status, f, False)]
            if bad:
                self.xruns += 1
                if len(self.xrun_flags) < 32:
                    self.xrun_flags.append(f"{self.position}:{'+'.join(bad)}")
        while self._pending and self._pending[0].frame <= self.position:
            s = self._pending.pop(0)          # tier requests: [any-rt], take effect this buffer
            self.voice.tier = s.tier
            self.switches_done.append(Switch(self.position, s.tier))
        pos = self.position
        done = 0
        voice_ns = 0
        while done < frames:                  # voice scratch is max_block frames
            n = min(frames - done, len(self._mono_in))
            src = self._mono_in[:n]
            if self.source is not None:
                a = min(max(pos + done, 0), len(self.source))
                b = min(pos + done + n, len(self.source))
                src[: b - a] = self.source[a:b]
                src[b - a:] = 0.0
            elif indata is not None:
                src[:] = indata[done:done + n].mean(axis=1) if indata.shape[1] > 1 \
                    else indata[done:done + n, 0]
            dst = self._mono_out[:n]
            v0 = time.perf_counter_ns()
            self.voice.process_into(src, dst)
            voice_ns += time.perf_counter_ns() - v0
            outdata[done:done + n] = dst[:, None]
            done += n
        if self.record_output:
            self.out_queue.put(outdata[:, 0].copy())
        if self.record_input and indata is not None:
            self.in_queue.put(indata[:, 0].copy())
        self.position = pos + frames
        i = self.buffers % STATS
        dt = (time.perf_counter_ns() - t0) / 1e3
        self._times[i] = dt
        if dt > self.worst_us:
            self.worst_us = dt
        cpu = (time.thread_time_ns() - c0) / 1e3
        if cpu > self.worst_cpu_us:
            self.worst_cpu_us = cpu
        self._sizes[i] = frames
        self._voice[i] = voice_ns / 1e3
        self.buffers += 1
        if self.end_frame is not None and self.position >= self.end_frame:
            self.finished.set()

    # --------------------------------------------------------------- stats
    def stats(self) -> dict[str, float]:
        n = min(self.buffers, STATS)
        if n == 0:
            return {"median_us": 0.0, "p99_us": 0.0, "worst_us": 0.0, "worst_cpu_us": 0.0,
                    "frames": 0.0,
                    "voice_median_us": 0.0, "voice_p99_us": 0.0}
        t = self._times[:n].copy()
        v = self._voice[:n].copy()
        return {"median_us": float(np.median(t)), "p99_us": float(np.percentile(t, 99)),
                "voice_median_us": float(np.median(v)), "voice_p99_us": float(np.percentile(v, 99)),
                "worst_us": self.worst_us, "worst_cpu_us": self.worst_cpu_us,
                "frames": float(np.median(self._sizes[:n]))}
