/* status.c — library version and status descriptions (static strings). */
#include "voiceskin.h"

#define VSK_STR2(x) #x
#define VSK_STR(x) VSK_STR2(x)

uint32_t vsk_version(void)
{
    return ((uint32_t)VSK_VERSION_MAJOR << 16) |
           ((uint32_t)VSK_VERSION_MINOR << 8) | (uint32_t)VSK_VERSION_PATCH;
}

const char *vsk_version_string(void)
{
    return VSK_STR(VSK_VERSION_MAJOR) "." VSK_STR(VSK_VERSION_MINOR) "."
           VSK_STR(VSK_VERSION_PATCH);
}

uint32_t vsk_abi_version(void)
{
    return VSK_ABI_VERSION;
}

typedef struct vsk_status_entry {
    vsk_status status;
    const char *name;
    const char *text;
} vsk_status_entry;

static const vsk_status_entry vsk_status_table[] = {
    {VSK_OK, "VSK_OK", "success"},
    {VSK_ERR_INVALID_ARGUMENT, "VSK_ERR_INVALID_ARGUMENT",
     "invalid argument (NULL pointer or value out of range)"},
    {VSK_ERR_NO_MEMORY, "VSK_ERR_NO_MEMORY", "out of memory"},
    {VSK_ERR_IO, "VSK_ERR_IO", "file could not be opened or read"},
    {VSK_ERR_BAD_MAGIC, "VSK_ERR_BAD_MAGIC", "not a .vskin bundle (wrong magic)"},
    {VSK_ERR_UNSUPPORTED_VERSION, "VSK_ERR_UNSUPPORTED_VERSION",
     "unsupported .vskin format version or flags"},
    {VSK_ERR_TRUNCATED, "VSK_ERR_TRUNCATED",
     "bundle is truncated (shorter than it declares)"},
    {VSK_ERR_CHECKSUM, "VSK_ERR_CHECKSUM",
     "bundle checksum mismatch (file damaged)"},
    {VSK_ERR_CORRUPT, "VSK_ERR_CORRUPT", "bundle structure is invalid"},
    {VSK_ERR_TOO_LARGE, "VSK_ERR_TOO_LARGE", "exceeds a documented size limit"},
    {VSK_ERR_UNSUPPORTED_OP, "VSK_ERR_UNSUPPORTED_OP",
     "bundle uses an op this library build does not support"},
    {VSK_ERR_ABI_MISMATCH, "VSK_ERR_ABI_MISMATCH",
     "struct_size or abi_version does not match this library"},
    {VSK_ERR_UNSUPPORTED_RATE, "VSK_ERR_UNSUPPORTED_RATE",
     "sample rate outside 8000..192000 Hz"},
    {VSK_ERR_NOT_FOUND, "VSK_ERR_NOT_FOUND", "no such voice, tier or index"},
    {VSK_ERR_DUPLICATE, "VSK_ERR_DUPLICATE",
     "registry already holds this voice at the same or a newer version"},
    {VSK_ERR_BUFFER_TOO_SMALL, "VSK_ERR_BUFFER_TOO_SMALL",
     "caller-provided memory is smaller than needed"},
    {VSK_ERR_BAD_STATE, "VSK_ERR_BAD_STATE",
     "call is not valid in the object's current state"},
    {VSK_ERR_STRUCT_TOO_NEW, "VSK_ERR_STRUCT_TOO_NEW",
     "struct_size is larger than this library's struct (built against a "
     "newer header)"},
    {VSK_ERR_TOO_COSTLY, "VSK_ERR_TOO_COSTLY",
     "a tier's worst-case cost exceeds the configured limit "
     "(max_cost_per_second)"},
};

static const vsk_status_entry *vsk_status_find(vsk_status status)
{
    size_t i;
    for (i = 0; i < sizeof vsk_status_table / sizeof vsk_status_table[0]; i++)
        if (vsk_status_table[i].status == status)
            return &vsk_status_table[i];
    return NULL;
}

const char *vsk_status_name(vsk_status status)
{
    const vsk_status_entry *e = vsk_status_find(status);
    return e ? e->name : "VSK_ERR_UNKNOWN";
}

const char *vsk_status_string(vsk_status status)
{
    const vsk_status_entry *e = vsk_status_find(status);
    return e ? e->text : "unknown status code";
}
