/* mine.c: a convconf plugin to start from. conv2d's three passes in direct loops, f32
 * only, any layout (the strides locate every element), with bias and its gradient, and
 * groups: output channel k sees input channels g*icg .. g*icg + icg-1 of its group
 * g = k / ocg, where icg = ic/groups (w's second extent) and ocg = oc/groups.
 *
 * Build it with nothing but the header and test it:
 *   cc -shared -fPIC -I<convconf>/impl/plugin mine.c -o libmine.so
 *   convconf run --plugin ./libmine.so --variant mine
 *
 * What to change for your kernel: run() below calls your code; supports() says which calls
 * it takes. Everything else is the ABI's bookkeeping. */
#include <stdio.h>

#include "convconf_plugin.h"

/* Element (a0, a1, a2, a3) of a 4-D tensor, element i of a 1-D one. */
static float* at4(const convconf_tensor* t, int64_t a0, int64_t a1, int64_t a2, int64_t a3) {
    return (float*)t->data + a0 * t->strides[0] + a1 * t->strides[1] + a2 * t->strides[2] + a3 * t->strides[3];
}
static float* at1(const convconf_tensor* t, int64_t i) { return (float*)t->data + i * t->strides[0]; }

/* The input row and column of output (oh, ow) at tap (i, j); -1 in the padding. */
static int64_t input_row(const convconf_problem* p, int64_t oh, int64_t i) {
    int64_t ih = oh * p->sh - p->pt + i * p->dh;
    return ih >= 0 && ih < p->ih ? ih : -1;
}
static int64_t input_col(const convconf_problem* p, int64_t ow, int64_t j) {
    int64_t iw = ow * p->sw - p->pl + j * p->dw;
    return iw >= 0 && iw < p->iw ? iw : -1;
}

/* The first input channel of output channel k's group, and the channels a group has. */
static int64_t group_first_ic(const convconf_problem* p, int64_t k) {
    return k / (p->oc / p->groups) * (p->ic / p->groups);
}
static int64_t icg(const convconf_problem* p) { return p->ic / p->groups; }

/* y = conv(x, w) + b */
static void forward(const convconf_problem* p, const convconf_tensor* x, const convconf_tensor* w,
                    const convconf_tensor* b, const convconf_tensor* y) {
    int64_t n, k, oh, ow, c, i, j;
    for (n = 0; n < p->mb; ++n)
        for (k = 0; k < p->oc; ++k)
            for (oh = 0; oh < p->oh; ++oh)
                for (ow = 0; ow < p->ow; ++ow) {
                    double sum = b ? *at1(b, k) : 0.0;
                    for (c = 0; c < icg(p); ++c)
                        for (i = 0; i < p->kh; ++i)
                            for (j = 0; j < p->kw; ++j) {
                                int64_t ih = input_row(p, oh, i), iw = input_col(p, ow, j);
                                if (ih < 0 || iw < 0) continue;
                                sum += (double)*at4(x, n, group_first_ic(p, k) + c, ih, iw) * *at4(w, k, c, i, j);
                            }
                    *at4(y, n, k, oh, ow) = (float)sum;
                }
}

/* dx = the transpose of forward applied to dy */
static void backward_data(const convconf_problem* p, const convconf_tensor* w, const convconf_tensor* dy,
                          const convconf_tensor* dx) {
    int64_t n, k, oh, ow, c, i, j, h, v;
    for (n = 0; n < p->mb; ++n)
        for (c = 0; c < p->ic; ++c)
            for (h = 0; h < p->ih; ++h)
                for (v = 0; v < p->iw; ++v) *at4(dx, n, c, h, v) = 0.0f;
    for (n = 0; n < p->mb; ++n)
        for (k = 0; k < p->oc; ++k)
            for (oh = 0; oh < p->oh; ++oh)
                for (ow = 0; ow < p->ow; ++ow)
                    for (c = 0; c < icg(p); ++c)
                        for (i = 0; i < p->kh; ++i)
                            for (j = 0; j < p->kw; ++j) {
                                int64_t ih = input_row(p, oh, i), iw = input_col(p, ow, j);
                                if (ih < 0 || iw < 0) continue;
                                *at4(dx, n, group_first_ic(p, k) + c, ih, iw) +=
                                    *at4(dy, n, k, oh, ow) * *at4(w, k, c, i, j);
                            }
}

