/* Plugins that are wrong on purpose, one per value of TEST_PLUGIN (CMakeLists.txt builds
 * each as libtest_plugin_<kind>.so), for tests/tool_plugin_check.py:
 *   wrong_padding  conv2d forward whose right padding is off by one: it works out ow with
 *                  pr - 1 where pr > 0, and where that changes ow leaves y's last column
 *                  unwritten
 *   run_fails      supports every conv2d call, then run() returns an error
 *   no_entry       exports no convconf_plugin_entry
 *   abi_99         built for ABI version 99
 *   duplicate      a variant called naive, as the in-tree one is
 *   null_run       declares conv2d with a NULL run
 *   second_copy    a second library with wrong_padding's variant name
 *   bad_name       a variant called "my.kernel" (a '.' would split JUnit's classname)
 *   pool_y_only    maxpool2d forward computing y alone and leaving argmax out, as the ABI
 *                  lets it (NaN data declined: a plain max has no NaN rule)
 *   leaves_out_y   the same, but it says it left out y, which no variant may
 *   segfault       conv2d forward, right, but it dies by SIGSEGV on every problem with mb 3
 *                  (the kernel that --isolate turns into one failed check)
 *   oob_write      conv2d forward, right, then one element written just past the end of y
 *                  (caught in process by the guard regions, and isolated by convconf worker) */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "convconf_plugin.h"

#define KIND_wrong_padding 1
#define KIND_run_fails 2
#define KIND_no_entry 3
#define KIND_abi_99 4
#define KIND_duplicate 5
#define KIND_null_run 6
#define KIND_second_copy 7
#define KIND_bad_name 8
#define KIND_pool_y_only 9
#define KIND_leaves_out_y 10
#define KIND_segfault 11
#define KIND_oob_write 12
#define CAT(a, b) a##b
#define KIND(k) CAT(KIND_, k)

static double get(const convconf_tensor* t, int64_t a, int64_t b, int64_t c, int64_t d) {
    int64_t o = a * t->strides[0] + b * t->strides[1] + c * t->strides[2] + d * t->strides[3];
    return t->dtype == CONVCONF_DTYPE_F32 ? ((const float*)t->data)[o] : ((const double*)t->data)[o];
}
static void set(const convconf_tensor* t, int64_t a, int64_t b, int64_t c, int64_t d, double v) {
    int64_t o = a * t->strides[0] + b * t->strides[1] + c * t->strides[2] + d * t->strides[3];
    if (t->dtype == CONVCONF_DTYPE_F32) ((float*)t->data)[o] = (float)v;
    else ((double*)t->data)[o] = v;
}

#if KIND(TEST_PLUGIN) == KIND_pool_y_only || KIND(TEST_PLUGIN) == KIND_leaves_out_y
#define POOL 1
#else
#define POOL 0
#endif

static const char* supports(const convconf_call* call) {
    if (POOL) {
        if (call->op != CONVCONF_OP_MAXPOOL2D || call->pass != CONVCONF_PASS_FORWARD) return "maxpool2d forward only";
        if (call->nan_data) return "a plain max: no NaN rule";
        return NULL;
    }
    if (call->op != CONVCONF_OP_CONV2D || call->pass != CONVCONF_PASS_FORWARD) return "forward conv2d only";
    return NULL;
}

/* y = the max over the window's taps inside x; argmax left out (or y, for leaves_out_y). */
static int32_t pool(const convconf_call* call) {
    const convconf_problem* p = call->problem;
    const convconf_tensor* x = convconf_find_tensor(call, CONVCONF_ROLE_X);
    const convconf_tensor* y = convconf_find_tensor(call, CONVCONF_ROLE_Y);
    int64_t n, c, oh, ow, i, j;
    for (n = 0; n < p->mb; ++n)
        for (c = 0; c < p->ic; ++c)
            for (oh = 0; oh < p->oh; ++oh)
                for (ow = 0; ow < p->ow; ++ow) {
                    int found = 0;
                    double m = 0;
                    for (i = 0; i < p->kh; ++i)
                        for (j = 0; j < p->kw; ++j) {
                            int64_t ih = oh * p->sh - p->pt + i * p->dh, iw = ow * p->sw - p->pl + j * p->dw;
                            if (ih < 0 || ih >= p->ih || iw < 0 || iw >= p->iw) continue;
                            if (!found || get(x, n, c, ih, iw) > m) m = get(x, n, c, ih, iw);
                            found = 1;
                        }
                    set(y, n, c, oh, ow, m);
                }
    *call->left_out |= 1u << (KIND(TEST_PLUGIN) == KIND_leaves_out_y ? CONVCONF_ROLE_Y : CONVCONF_ROLE_ARGMAX);
    return CONVCONF_OK;
}

