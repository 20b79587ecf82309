/* vsk_skip.h — how a C test says "skipped" honestly.
 *
 * A test that cannot run here returns vsk_test_skip(name, reason) from
 * main. Outside CI that is 77, ctest's SKIP_RETURN_CODE (set on every test
 * in native/tests/CMakeLists.txt), so ctest shows it as skipped, never as a
 * pass. Under CI (environment CI = 1/true/yes, as .ci/run runs) a skip is a
 * failure (exit 1) unless the line "<name>: <reason>" appears in the one
 * list of accepted skips, native/tests/accepted_skips.txt (its path is
 * compiled in as VSK_ACCEPTED_SKIPS). Keep that list empty or justified. */
#ifndef VSK_SKIP_H
#define VSK_SKIP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VSK_SKIP_CODE 77

/* 1 if `value` (an environment value, may be NULL) means "true". */
static int vsk_skip_truthy(const char *value)
{
    static const char *const yes[] = {"1", "true", "yes"};
    if (!value) return 0;
    for (size_t k = 0; k < sizeof yes / sizeof yes[0]; k++) {
        const char *a = value, *b = yes[k];
        while (*a && *b && (*a | 0x20) == *b) { a++; b++; }
        if (*a == '\0' && *b == '\0') return 1;
    }
    return 0;
}

/* 1 if the file at `path` has a line exactly "<name>: <reason>" (ignoring
 * trailing whitespace; lines starting with '#' are comments), else 0
 * (also when the file cannot be read). */
static int vsk_skip_is_accepted(const char *path, const char *name, const char *reason)
{
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) return 0;
    char line[1024], want[1024];
    snprintf(want, sizeof want, "%s: %s", name, reason);
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' ||
                         line[n - 1] == ' ' || line[n - 1] == '\t'))
            line[--n] = '\0';
        if (line[0] == '#' || n == 0) continue;
        found = strcmp(line, want) == 0;
    }
    fclose(f);
    return found;
}

/* The exit code for a skip: VSK_SKIP_CODE, or 1 when `ci` and the skip is
 * not accepted in the list at `accepted_path`. Prints why. */
static int vsk_skip_decide(const char *accepted_path, const char *name,
                           const char *reason, int ci)
{
    printf("%s: SKIPPED: %s\n", name, reason);
    if (!ci) return VSK_SKIP_CODE;
    if (vsk_skip_is_accepted(accepted_path, name, reason)) {
        printf("%s: skip accepted under CI by %s\n", name, accepted_path);
        return VSK_SKIP_CODE;
    }
    fprintf(stderr,
            "%s: FAIL: skipped under CI, and \"%s: %s\" is not listed in %s\n",
            name, name, reason, accepted_path ? accepted_path : "(no list)");
    return 1;
}

#ifndef VSK_ACCEPTED_SKIPS
#define VSK_ACCEPTED_SKIPS NULL
#endif

/* Return this from main: `return vsk_test_skip("test_x", "needs glibc");` */
static int vsk_test_skip(const char *name, const char *reason)
{
    return vsk_skip_decide(VSK_ACCEPTED_SKIPS, name, reason,
                           vsk_skip_truthy(getenv("CI")));
}

#endif /* VSK_SKIP_H */
