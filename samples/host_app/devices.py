"""Audio devices for the sample app: listing, picking a host API / device,
and checking a sample rate, with messages a user can act on."""
from __future__ import annotations

from typing import Any


class DeviceError(Exception):
    """A device problem explained for the user (printed without a traceback)."""


def load_sounddevice() -> Any:
    try:
        import sounddevice as sd
    except ImportError as e:
        raise DeviceError("the sounddevice package is missing: pip install sounddevice") from e
    except OSError as e:  # sounddevice raises OSError when libportaudio is absent
        raise DeviceError(f"PortAudio could not be loaded ({e}); on Debian/Ubuntu: "
                          "apt-get install libportaudio2") from e
    return sd


def list_devices(sd: Any) -> str:
    lines = []
    apis = sd.query_hostapis()
    for i, api in enumerate(apis):
        lines.append(f"host API {i}: {api['name']}")
        for d in api["devices"]:
            dev = sd.query_devices(d)
            mark = []
            if d == api["default_input_device"]:
                mark.append("default in")
            if d == api["default_output_device"]:
                mark.append("default out")
            lines.append(f"  [{d}] {dev['name']}: {dev['max_input_channels']} in, "
                         f"{dev['max_output_channels']} out, "
                         f"{dev['default_samplerate']:.0f} Hz"
                         + (f" ({', '.join(mark)})" if mark else ""))
        if not api["devices"]:
            lines.append("  (no devices)")
    if not any(api["devices"] for api in apis):
        lines.append("no audio devices found: is an audio server (JACK, PipeWire, PulseAudio) "
                     "running, or a sound card present?")
    return "\n".join(lines)


def _device_arg(spec: str | None) -> int | str | None:
    if spec is None:
        return None
    return int(spec) if spec.isdigit() else spec


def resolve(sd: Any, hostapi: str | None, device: str | None, in_device: str | None,
            out_device: str | None, need_input: bool) -> tuple[int | None, int]:
    """(input device index or None, output device index)."""
    in_spec = _device_arg(in_device if in_device is not None else device)
    out_spec = _device_arg(out_device if out_device is not None else device)
    default_in, default_out = sd.default.device
    if hostapi is not None:
        apis = sd.query_hostapis()
        match = [i for i, a in enumerate(apis) if hostapi.lower() in a["name"].lower()]
        if not match:
            raise DeviceError(f"no host API matches {hostapi!r}; available: "
                              + ", ".join(a["name"] for a in apis)
                              + " (a JACK server must be running for PortAudio to offer JACK)")
        api = apis[match[0]]
        default_in, default_out = api["default_input_device"], api["default_output_device"]
    try:
        out = (sd.query_devices(out_spec, "output")["index"] if out_spec is not None
               else default_out)
    except ValueError as e:
        raise DeviceError(f"output device {out_spec!r}: {e} (see --list-devices)") from None
    if out is None or out < 0:
        raise DeviceError("no audio output device found: is an audio server running or a sound "
                          "card present? (see --list-devices)")
    try:
        inp = (sd.query_devices(in_spec, "input")["index"] if in_spec is not None
               else default_in)
    except ValueError as e:
        raise DeviceError(f"input device {in_spec!r}: {e} (see --list-devices)") from None
    if inp is not None and inp < 0:
        inp = None
    if need_input and inp is None:
        raise DeviceError("no audio input device found (use --input FILE to feed a file "
                          "instead of a microphone; see --list-devices)")
    return inp, int(out)


def check_rate(sd: Any, inp: int | None, out: int, rate: int, in_channels: int,
               out_channels: int) -> None:
    for kind, dev, ch, check in (("output", out, out_channels, sd.check_output_settings),
                                 ("input", inp, in_channels, sd.check_input_settings)):
        if dev is None:
            continue
        try:
            check(device=dev, samplerate=rate, channels=ch, dtype="float32")
        except Exception as e:  # sounddevice.PortAudioError or ValueError
            info = sd.query_devices(dev)
            raise DeviceError(
                f"{kind} device [{dev}] {info['name']!r} does not support {rate} Hz with "
                f"{ch} channel(s) ({e}); its default rate is {info['default_samplerate']:.0f} Hz "
                f"(try --rate {info['default_samplerate']:.0f})") from None
