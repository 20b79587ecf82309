// alloc_counter.hpp — a malloc interposer for the adapter tests: defined in
// the test executable, it replaces malloc & co for the whole process (the
// library included) and counts calls made while the calling thread is
// "armed" (around process() on the audio thread only, so the game thread
// may allocate freely). Left out of the ThreadSanitizer build (TSan has its
// own allocator), where VSK_NO_ALLOC_COUNTER is defined.
#pragma once

#include <atomic>
#include <cstddef>

namespace alloc_counter {
inline std::atomic<long> &calls() {
    static std::atomic<long> c{0};
    return c;
}
extern thread_local bool armed;
struct Arm {
    Arm() { armed = true; }
    ~Arm() { armed = false; }
};
}  // namespace alloc_counter

#ifndef VSK_NO_ALLOC_COUNTER
thread_local bool alloc_counter::armed = false;

extern "C" {
void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
void __libc_free(void *);
void *__libc_memalign(size_t, size_t);

#define VSK_COUNT() \
    do { \
        if (alloc_counter::armed) alloc_counter::calls().fetch_add(1, std::memory_order_relaxed); \
    } while (0)

void *malloc(size_t n) { VSK_COUNT(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { VSK_COUNT(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { VSK_COUNT(); return __libc_realloc(p, n); }
void free(void *p) {
    if (p) VSK_COUNT();
    __libc_free(p);
}
void *aligned_alloc(size_t a, size_t n) { VSK_COUNT(); return __libc_memalign(a, n); }
void *memalign(size_t a, size_t n) { VSK_COUNT(); return __libc_memalign(a, n); }
int posix_memalign(void **o, size_t a, size_t n) {
    VSK_COUNT();
    void *p = __libc_memalign(a, n);
    if (!p) return 12;
    *o = p;
    return 0;
}
}
#else
thread_local bool alloc_counter::armed = false;
#endif
