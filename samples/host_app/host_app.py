"""voiceskin real-time sample app: microphone -> voice skin -> speakers.

    python samples/host_app/host_app.py --list-devices
    python samples/host_app/host_app.py --voices DIR [--voice ID|INDEX] [--tier T]
    python samples/host_app/host_app.py --bundle FILE.vskin --input speech.wav --output out.wav

Full duplex through PortAudio (sounddevice) and the Python SDK. --input FILE
feeds a file in place of the microphone (still playing through the real
output stream); --output FILE records what is sent to the output,
--record-input FILE what arrives from the input device. A status line shows
the callback's CPU per buffer, the voice's and the devices' latency, and
xruns; see keys.py for the keys. Exit status: 0 ok, 1 runtime error, 2 a
device/usage problem (explained on stderr).
"""
from __future__ import annotations

import argparse
import gc
import os
import queue
import sys
import threading
import time
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_ROOT = _HERE.parents[1]
sys.path.insert(0, str(_HERE))
try:
    import voiceskin  # noqa: F401  (the installed SDK)
except ImportError:  # a checkout without `pip install -e .`
    sys.path.insert(0, str(_ROOT / "sdk"))

import numpy as np  # noqa: E402

import voiceskin  # noqa: E402
import devices  # noqa: E402
import keys  # noqa: E402
from devices import DeviceError  # noqa: E402
from engine import Engine, Switch  # noqa: E402


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--list-devices", action="store_true", help="list audio devices and exit")
    src = p.add_argument_group("voice")
    src.add_argument("--voices", metavar="DIR", help="registry folder of .vskin files")
    src.add_argument("--bundle", metavar="FILE", help="one .vskin file (instead of --voices)")
    src.add_argument("--voice", default="0", help="voice ID or registry index (default 0)")
    src.add_argument("--tier", default="0", help="starting tier, index or name (default 0)")
    src.add_argument("--mix", type=float, default=1.0, help="wet amount 0..1 (default 1)")
    src.add_argument("--bypass", action="store_true", help="start bypassed")
    src.add_argument("--cpu-budget", type=float, default=0.0, metavar="FRACTION",
                     help="CPU budget of the voice, fraction of one core (e.g. 0.002 = 0.2 %%; "
                          "0 = off): the voice steps its tier down, and back up, to fit, never "
                          "above --tier (dynamic quality)")
    src.add_argument("--switch-at", metavar="SEC:TIER", action="append", default=[],
                     help="request TIER at SEC seconds of stream time (repeatable)")
    io = p.add_argument_group("audio")
    io.add_argument("--hostapi", help="host API name, e.g. JACK, ALSA (default: PortAudio's)")
    io.add_argument("--device", help="device index or name (input and output)")
    io.add_argument("--input-device", help="input device index or name")
    io.add_argument("--output-device", help="output device index or name")
    io.add_argument("--rate", type=int, help="sample rate (default: the output device's)")
    io.add_argument("--blocksize", type=int, default=256,
                    help="frames per buffer (0 = let the host choose; default 256)")
    io.add_argument("--channels", type=int, default=0,
                    help="output channels (default: up to 2 the device has)")
    io.add_argument("--latency", default="low", help="PortAudio latency: low, high or seconds")
    io.add_argument("--input", metavar="FILE", help="feed this file instead of the microphone")
    io.add_argument("--lead-in", type=float, default=0.0, metavar="SEC",
                    help="silence before --input starts (default 0)")
    io.add_argument("--output", metavar="FILE", help="record what is played to this file")
    io.add_argument("--record-input", metavar="FILE",
                    help="record what arrives from the input device to this file")
    io.add_argument("--duration", type=float, metavar="SEC",
                    help="stop after SEC seconds (default: end of --input + latency, "
                         "else until q / Ctrl-C)")
    ui = p.add_argument_group("interface")
    ui.add_argument("--no-keys", action="store_true", help="do not read keys from the terminal")
    ui.add_argument("--status-interval", type=float, default=0.25, metavar="SEC",
                    help="status line period (default 0.25 s)")
    return p.parse_args(argv)


