"""VoiceskinError: a failed libvoiceskin call, with its status and a hint."""

from __future__ import annotations

from .format import STATUS_CODES

__all__ = ["VoiceskinError", "check", "status_name", "HINTS"]

_NAMES = {code: name for name, code in STATUS_CODES.items()}

#: What to do about each status, shown after the library's description.
HINTS: dict[str, str] = {
    "VSK_ERR_IO": "check that the path exists and is a readable file",
    "VSK_ERR_BAD_MAGIC": "this is not a .vskin bundle (export one with `voiceskin export`)",
    "VSK_ERR_UNSUPPORTED_VERSION":
        "the bundle was written by a newer format version; upgrade voiceskin or re-export it",
    "VSK_ERR_TRUNCATED": "the file is incomplete; copy or download it again",
    "VSK_ERR_CHECKSUM": "the file is damaged; copy or download it again, or re-export it",
    "VSK_ERR_CORRUPT":
        "the bundle's structure is invalid; re-export it (`voiceskin inspect` shows details)",
    "VSK_ERR_TOO_LARGE": "the bundle exceeds a documented size limit (docs/bundle-format.md)",
    "VSK_ERR_UNSUPPORTED_OP":
        "the bundle uses an op this library build does not know; upgrade libvoiceskin",
    "VSK_ERR_ABI_MISMATCH": "the Python package and libvoiceskin disagree; reinstall with `pip install -e .`",
    "VSK_ERR_UNSUPPORTED_RATE": "use a sample rate between 8000 and 192000 Hz",
    "VSK_ERR_DUPLICATE":
        "a voice with this ID and an equal or newer version is already registered",
    "VSK_ERR_NO_MEMORY": "out of memory",
    "VSK_ERR_STRUCT_TOO_NEW":
        "the caller was built against a newer voiceskin.h than this libvoiceskin; upgrade the library",
    "VSK_ERR_TOO_COSTLY":
        "a tier of this bundle needs more CPU than max_cost_per_second allows (see "
        "TierInfo.cost_per_second); raise the limit only for bundles you trust",
}


def status_name(status: int) -> str:
    """Symbolic name of a status code (without needing the library)."""
    return _NAMES.get(int(status), f"VSK_STATUS_{int(status)}")


class VoiceskinError(Exception):
    """A libvoiceskin call failed.

    Attributes: ``status`` (int, e.g. -7), ``name`` (e.g. "VSK_ERR_CHECKSUM"),
    ``description`` (the library's vsk_status_string), ``context`` (what was
    being done) and ``hint`` (what to do about it, may be empty).
    """

    def __init__(self, status: int, context: str = "", hint: str | None = None) -> None:
        self.status = int(status)
        self.name = status_name(self.status)
        self.description = _describe(self.status)
        self.context = context
        self.hint = HINTS.get(self.name, "") if hint is None else hint
        msg = f"{self.name}: {self.description}"
        if context:
            msg = f"{context}: {msg}"
        if self.hint:
            msg += f" — {self.hint}"
        super().__init__(msg)


def _describe(status: int) -> str:
    try:
        from ._ffi import ffi, get_lib

        lib = get_lib()
        return str(ffi.string(lib.vsk_status_string(status)).decode("utf-8", "replace"))
    except OSError:
        return status_name(status).removeprefix("VSK_ERR_").replace("_", " ").lower()


def check(status: int, context: str = "", hint: str | None = None) -> None:
    """Raises VoiceskinError if ``status`` is not VSK_OK (0)."""
    if status != 0:
        raise VoiceskinError(status, context, hint)
