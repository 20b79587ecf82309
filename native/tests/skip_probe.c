/* skip_probe.c — a test that always skips, for the skip_rule_ci ctest:
 * with CI=true it must fail, since its reason is not in accepted_skips.txt. */
#include "vsk_skip.h"

int main(void)
{
    return vsk_test_skip("skip_probe", "probe of the skip rule");
}