static int32_t run(const convconf_call* call, char* message, size_t message_size) {
    const convconf_problem* p = call->problem;
    const convconf_tensor* x = convconf_find_tensor(call, CONVCONF_ROLE_X);
    const convconf_tensor* w = convconf_find_tensor(call, CONVCONF_ROLE_W);
    const convconf_tensor* b = convconf_find_tensor(call, CONVCONF_ROLE_B);
    const convconf_tensor* y = convconf_find_tensor(call, CONVCONF_ROLE_Y);
    int64_t n, k, oh, ow, c, i, j, OW;
    if (POOL) return pool(call);
    if (KIND(TEST_PLUGIN) == KIND_run_fails) {
        snprintf(message, message_size, "deliberate failure of %s", "run_fails");
        return CONVCONF_ERROR;
    }
    /* The bug: a right padding one less than the contract's, where there is one. */
    OW = (p->iw + p->pl + (p->pr > 0 ? p->pr - 1 : 0) - p->dw * (p->kw - 1) - 1) / p->sw + 1;
    if (OW > p->ow) OW = p->ow;
    if (KIND(TEST_PLUGIN) == KIND_segfault || KIND(TEST_PLUGIN) == KIND_oob_write) OW = p->ow;
    if (KIND(TEST_PLUGIN) == KIND_segfault && p->mb == 3) raise(SIGSEGV);
    for (n = 0; n < p->mb; ++n)
        for (k = 0; k < p->oc; ++k)
            for (oh = 0; oh < p->oh; ++oh)
                for (ow = 0; ow < OW; ++ow) {
                    double sum = 0.0;
                    if (b) sum = b->dtype == CONVCONF_DTYPE_F32 ? ((const float*)b->data)[k * b->strides[0]]
                                                                 : ((const double*)b->data)[k * b->strides[0]];
                    for (c = 0; c < p->ic; ++c)
                        for (i = 0; i < p->kh; ++i)
                            for (j = 0; j < p->kw; ++j) {
                                int64_t ih = oh * p->sh - p->pt + i * p->dh, iw = ow * p->sw - p->pl + j * p->dw;
                                if (ih < 0 || ih >= p->ih || iw < 0 || iw >= p->iw) continue;
                                sum += get(x, n, c, ih, iw) * get(w, k, c, i, j);
                            }
                    set(y, n, k, oh, ow, sum);
                }
    if (KIND(TEST_PLUGIN) == KIND_oob_write) set(y, p->mb, 0, 0, 0, 7.0); /* y[mb][0][0][0]: one past the end */
    return CONVCONF_OK;
}

static const convconf_variant variants[] = {{
    sizeof(convconf_variant),
#if KIND(TEST_PLUGIN) == KIND_duplicate
    "naive",
#elif KIND(TEST_PLUGIN) == KIND_run_fails
    "run-fails",
#elif KIND(TEST_PLUGIN) == KIND_bad_name
    "my.kernel",
#elif POOL
    "pool-y-only",
#elif KIND(TEST_PLUGIN) == KIND_segfault
    "segfault",
#elif KIND(TEST_PLUGIN) == KIND_oob_write
    "oob-write",
#else
    "wrong-padding",
#endif
    "a plugin wrong on purpose (tests/plugin/test_plugins.c)",
    POOL ? 1u << CONVCONF_OP_MAXPOOL2D : 1u << CONVCONF_OP_CONV2D,
    supports,
#if KIND(TEST_PLUGIN) == KIND_null_run
    NULL,
#else
    run,
#endif
    NULL,
}};

/* pool_y_only is built as a plugin of the header before contract version 1.1 was: its
 * convconf_plugin ends before problem_size, so it knows no ceil_mode, and convconf must
 * decline ceil-mode calls for it (its supports() would not). The conv2d plugins say their
 * problem ends before groups (their loops know no groups): convconf must decline grouped
 * calls for them. */
static const convconf_plugin plugin = {
#if KIND(TEST_PLUGIN) == KIND_pool_y_only
    offsetof(convconf_plugin, problem_size),
#else
    sizeof(convconf_plugin),
#endif
#if KIND(TEST_PLUGIN) == KIND_abi_99
    99,
#else
    CONVCONF_PLUGIN_ABI_VERSION,
#endif
    1, variants,
#if POOL
    sizeof(convconf_problem)
#else
    offsetof(convconf_problem, groups)
#endif
};

#if KIND(TEST_PLUGIN) == KIND_no_entry
const convconf_plugin* convconf_plugin_entry_misspelt(void) { return &plugin; }
#else
const convconf_plugin* convconf_plugin_entry(void) { return &plugin; }
#endif
