/* registry.c — the plugin registry: a list of bundles, one per voice ID.
 *
 * Duplicate rule (voiceskin.h): adding a bundle whose voice ID is present
 * keeps the higher semantic version; the newer bundle replaces the older in
 * place (same index), an older or equal one is refused with
 * VSK_ERR_DUPLICATE and nothing changes. */
#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L /* opendir / readdir / stat */
#endif

#include <stdlib.h>
#include <string.h>

#include "abi.h"
#include "bundle.h"
#include "voiceskin.h"

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#else
#include <dirent.h>
#include <sys/stat.h>
#endif

#define VSK_REGISTRY_DEFAULT_MAX 256u

struct vsk_registry {
    uint32_t max_voices;
    uint32_t count;
    uint32_t capacity;
    vsk_bundle **items;
    uint64_t max_cost;              /* per tier, operations per second */
    vsk_allocator allocator;        /* the registry struct and `items` */
    vsk_log_fn log;
    void *log_user;
    vsk_cpu_budget *budget;         /* shared by voices the game makes */
};

#define VSK_FIELD_END(T, f) (offsetof(T, f) + sizeof(((T *)0)->f))
static const size_t registry_config_ends[] = {
    VSK_FIELD_END(vsk_registry_config, reserved0),
    VSK_FIELD_END(vsk_registry_config, max_cost_per_second),
    VSK_FIELD_END(vsk_registry_config, allocator),
    VSK_FIELD_END(vsk_registry_config, log),
    VSK_FIELD_END(vsk_registry_config, log_user),
};

void vsk_registry_config_init_size(vsk_registry_config *config,
                                   uint32_t struct_size)
{
    vsk_registry_config d;
    const uint32_t n = vsk_config_init(config, &d, sizeof d, struct_size);
    if (!n)
        return;
    d.max_voices = 0;
    d.max_cost_per_second = VSK_DEFAULT_MAX_COST_PER_SECOND;
    memcpy(config, &d, n);
}

void(vsk_registry_config_init)(vsk_registry_config *config)
{
    vsk_registry_config_init_size(config,
                                  (uint32_t)VSK_REGISTRY_CONFIG_MIN_SIZE);
}

vsk_status vsk_registry_create(const vsk_registry_config *config,
                               vsk_registry **out_registry)
{
    vsk_registry *r;
    vsk_registry_config c;
    vsk_status st;
    if (!config || !out_registry)
        return VSK_ERR_INVALID_ARGUMENT;
    if ((st = vsk_config_load(config, config->struct_size, config->abi_version,
                              VSK_REGISTRY_CONFIG_MIN_SIZE, registry_config_ends,
                              sizeof registry_config_ends / sizeof registry_config_ends[0],
                              &c, sizeof c)) != VSK_OK)
        return st;
    if (c.reserved0 != 0 || vsk_allocator_check(&c.allocator) != VSK_OK)
        return VSK_ERR_INVALID_ARGUMENT;
    r = (vsk_registry *)vsk_mem_alloc(&c.allocator, sizeof *r, 16);
    if (!r)
        return VSK_ERR_NO_MEMORY;
    memset(r, 0, sizeof *r);
    r->max_voices = c.max_voices ? c.max_voices : VSK_REGISTRY_DEFAULT_MAX;
    r->max_cost = c.max_cost_per_second ? c.max_cost_per_second
                                        : VSK_DEFAULT_MAX_COST_PER_SECOND;
    r->allocator = c.allocator;
    r->log = c.log;
    r->log_user = c.log_user;
    if ((st = vsk_cpu_budget_create(0.0f, &r->allocator, &r->budget)) != VSK_OK) {
        vsk_mem_free(&r->allocator, r, sizeof *r);
        return st;
    }
    *out_registry = r;
    return VSK_OK;
}