/* dw = sum over images and outputs of dy * x; db = sum of dy */
static void backward_weights(const convconf_problem* p, const convconf_tensor* x, const convconf_tensor* dy,
                             const convconf_tensor* dw, const convconf_tensor* db) {
    int64_t n, k, oh, ow, c, i, j;
    for (k = 0; k < p->oc; ++k) {
        for (c = 0; c < icg(p); ++c)
            for (i = 0; i < p->kh; ++i)
                for (j = 0; j < p->kw; ++j) {
                    double sum = 0.0;
                    for (n = 0; n < p->mb; ++n)
                        for (oh = 0; oh < p->oh; ++oh)
                            for (ow = 0; ow < p->ow; ++ow) {
                                int64_t ih = input_row(p, oh, i), iw = input_col(p, ow, j);
                                if (ih < 0 || iw < 0) continue;
                                sum += (double)*at4(dy, n, k, oh, ow) * *at4(x, n, group_first_ic(p, k) + c, ih, iw);
                            }
                    *at4(dw, k, c, i, j) = (float)sum;
                }
        if (db) {
            double sum = 0.0;
            for (n = 0; n < p->mb; ++n)
                for (oh = 0; oh < p->oh; ++oh)
                    for (ow = 0; ow < p->ow; ++ow) sum += *at4(dy, n, k, oh, ow);
            *at1(db, k) = (float)sum;
        }
    }
}

static const char* supports(const convconf_call* call) {
    /* A convconf whose structs are smaller than this header's lacks fields this plugin reads. */
    if (call->struct_size < sizeof(convconf_call) || call->problem->struct_size < sizeof(convconf_problem))
        return "a convconf older than the header mine was built with";
    if (call->op != CONVCONF_OP_CONV2D) return "mine has conv2d only";
    if (call->pass != CONVCONF_PASS_FORWARD && call->pass != CONVCONF_PASS_BACKWARD_DATA &&
        call->pass != CONVCONF_PASS_BACKWARD_WEIGHTS)
        return "a pass mine does not know";
    if (call->dtype != CONVCONF_DTYPE_F32) return "mine computes in f32 only";
    return NULL;
}

static int32_t run(const convconf_call* call, char* message, size_t message_size) {
    const convconf_problem* p = call->problem;
    const convconf_tensor* x = convconf_find_tensor(call, CONVCONF_ROLE_X);
    const convconf_tensor* w = convconf_find_tensor(call, CONVCONF_ROLE_W);
    const convconf_tensor* dy = convconf_find_tensor(call, CONVCONF_ROLE_DY);
    if (supports(call) != NULL) {
        snprintf(message, message_size, "mine: asked to run a call it does not support");
        return CONVCONF_ERROR;
    }
    switch (call->pass) {
        case CONVCONF_PASS_FORWARD:
            forward(p, x, w, convconf_find_tensor(call, CONVCONF_ROLE_B), convconf_find_tensor(call, CONVCONF_ROLE_Y));
            break;
        case CONVCONF_PASS_BACKWARD_DATA: backward_data(p, w, dy, convconf_find_tensor(call, CONVCONF_ROLE_DX)); break;
        default:
            backward_weights(p, x, dy, convconf_find_tensor(call, CONVCONF_ROLE_DW),
                             convconf_find_tensor(call, CONVCONF_ROLE_DB));
    }
    return CONVCONF_OK;
}

static const convconf_variant variants[] = {{
    sizeof(convconf_variant),
    "mine",
    "conv2d in direct loops, f32, accumulating in double (impl/plugin/example/mine.c)",
    1u << CONVCONF_OP_CONV2D,
    supports,
    run,
    NULL, /* no scratch memory */
}};

static const convconf_plugin plugin = {sizeof(convconf_plugin), CONVCONF_PLUGIN_ABI_VERSION, 1, variants,
                                       sizeof(convconf_problem)};

const convconf_plugin* convconf_plugin_entry(void) { return &plugin; }
