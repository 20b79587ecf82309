"""cffi (ABI mode) binding of native/include/voiceskin.h.

``CDEF`` must declare exactly what the header declares;
tests/test_sdk_cdef_matches_header.py parses both and fails on any drift.

The library is located, in order, by:
  1. the ``VOICESKIN_LIBRARY`` environment variable (a path to the file);
  2. ``libvoiceskin.so`` / ``libvoiceskin.dylib`` / ``voiceskin.dll`` (or a
     versioned ``libvoiceskin.so.0``) inside the ``voiceskin`` package: every
     entry of the package ``__path__``, then the package folder recorded by
     the installed ``voiceskin`` distribution (regular and editable installs,
     also when the sources are imported through PYTHONPATH).
It is loaded on first use (``get_lib()``), not at import.
"""

from __future__ import annotations

import glob
import os
import sys
import threading
from typing import Any

import cffi

from .format import STATUS_CODES

# The status enum, from the one Python table (voiceskin.format.STATUS_CODES;
# tests/test_status_table.py checks it and the C# copy against the header).
_STATUS_ENUM = "enum {\n" + ",\n".join(
    f"    {name} = {code}" for name, code in STATUS_CODES.items()) + "\n};"

CDEF = r"""
#define VSK_ABI_VERSION 1
#define VSK_VERSION_MAJOR 0
#define VSK_VERSION_MINOR 7
#define VSK_VERSION_PATCH 0

uint32_t vsk_version(void);
const char *vsk_version_string(void);
uint32_t vsk_abi_version(void);

typedef int32_t vsk_status;
""" + _STATUS_ENUM + r"""

const char *vsk_status_name(vsk_status status);
const char *vsk_status_string(vsk_status status);

typedef struct vsk_allocator {
    void *(*alloc)(void *user, size_t size, size_t alignment);
    void (*free)(void *user, void *ptr, size_t size);
    void *user;
} vsk_allocator;

enum { VSK_LOG_ERROR = 0, VSK_LOG_WARNING = 1, VSK_LOG_INFO = 2 };
typedef void (*vsk_log_fn)(void *user, int32_t level, const char *message);

#define VSK_DEFAULT_MAX_COST_PER_SECOND 500000000

enum {
    VSK_ISA_LEVEL_BEST = 0,
    VSK_ISA_LEVEL_SCALAR = 1,
    VSK_ISA_LEVEL_SIMD128 = 2,
    VSK_ISA_LEVEL_AVX2 = 3
};

typedef struct vsk_bundle vsk_bundle;

vsk_status vsk_bundle_open_memory(const void *data, size_t size,
                                  vsk_bundle **out_bundle);
vsk_status vsk_bundle_open_file(const char *path, vsk_bundle **out_bundle);
void vsk_bundle_retain(vsk_bundle *bundle);
void vsk_bundle_release(vsk_bundle *bundle);

typedef struct vsk_bundle_info {
    uint32_t struct_size;
    const char *voice_id;
    const char *display_name;
    const char *version;
    uint32_t tier_count;
    uint32_t format_version;
} vsk_bundle_info;

vsk_status vsk_bundle_get_info(const vsk_bundle *bundle, vsk_bundle_info *info);

typedef struct vsk_tier_info {
    uint32_t struct_size;
    const char *name;
    uint32_t model_sample_rate;
    uint32_t hop_samples;
    uint32_t latency_samples;
    uint64_t parameter_count;
    uint64_t flops_per_second;
    uint64_t cost_per_second;
} vsk_tier_info;

vsk_status vsk_bundle_get_tier_info(const vsk_bundle *bundle, uint32_t index,
                                    vsk_tier_info *info);
vsk_status vsk_bundle_find_tier(const vsk_bundle *bundle, const char *name,
                                uint32_t *out_index);

typedef struct vsk_voice vsk_voice;
typedef uint64_t (*vsk_clock_fn)(void *user);
typedef struct vsk_cpu_budget vsk_cpu_budget;

typedef struct vsk_voice_config {
    uint32_t struct_size;
    uint32_t abi_version;
    uint32_t sample_rate;
    uint32_t channels;
    uint32_t max_block_frames;
    uint32_t initial_tier;
    float mix;
    uint32_t bypass;
    uint32_t max_isa;
    uint32_t reserved0;
    uint64_t max_cost_per_second;
    vsk_allocator allocator;
    vsk_log_fn log;
    void *log_user;
    float cpu_budget;
    uint32_t reserved1;
    vsk_clock_fn clock;
    void *clock_user;
    vsk_cpu_budget *shared_budget;
    uint32_t schedule;
    uint32_t reserved2;
} vsk_voice_config;

enum {
    VSK_SCHEDULE_LOW_LATENCY = 0,
    VSK_SCHEDULE_EVEN = 1
};

void vsk_voice_config_init_size(vsk_voice_config *config, uint32_t struct_size);
void vsk_voice_config_init(vsk_voice_config *config);
vsk_status vsk_voice_get_size(const vsk_bundle *bundle,
                              const vsk_voice_config *config, size_t *out_bytes);
vsk_status vsk_voice_init(void *memory, size_t bytes, vsk_bundle *bundle,
                          const vsk_voice_config *config, vsk_voice **out_voice);
vsk_status vsk_voice_create(vsk_bundle *bundle, const vsk_voice_config *config,
                            vsk_voice **out_voice);
void vsk_voice_destroy(vsk_voice *voice);
vsk_status vsk_voice_process(vsk_voice *voice, const float *in, float *out,
                             uint32_t frames);
vsk_status vsk_voice_set_tier(vsk_voice *voice, uint32_t tier);
vsk_status vsk_voice_get_tier(const vsk_voice *voice, uint32_t *out_tier);

#define VSK_NO_TIER 0xFFFFFFFF

typedef struct vsk_tier_state {
    uint32_t struct_size;
    uint32_t requested;
    uint32_t audible;
    uint32_t incoming;
    uint32_t switching;
    uint32_t governed_tier;
    float cpu_load;
    uint32_t governor_steps;
} vsk_tier_state;

vsk_status vsk_voice_get_tier_state(const vsk_voice *voice, vsk_tier_state *state);
vsk_status vsk_voice_set_cpu_budget(vsk_voice *voice, float fraction_of_one_core);
vsk_status vsk_voice_get_cpu_budget(const vsk_voice *voice, float *out_fraction);
vsk_status vsk_voice_set_mix(vsk_voice *voice, float wet);
vsk_status vsk_voice_set_bypass(vsk_voice *voice, uint32_t bypass);
vsk_status vsk_voice_reset(vsk_voice *voice);
vsk_status vsk_voice_get_latency(const vsk_voice *voice, uint32_t *out_frames);
vsk_status vsk_voice_get_isa(const vsk_voice *voice, uint32_t *out_level);

vsk_status vsk_cpu_budget_create(float fraction_of_cores, const vsk_allocator *allocator,
                                 vsk_cpu_budget **out_budget);
void vsk_cpu_budget_destroy(vsk_cpu_budget *budget);
vsk_status vsk_cpu_budget_set(vsk_cpu_budget *budget, float fraction_of_cores);
vsk_status vsk_cpu_budget_get(const vsk_cpu_budget *budget, float *out_fraction,
                              uint32_t *out_members, float *out_load);

typedef struct vsk_registry vsk_registry;

typedef struct vsk_registry_config {
    uint32_t struct_size;
    uint32_t abi_version;
    uint32_t max_voices;
    uint32_t reserved0;
    uint64_t max_cost_per_second;
    vsk_allocator allocator;
    vsk_log_fn log;
    void *log_user;
} vsk_registry_config;

void vsk_registry_config_init_size(vsk_registry_config *config, uint32_t struct_size);
void vsk_registry_config_init(vsk_registry_config *config);
vsk_status vsk_registry_create(const vsk_registry_config *config,
                               vsk_registry **out_registry);
void vsk_registry_destroy(vsk_registry *registry);
vsk_status vsk_registry_add_bundle(vsk_registry *registry, vsk_bundle *bundle,
                                   uint32_t *out_index);
vsk_status vsk_registry_add_file(vsk_registry *registry, const char *path,
                                 uint32_t *out_index);
vsk_status vsk_registry_add_memory(vsk_registry *registry, const void *data,
                                   size_t size, uint32_t *out_index);
vsk_status vsk_registry_scan_folder(vsk_registry *registry, const char *folder,
                                    uint32_t *out_added, uint32_t *out_skipped);
vsk_status vsk_registry_count(const vsk_registry *registry, uint32_t *out_count);
vsk_status vsk_registry_get(const vsk_registry *registry, uint32_t index,
                            vsk_bundle **out_bundle);
vsk_status vsk_registry_find(const vsk_registry *registry, const char *voice_id,
                             uint32_t *out_index);
vsk_status vsk_registry_remove(vsk_registry *registry, const char *voice_id);
vsk_status vsk_registry_get_cpu_budget(vsk_registry *registry,
                                       vsk_cpu_budget **out_budget);
vsk_status vsk_registry_set_cpu_budget(vsk_registry *registry, float fraction_of_cores);
typedef struct vsk_switcher vsk_switcher;
#define VSK_SWITCH_FADE_MS 20
#define VSK_SWITCH_WARMUP_MS 100
typedef struct vsk_switcher_config {
    uint32_t struct_size;
    uint32_t abi_version;
    uint32_t sample_rate;
    uint32_t max_channels;
    uint32_t max_block_frames;
    uint32_t warmup_ms;
    uint32_t align_latency_frames;
    uint32_t reserved0;
    vsk_allocator allocator;
} vsk_switcher_config;
void vsk_switcher_config_init_size(vsk_switcher_config *config, uint32_t struct_size);
vsk_status vsk_switcher_create(const vsk_switcher_config *config, vsk_switcher **out_switcher);
void vsk_switcher_destroy(vsk_switcher *switcher);
vsk_status vsk_switcher_publish(vsk_switcher *switcher, vsk_voice *voice, uint64_t tag);
vsk_status vsk_switcher_collect(vsk_switcher *switcher, vsk_voice **out_voice, uint64_t *out_tag);
vsk_status vsk_switcher_retire_all(vsk_switcher *switcher);
vsk_status vsk_switcher_set_tier(vsk_switcher *switcher, uint32_t tier);
vsk_status vsk_switcher_set_mix(vsk_switcher *switcher, float wet);
vsk_status vsk_switcher_set_bypass(vsk_switcher *switcher, uint32_t bypass);
vsk_status vsk_switcher_set_cpu_budget(vsk_switcher *switcher, float fraction_of_one_core);
vsk_status vsk_switcher_process(vsk_switcher *switcher, const float *in, float *out,
                                uint32_t frames, uint32_t channels);
vsk_status vsk_switcher_reset(vsk_switcher *switcher);
typedef struct vsk_switcher_state {
    uint32_t struct_size;
    uint32_t switching;
    uint64_t tag;
    uint64_t heard_tag;
    uint32_t latency_frames;
    uint32_t errors;
    uint32_t channels;
    uint32_t reserved0;
} vsk_switcher_state;
vsk_status vsk_switcher_get_state(const vsk_switcher *switcher, vsk_switcher_state *state);
vsk_status vsk_switcher_get_tier_state(const vsk_switcher *switcher, vsk_tier_state *state);
"""