void vsk_registry_destroy(vsk_registry *registry)
{
    uint32_t i;
    if (!registry)
        return;
    const vsk_allocator a = registry->allocator;
    for (i = 0; i < registry->count; i++)
        vsk_bundle_release(registry->items[i]);
    vsk_mem_free(&a, registry->items,
                 (size_t)registry->capacity * sizeof *registry->items);
    vsk_cpu_budget_destroy(registry->budget);
    vsk_mem_free(&a, registry, sizeof *registry);
}

vsk_status vsk_registry_get_cpu_budget(vsk_registry *registry,
                                       vsk_cpu_budget **out_budget)
{
    if (!registry || !out_budget)
        return VSK_ERR_INVALID_ARGUMENT;
    *out_budget = registry->budget;
    return VSK_OK;
}

vsk_status vsk_registry_set_cpu_budget(vsk_registry *registry, float fraction)
{
    if (!registry)
        return VSK_ERR_INVALID_ARGUMENT;
    return vsk_cpu_budget_set(registry->budget, fraction);
}

static int version_cmp(const vsk_bundle *a, const vsk_bundle *b)
{
    if (a->version_major != b->version_major)
        return a->version_major < b->version_major ? -1 : 1;
    if (a->version_minor != b->version_minor)
        return a->version_minor < b->version_minor ? -1 : 1;
    if (a->version_patch != b->version_patch)
        return a->version_patch < b->version_patch ? -1 : 1;
    return 0;
}

static int find_id(const vsk_registry *r, const char *voice_id,
                   uint32_t *out_index)
{
    uint32_t i;
    for (i = 0; i < r->count; i++) {
        if (strcmp(r->items[i]->voice_id, voice_id) == 0) {
            *out_index = i;
            return 1;
        }
    }
    return 0;
}

vsk_status vsk_registry_add_bundle(vsk_registry *registry, vsk_bundle *bundle,
                                   uint32_t *out_index)
{
    uint32_t idx;
    vsk_status st;
    if (!registry || !bundle)
        return VSK_ERR_INVALID_ARGUMENT;
    if ((st = vsk_bundle_check_cost(bundle, registry->max_cost, registry->log,
                                    registry->log_user, "vsk_registry_add")) !=
        VSK_OK)
        return st;
    if (find_id(registry, bundle->voice_id, &idx)) {
        vsk_bundle *old = registry->items[idx];
        if (old == bundle || version_cmp(bundle, old) <= 0)
            return VSK_ERR_DUPLICATE;
        vsk_bundle_retain(bundle);
        registry->items[idx] = bundle;
        vsk_bundle_release(old);
    } else {
        if (registry->count >= registry->max_voices)
            return VSK_ERR_TOO_LARGE;
        if (registry->count == registry->capacity) {
            uint32_t cap = registry->capacity ? registry->capacity * 2u : 8u;
            vsk_bundle **items;
            if (cap > registry->max_voices)
                cap = registry->max_voices;
            items = (vsk_bundle **)vsk_mem_alloc(&registry->allocator,
                                                 (size_t)cap * sizeof *items,
                                                 sizeof(void *));
            if (!items)
                return VSK_ERR_NO_MEMORY;
            if (registry->count)
                memcpy(items, registry->items,
                       (size_t)registry->count * sizeof *items);
            vsk_mem_free(&registry->allocator, registry->items,
                         (size_t)registry->capacity * sizeof *items);
            registry->items = items;
            registry->capacity = cap;
        }
        vsk_bundle_retain(bundle);
        idx = registry->count++;
        registry->items[idx] = bundle;
    }
    if (out_index)
        *out_index = idx;
    return VSK_OK;
}

/* Adds a freshly opened bundle and drops the opener's reference (the
 * registry keeps its own on success). */
static vsk_status add_opened(vsk_registry *registry, vsk_bundle *bundle,
                             uint32_t *out_index)
{
    vsk_status st = vsk_registry_add_bundle(registry, bundle, out_index);
    vsk_bundle_release(bundle);
    return st;
}