def open_voice(args: argparse.Namespace, rate: int, max_block: int) -> voiceskin.Voice:
    if args.bundle:
        bundle = voiceskin.Bundle.open(args.bundle)
    elif args.voices:
        reg = voiceskin.Registry()
        added, skipped = reg.scan(args.voices)
        if len(reg) == 0:
            raise DeviceError(f"no usable .vskin voices in {args.voices} ({skipped} skipped)")
        index = int(args.voice) if args.voice.isdigit() else reg.find(args.voice)
        if not 0 <= index < len(reg):
            raise DeviceError(f"voice index {index} out of range: {args.voices} has "
                              f"{len(reg)} voice(s)")
        bundle = reg[index]
    else:
        raise DeviceError("give a voice: --voices DIR or --bundle FILE")
    tier: int | str = int(args.tier) if args.tier.isdigit() else args.tier
    return voiceskin.Voice(bundle, sample_rate=rate, channels=1, max_block=max_block,
                           tier=tier, mix=args.mix, bypass=args.bypass,
                           cpu_budget=args.cpu_budget)


def load_input(path: str, rate: int) -> np.ndarray:
    import soundfile as sf
    try:
        x, sr = sf.read(path, dtype="float32", always_2d=True)
    except Exception as e:  # soundfile.LibsndfileError, OSError
        raise DeviceError(f"cannot read {path}: {e}") from None
    x = x.mean(axis=1)
    if sr != rate:
        try:
            import soxr
        except ImportError:
            raise DeviceError(f"{path} is {sr} Hz and the stream {rate} Hz: install soxr to "
                              f"resample, or use --rate {sr}") from None
        x = soxr.resample(x, sr, rate)
    return np.ascontiguousarray(x, dtype=np.float32)


def parse_schedule(specs: list[str], voice: voiceskin.Voice, rate: int) -> list[Switch]:
    out = []
    for s in specs:
        sec, _, tier = s.partition(":")
        if not tier:
            raise DeviceError(f"--switch-at {s!r}: expected SEC:TIER")
        t = int(tier) if tier.isdigit() else voice.bundle.find_tier(tier)
        if not 0 <= t < len(voice.bundle.tiers):
            raise DeviceError(f"--switch-at {s!r}: tier {t} out of range")
        out.append(Switch(int(round(float(sec) * rate)), t))
    return out


class Writer:
    """Drains a queue of blocks into a float WAV file on the main thread."""

    def __init__(self, path: str, rate: int, q: "queue.Queue[np.ndarray]") -> None:
        import soundfile as sf
        try:
            self.f = sf.SoundFile(path, "w", samplerate=rate, channels=1, subtype="FLOAT")
        except Exception as e:  # soundfile.LibsndfileError, OSError
            raise DeviceError(f"cannot create {path}: {e}") from None
        self.q = q

    def drain(self) -> None:
        while True:
            try:
                block = self.q.get_nowait()
            except queue.Empty:
                return
            self.f.write(block)

    def close(self) -> None:
        self.drain()
        self.f.close()