ffi = cffi.FFI()
ffi.cdef(CDEF)

_lib: Any = None
_lib_path: str | None = None
_lock = threading.Lock()

if sys.platform == "win32":
    _NAMES = ["voiceskin.dll", "libvoiceskin.dll"]
elif sys.platform == "darwin":
    _NAMES = ["libvoiceskin.dylib", "libvoiceskin.*.dylib"]
else:
    _NAMES = ["libvoiceskin.so", "libvoiceskin.so.*"]


class LibraryNotFoundError(OSError):
    """libvoiceskin could not be found or loaded."""


def _package_dirs() -> list[str]:
    dirs: list[str] = [os.path.dirname(os.path.abspath(__file__))]
    pkg = sys.modules.get(__package__ or "voiceskin")
    for d in list(getattr(pkg, "__path__", []) or []):
        d = os.path.abspath(d)
        if d not in dirs:
            dirs.append(d)
    return dirs


def _installed_dirs() -> list[str]:
    """The voiceskin package folder of the installed distribution (covers an
    editable install imported from the source tree via PYTHONPATH)."""
    try:
        from importlib.metadata import PackageNotFoundError, distribution
    except ImportError:  # pragma: no cover
        return []
    try:
        dist = distribution("voiceskin")
    except PackageNotFoundError:
        return []
    dirs: list[str] = []
    for f in dist.files or []:
        parts = f.parts
        if len(parts) == 2 and parts[0] == "voiceskin" and parts[1].startswith(
                ("libvoiceskin", "voiceskin.dll")):
            d = os.path.dirname(os.path.abspath(str(dist.locate_file(f))))
            if d not in dirs:
                dirs.append(d)
    return dirs