vsk_status vsk_registry_add_file(vsk_registry *registry, const char *path,
                                 uint32_t *out_index)
{
    vsk_bundle *b;
    vsk_status st;
    if (!registry || !path)
        return VSK_ERR_INVALID_ARGUMENT;
    if ((st = vsk_bundle_open_file_a(path, &registry->allocator, &b)) !=
        VSK_OK)
        return st;
    return add_opened(registry, b, out_index);
}

vsk_status vsk_registry_add_memory(vsk_registry *registry, const void *data,
                                   size_t size, uint32_t *out_index)
{
    vsk_bundle *b;
    vsk_status st;
    if (!registry || !data)
        return VSK_ERR_INVALID_ARGUMENT;
    if ((st = vsk_bundle_open_memory_a(data, size, &registry->allocator,
                                       &b)) != VSK_OK)
        return st;
    return add_opened(registry, b, out_index);
}

/* ---------------------------------------------------------- folder scan */

typedef struct name_list {
    char **names;
    size_t count, capacity;
} name_list;

static void names_free(name_list *l)
{
    size_t i;
    for (i = 0; i < l->count; i++)
        free(l->names[i]);
    free(l->names);
}

static int names_push(name_list *l, const char *name)
{
    size_t n = strlen(name);
    char *copy;
    if (l->count == l->capacity) {
        size_t cap = l->capacity ? l->capacity * 2 : 16;
        char **names = (char **)realloc(l->names, cap * sizeof *names);
        if (!names)
            return 0;
        l->names = names;
        l->capacity = cap;
    }
    copy = (char *)malloc(n + 1);
    if (!copy)
        return 0;
    memcpy(copy, name, n + 1);
    l->names[l->count++] = copy;
    return 1;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "*.vskin" as a shell glob matches it: not hidden, something before the
 * extension. */
static int is_bundle_name(const char *name)
{
    size_t n = strlen(name);
    return n > 6 && name[0] != '.' && strcmp(name + n - 6, ".vskin") == 0;
}

static char *join_path(const char *folder, const char *name)
{
    size_t a = strlen(folder), b = strlen(name);
    int sep = a > 0 && folder[a - 1] != '/'
#ifdef _WIN32
              && folder[a - 1] != '\\'
#endif
        ;
    char *p = (char *)malloc(a + (size_t)sep + b + 1);
    if (!p)
        return NULL;
    memcpy(p, folder, a);
    if (sep)
        p[a] = '/';
    memcpy(p + a + (size_t)sep, name, b + 1);
    return p;
}

/* Collects the names of regular *.vskin files in `folder` (unsorted). */
static vsk_status list_folder(const char *folder, name_list *out)
{
#ifdef _WIN32
    /* UTF-8 in, UTF-16 to the OS, UTF-8 names back. All entries are listed
     * ("*") and filtered here: wildcard matching on Windows also looks at
     * 8.3 short names. */
    WIN32_FIND_DATAW fd;
    HANDLE h;
    wchar_t *wpattern;
    char *pattern = join_path(folder, "*");
    int n;
    if (!pattern)
        return VSK_ERR_NO_MEMORY;
    n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, pattern, -1, NULL, 0);
    if (n <= 0) {
        free(pattern);
        return VSK_ERR_IO;
    }
    wpattern = (wchar_t *)malloc((size_t)n * sizeof *wpattern);
    if (!wpattern) {
        free(pattern);
        return VSK_ERR_NO_MEMORY;
    }
    MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, pattern, -1, wpattern, n);
    free(pattern);
    h = FindFirstFileW(wpattern, &fd);
    free(wpattern);
    if (h == INVALID_HANDLE_VALUE)
        return GetLastError() == ERROR_FILE_NOT_FOUND ? VSK_OK : VSK_ERR_IO;
    do {
        char name[MAX_PATH * 4];
        if (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)
            continue;
        if (WideCharToMultiByte(CP_UTF8, 0, fd.cFileName, -1, name,
                                (int)sizeof name, NULL, NULL) <= 0)
            continue;
        if (is_bundle_name(name) && !names_push(out, name)) {
            FindClose(h);
            return VSK_ERR_NO_MEMORY;
        }
    } while (FindNextFileW(h, &fd));
    FindClose(h);
    return VSK_OK;
