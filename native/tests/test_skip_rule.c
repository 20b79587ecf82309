/* test_skip_rule.c — the rule for skipped C tests (vsk_skip.h) itself.
 *
 * Outside CI a skip is exit 77 (ctest: skipped, not passed); under CI a
 * skip fails (exit 1) unless "<name>: <reason>" is a line of the accepted
 * list. Checked against a list file written here, and the CI flag parsing.
 * (skip_probe.c + the skip_rule_ci ctest run the same path end to end with
 * CI=true in the environment.) */
#include "vsk_skip.h"

static int failures;
#define CHECK(c)                                                       \
    do {                                                               \
        if (!(c)) {                                                    \
            fprintf(stderr, "%s:%d: FAIL %s\n", __FILE__, __LINE__, #c); \
            failures++;                                                \
        }                                                              \
    } while (0)

int main(void)
{
    const char *list = VSK_TEST_BINARY_DIR "/skip_rule_list.txt";
    FILE *f = fopen(list, "w");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", list);
        return 1;
    }
    fputs("# comment: x: y\n\ntest_a: needs glibc  \ntest_b: no threads\r\n", f);
    fclose(f);

    /* not CI: every skip is 77, listed or not */
    CHECK(vsk_skip_decide(list, "test_a", "needs glibc", 0) == VSK_SKIP_CODE);
    CHECK(vsk_skip_decide(list, "test_z", "anything", 0) == VSK_SKIP_CODE);
    /* CI: listed -> 77; unlisted reason, unlisted test, partial match -> 1 */
    CHECK(vsk_skip_decide(list, "test_a", "needs glibc", 1) == VSK_SKIP_CODE);
    CHECK(vsk_skip_decide(list, "test_b", "no threads", 1) == VSK_SKIP_CODE);
    CHECK(vsk_skip_decide(list, "test_a", "no threads", 1) == 1);
    CHECK(vsk_skip_decide(list, "test_z", "needs glibc", 1) == 1);
    CHECK(vsk_skip_decide(list, "test_a", "needs", 1) == 1);
    CHECK(vsk_skip_decide(list, "x", "y", 1) == 1);              /* comment */
    CHECK(vsk_skip_decide(NULL, "test_a", "needs glibc", 1) == 1); /* no list */
    CHECK(vsk_skip_decide(VSK_TEST_BINARY_DIR "/missing.txt", "test_a",
                          "needs glibc", 1) == 1);
    /* the project's own list accepts nothing it does not justify: this
     * probe's reason must never be in it */
    CHECK(vsk_skip_decide(VSK_ACCEPTED_SKIPS, "skip_probe",
                          "probe of the skip rule", 1) == 1);

    CHECK(vsk_skip_truthy("true") && vsk_skip_truthy("TRUE") && vsk_skip_truthy("1") &&
          vsk_skip_truthy("yes") && vsk_skip_truthy("True"));
    CHECK(!vsk_skip_truthy(NULL) && !vsk_skip_truthy("") && !vsk_skip_truthy("0") &&
          !vsk_skip_truthy("false") && !vsk_skip_truthy("truex") && !vsk_skip_truthy("tru"));
    remove(list);
    if (failures) {
        fprintf(stderr, "test_skip_rule: %d failures\n", failures);
        return 1;
    }
    printf("test_skip_rule: ok\n");
    return 0;
}