def candidate_paths() -> list[str]:
    """Where the library is looked for, in order (for messages and tests)."""
    env = os.environ.get("VOICESKIN_LIBRARY")
    if env:
        return [env]
    found: list[str] = []
    for d in _package_dirs() + _installed_dirs():
        for pattern in _NAMES:
            for p in sorted(glob.glob(os.path.join(d, pattern))):
                if p not in found:
                    found.append(p)
    return found


def library_path() -> str:
    """The path of the loaded (or about to be loaded) library."""
    return _lib_path if _lib_path is not None else (candidate_paths() or [""])[0]


def get_lib() -> Any:
    """Loads libvoiceskin once and returns the cffi library object."""
    global _lib, _lib_path
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is not None:
            return _lib
        paths = candidate_paths()
        if not paths:
            raise LibraryNotFoundError(
                "libvoiceskin not found: set VOICESKIN_LIBRARY=/path/to/libvoiceskin.so "
                "or install the package with `pip install -e .` (builds native/) — "
                f"looked in {', '.join(_package_dirs())}")
        errors = []
        for p in paths:
            try:
                lib = ffi.dlopen(p)
            except OSError as e:
                errors.append(f"{p}: {e}")
                continue
            abi = int(lib.vsk_abi_version())
            if abi != lib.VSK_ABI_VERSION:
                raise LibraryNotFoundError(
                    f"{p} has ABI version {abi}, this package expects "
                    f"{lib.VSK_ABI_VERSION}; rebuild it (`pip install -e .`)")
            _lib, _lib_path = lib, p
            return lib
        raise LibraryNotFoundError("libvoiceskin could not be loaded: " + "; ".join(errors))


def library_version() -> str:
    """Version string of the loaded native library, e.g. "0.1.0"."""
    return str(ffi.string(get_lib().vsk_version_string()).decode())


def encode_path(path: Any) -> bytes:
    """A filesystem path as the UTF-8 (POSIX: raw) bytes the C API expects."""
    p = os.fspath(path)
    if isinstance(p, bytes):
        return p
    if sys.platform == "win32":
        return p.encode("utf-8")
    return os.fsencode(p)
