/* check.h — CHECK(cond, fmt, ...) for the C tests (voice_test_util.h
 * includes it): prints "FAIL file:line: message" and counts the failure in
 * `failures` (the test returns nonzero when it is). */
#ifndef VSK_TESTS_CHECK_H
#define VSK_TESTS_CHECK_H

#include <stdio.h>

static int failures = 0;
#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);         \
            fprintf(stderr, __VA_ARGS__);                                 \
            fputc('\n', stderr);                                          \
            ++failures;                                                   \
        }                                                                 \
    } while (0)

#endif