def run(args: argparse.Namespace) -> int:
    sd = devices.load_sounddevice()
    if args.list_devices:
        print(devices.list_devices(sd))
        return 0
    inp, out = devices.resolve(sd, args.hostapi, args.device, args.input_device,
                               args.output_device, need_input=args.input is None)
    if args.input is not None and args.record_input is None:
        inp = None                    # a file replaces the microphone: output-only stream
    if args.record_input is not None and inp is None:
        print("host_app: no input device, --record-input ignored", file=sys.stderr)
    out_info = sd.query_devices(out)
    rate = int(args.rate or out_info["default_samplerate"])
    out_ch = args.channels or min(2, int(out_info["max_output_channels"]))
    in_ch = 1 if inp is not None else 0
    devices.check_rate(sd, inp, out, rate, in_ch, out_ch)
    try:
        latency: str | float = float(args.latency)
    except ValueError:
        latency = args.latency

    voice = open_voice(args, rate, args.blocksize or 4096)
    source = load_input(args.input, rate) if args.input else None
    lead = int(round(args.lead_in * rate))
    if source is not None and lead:
        source = np.concatenate([np.zeros(lead, np.float32), source])
    end = None
    if args.duration is not None:
        end = int(round(args.duration * rate))
    elif source is not None:
        end = len(source) + voice.latency + rate // 5
    engine = Engine(voice, out_ch, source, end, parse_schedule(args.switch_at, voice, rate),
                    record_output=args.output is not None,
                    record_input=args.record_input is not None and inp is not None)
    writers = []
    if args.output:
        writers.append(Writer(args.output, rate, engine.out_queue))
    if engine.record_input:
        writers.append(Writer(args.record_input, rate, engine.in_queue))

    tiers = voice.bundle.tiers
    print(f"voice: {voice.bundle.voice_id} {voice.bundle.version} \"{voice.bundle.display_name}\", "
          f"tiers: " + ", ".join(f"{i}={t.name}" for i, t in enumerate(tiers)))
    dev_names = (f"in [{inp}] {sd.query_devices(inp)['name']!r}, " if inp is not None
                 else f"in: {'file ' + args.input if args.input else 'none'}, ")
    print(f"devices: {dev_names}out [{out}] {out_info['name']!r} "
          f"({sd.query_hostapis(out_info['hostapi'])['name']}), {rate} Hz, "
          f"block {args.blocksize or 'host'}")

    stop = threading.Event()

    key_log: list[str] = []

    def on_key(ch: str) -> None:
        n = len(tiers)
        if ch.isdigit() and int(ch) < n:
            voice.tier = int(ch)
        elif ch in "+=":
            voice.tier = min(n - 1, voice.tier + 1)
        elif ch in "-_":
            voice.tier = max(0, voice.tier - 1)
        elif ch in "bB":
            voice.bypass = not voice.bypass
        elif ch == "[":
            voice.mix = max(0.0, round(voice.mix - 0.1, 2))
        elif ch == "]":
            voice.mix = min(1.0, round(voice.mix + 0.1, 2))
        elif ch in "qQ":
            stop.set()
        else:
            return
        key_log.append(f"key: {ch!r} at frame {engine.position}: tier {voice.tier} "
                       f"{voice.tier_name}, mix {voice.mix:.1f}, "
                       f"{'bypass' if voice.bypass else 'wet'}")

    # The callback runs on the audio thread and needs the GIL: make the main
    # thread hand it over within 0.5 ms (the default is 5 ms, a whole buffer).
    sys.setswitchinterval(0.0005)
    # No cyclic-GC pauses inside the callback (whichever thread allocates
    # pays for a collection); reference counting still frees everything.
    gc.collect()
    gc.freeze()
    gc.disable()
    engine.warm_up()
    rt = try_realtime()
    status_line(engine, voice, rate)      # first calls of numpy's median/percentile are slow
    kwargs = dict(samplerate=rate, blocksize=args.blocksize, dtype="float32",
                  latency=latency, callback=engine.callback)
    try:
        if inp is not None:
            stream = sd.Stream(device=(inp, out), channels=(in_ch, out_ch), **kwargs)
        else:
            stream = sd.OutputStream(
                device=out, channels=out_ch,
                **{**kwargs, "callback": lambda o, f, t, s: engine.callback(None, o, f, t, s)})
    except sd.PortAudioError as e:
        raise DeviceError(f"cannot open the audio stream at {rate} Hz: {e}") from None
    restore = (lambda: None) if args.no_keys else keys.start(on_key, stop, try_realtime)
    tty = sys.stderr.isatty()
    if tty and not args.no_keys:
        print(keys.HELP, file=sys.stderr)
    t_start = time.monotonic()
    try:
        with stream:
            dev_lat = stream.latency if isinstance(stream.latency, tuple) else (0.0, stream.latency)
            print(f"streaming: voice latency {voice.latency} frames "
                  f"({1e3 * voice.latency / rate:.2f} ms), device latency in "
                  f"{1e3 * dev_lat[0]:.2f} ms / out {1e3 * dev_lat[1]:.2f} ms, "
                  f"control threads {'SCHED_FIFO 1' if rt else 'normal priority'}", flush=True)
            last = last_plain = 0.0
            while not stop.is_set() and not engine.finished.is_set():
                time.sleep(0.05)
                for w in writers:
                    w.drain()
                now = time.monotonic()
                if now - last >= args.status_interval:
                    last = now
                    line = status_line(engine, voice, rate)
                    if tty:
                        print("\r" + line + "   ", end="", file=sys.stderr, flush=True)
                    elif now - last_plain >= 1.0:     # logs: one line a second
                        last_plain = now
                        print("status: " + line, file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        restore()
        for w in writers:
            w.close()
    if tty:
        print(file=sys.stderr)
    wall = time.monotonic() - t_start
    for s in engine.switches_done:
        print(f"switch: frame {s.frame} -> tier {s.tier}")
    for line in key_log:
        print(line)
    st = engine.stats()
    period_us = 1e6 * st["frames"] / rate if st["frames"] else 0.0
    print(f"summary: buffers {engine.buffers}, frames {engine.position}, "
          f"{engine.position / rate:.2f} s audio in {wall:.2f} s, "
          f"callback median {st['median_us']:.1f} us p99 {st['p99_us']:.1f} us "
          f"worst {st['worst_us']:.1f} us (cpu {st['worst_cpu_us']:.1f} us), "
          f"voice median {st['voice_median_us']:.1f} us "
          f"p99 {st['voice_p99_us']:.1f} us per {st['frames']:.0f}-frame buffer "
          f"({period_us:.0f} us), latency {voice.latency} frames, xruns {engine.xruns}")
    if engine.xrun_flags:
        print("xrun flags: " + " ".join(engine.xrun_flags))
    if voice.cpu_budget:
        s = voice.tier_state
        print(f"governor: budget {voice.cpu_budget:g} of one core, heard tier {s['audible']}, "
              f"cap {s['governed_tier']}, last load {s['cpu_load']:.5f}, "
              f"{s['governor_steps']} steps")
    return 0


def try_realtime() -> bool:
    """Moves the calling thread to SCHED_FIFO priority 1 where allowed.

    The audio callback runs on the audio server's real-time thread but needs
    the GIL; if a normal-priority thread holding the GIL is preempted by
    other load, the callback waits (priority inversion) and misses its
    deadline. The app's other threads only wake briefly, so running them at
    the lowest real-time priority is cheap and removes that wait."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))  # type: ignore[attr-defined]
        return True
    except (AttributeError, OSError):
        return False


def governed(voice: voiceskin.Voice) -> str:
    """With a CPU budget: the tier heard, the governor's cap and its last
    measurement (e.g. " -> heard 1 medium (governor cap 1, load 0.16 %)")."""
    if not voice.cpu_budget:
        return ""
    s = voice.tier_state
    return (f" -> heard {s['audible']} {voice.bundle.tiers[s['audible']].name} (governor cap "
            f"{s['governed_tier']}, load {100 * s['cpu_load']:.2f} % of "
            f"{100 * voice.cpu_budget:.2f} %)")


def status_line(engine: Engine, voice: voiceskin.Voice, rate: int) -> str:
    st = engine.stats()
    period_us = 1e6 * st["frames"] / rate if st["frames"] else 0.0
    cpu = 100.0 * st["median_us"] / period_us if period_us else 0.0
    return (f"tier {voice.tier} {voice.tier_name}{governed(voice)} | mix {voice.mix:.1f} | "
            f"{'BYPASS' if voice.bypass else 'wet'} | cpu {st['median_us']:.0f} us/buf "
            f"({cpu:.1f} %) p99 {st['p99_us']:.0f} us | latency {voice.latency} fr "
            f"({1e3 * voice.latency / rate:.1f} ms) | xruns {engine.xruns} | "
            f"{engine.position / rate:6.1f} s")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except DeviceError as e:
        print(f"host_app: {e}", file=sys.stderr)
        return 2
    except voiceskin.VoiceskinError as e:
        print(f"host_app: {e}", file=sys.stderr)
        return 2
    except FileNotFoundError as e:
        print(f"host_app: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    os.environ.setdefault("JACK_NO_START_SERVER", "1")   # never spawn a JACK server by surprise
    sys.exit(main())