#else
    DIR *dir = opendir(folder);
    struct dirent *e;
    if (!dir)
        return VSK_ERR_IO;
    while ((e = readdir(dir)) != NULL) {
        struct stat sb;
        char *path;
        int regular;
        if (!is_bundle_name(e->d_name))
            continue;
        path = join_path(folder, e->d_name);
        if (!path) {
            closedir(dir);
            return VSK_ERR_NO_MEMORY;
        }
        /* stat follows symlinks: a link to a regular file counts. */
        regular = stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
        free(path);
        if (regular && !names_push(out, e->d_name)) {
            closedir(dir);
            return VSK_ERR_NO_MEMORY;
        }
    }
    closedir(dir);
    return VSK_OK;
#endif
}

vsk_status vsk_registry_scan_folder(vsk_registry *registry, const char *folder,
                                    uint32_t *out_added, uint32_t *out_skipped)
{
    name_list list = {NULL, 0, 0};
    uint32_t added = 0, skipped = 0;
    size_t i;
    vsk_status st;

    if (!registry || !folder)
        return VSK_ERR_INVALID_ARGUMENT;
    if ((st = list_folder(folder, &list)) != VSK_OK) {
        names_free(&list);
        return st;
    }
    if (list.count > 1)
        qsort(list.names, list.count, sizeof *list.names, name_cmp);
    for (i = 0; i < list.count; i++) {
        char *path = join_path(folder, list.names[i]);
        if (!path) {
            names_free(&list);
            return VSK_ERR_NO_MEMORY;
        }
        st = vsk_registry_add_file(registry, path, NULL);
        free(path);
        if (st == VSK_OK)
            added++;
        else
            skipped++;
    }
    names_free(&list);
    if (out_added)
        *out_added = added;
    if (out_skipped)
        *out_skipped = skipped;
    return VSK_OK;
}

vsk_status vsk_registry_count(const vsk_registry *registry, uint32_t *out_count)
{
    if (!registry || !out_count)
        return VSK_ERR_INVALID_ARGUMENT;
    *out_count = registry->count;
    return VSK_OK;
}

vsk_status vsk_registry_get(const vsk_registry *registry, uint32_t index,
                            vsk_bundle **out_bundle)
{
    if (!registry || !out_bundle)
        return VSK_ERR_INVALID_ARGUMENT;
    if (index >= registry->count)
        return VSK_ERR_NOT_FOUND;
    *out_bundle = registry->items[index];
    return VSK_OK;
}

vsk_status vsk_registry_remove(vsk_registry *registry, const char *voice_id)
{
    uint32_t idx;
    if (!registry || !voice_id)
        return VSK_ERR_INVALID_ARGUMENT;
    if (!find_id(registry, voice_id, &idx))
        return VSK_ERR_NOT_FOUND;
    vsk_bundle *old = registry->items[idx];
    memmove(registry->items + idx, registry->items + idx + 1,
            (size_t)(registry->count - idx - 1) * sizeof *registry->items);
    registry->count--;
    vsk_bundle_release(old);
    return VSK_OK;
}

vsk_status vsk_registry_find(const vsk_registry *registry, const char *voice_id,
                             uint32_t *out_index)
{
    uint32_t idx;
    if (!registry || !voice_id || !out_index)
        return VSK_ERR_INVALID_ARGUMENT;
    if (!find_id(registry, voice_id, &idx))
        return VSK_ERR_NOT_FOUND;
    *out_index = idx;
    return VSK_OK;
}
