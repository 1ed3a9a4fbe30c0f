/* convconf_plugin.h: the C ABI through which convconf tests an implementation it was not
 * built with. A plugin is a shared library that exports one function,
 *
 *     const convconf_plugin* convconf_plugin_entry(void);
 *
 * returning a table of one or more variants. convconf loads it with --plugin PATH (or the
 * colon-separated CONVCONF_PLUGINS) and puts each variant through everything an in-tree
 * variant goes through: golden cases, the named table, the sweep, the property tests and
 * bench. The semantics every call is held to are the golden-file contract
 * (golden-format.md in the convconf sources); docs/plugins.md walks through this header.
 *
 * C99; includes only <stdint.h> and <stddef.h>; compiles as C and as C++. Build a plugin
 * with nothing but this header:  cc -shared -fPIC -I<convconf>/impl/plugin mine.c -o libmine.so
 *
 * Versioning. CONVCONF_PLUGIN_ABI_VERSION changes when a field changes meaning or moves, and
 * when convconf_tensor or convconf_variant grows (both come in arrays, stepped through by
 * their size). Other structs grow only at their ends without a new version: each starts with
 * struct_size, its size in bytes as its writer compiled it, so each side reads only the
 * fields the other wrote. New ops, passes and problem fields reach an old plugin as calls
 * whose op or field it does not know: its supports() declines them (return a reason for
 * any op, pass, dtype, layout or nonzero field it does not recognise), and the ABI stays.
 *
 * Ownership. convconf owns every buffer. Inputs are read only: a kernel that writes into
 * one fails its check (INPUT CHANGED). Outputs arrive filled with a poison (a NaN; INT64_MIN
 * for argmax) and surrounded by guard regions that must stay untouched: a kernel writes
 * every element of every output (accumulating kernels zero their outputs first) and nothing
 * else. A plugin never allocates or frees what convconf passes; scratch memory is its own.
 *
 * Threads. convconf may call a plugin from several threads at once, each with its own
 * call and tensors. A plugin may use threads of its own inside run().
 */
#ifndef CONVCONF_PLUGIN_H
#define CONVCONF_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CONVCONF_PLUGIN_ABI_VERSION 1
/* The name of the one exported function. */
#define CONVCONF_PLUGIN_ENTRY "convconf_plugin_entry"

/* Enumerations are int32_t fields (an enum's size is the compiler's choice). */

/* op: the operator, as the contract names it. */
#define CONVCONF_OP_CONV2D 0
#define CONVCONF_OP_MAXPOOL2D 1
#define CONVCONF_OP_IM2COL 2
#define CONVCONF_OP_COL2IM 3
#define CONVCONF_OP_AVGPOOL2D 4      /* contract version 1.1 */

/* pass: conv2d has forward, backward_data and backward_weights; maxpool2d and avgpool2d
 * forward and backward; im2col and col2im forward only. */
#define CONVCONF_PASS_FORWARD 0
#define CONVCONF_PASS_BACKWARD_DATA 1
#define CONVCONF_PASS_BACKWARD_WEIGHTS 2
#define CONVCONF_PASS_BACKWARD 3

/* dtype: of the call's floating-point tensors (argmax is always S64). */
#define CONVCONF_DTYPE_F32 0
#define CONVCONF_DTYPE_F64 1
#define CONVCONF_DTYPE_S64 2

/* layout: how a tensor is stored, outermost axis first. Informational: strides are what
 * locate an element. PLAIN is b, db ([oc]) and col ([rows, cols]), row-major. */
#define CONVCONF_LAYOUT_PLAIN 0
#define CONVCONF_LAYOUT_NCHW 1
#define CONVCONF_LAYOUT_NHWC 2
#define CONVCONF_LAYOUT_OIHW 3
#define CONVCONF_LAYOUT_HWIO 4

/* pool_alg: what a pooling window computes (benchdnn's --alg). avgpool2d divides the sum of
 * a window's taps inside x by the number of its taps inside the padded input (AVG_P, the
 * contract's count_include_pad true) or inside x (AVG_NP). */
#define CONVCONF_POOL_MAX 0
#define CONVCONF_POOL_AVG_P 1
#define CONVCONF_POOL_AVG_NP 2

/* role: a tensor's part in a call, by its name in the contract.
 *   conv2d forward           reads x, w and (FWD_B) b; writes y
 *   conv2d backward_data     reads w, dy; writes dx
 *   conv2d backward_weights  reads x, dy; writes dw and (BWD_WB) db
 *   maxpool2d forward        reads x; writes y and argmax (window-local index i*kw + j of
 *                            the element chosen, the first in row-major window order on ties)
 *   maxpool2d backward       reads x, dy; writes dx (each dy to the element forward chose)
 *   avgpool2d forward        reads x; writes y
 *   avgpool2d backward       reads dy; writes dx (dy / divisor to every tap inside x)
 *   im2col                   reads x; writes col
 *   col2im                   reads col; writes x (the sum of every column entry it came from) */
#define CONVCONF_ROLE_X 0
#define CONVCONF_ROLE_W 1
#define CONVCONF_ROLE_B 2
#define CONVCONF_ROLE_Y 3
#define CONVCONF_ROLE_DY 4
#define CONVCONF_ROLE_DX 5
#define CONVCONF_ROLE_DW 6
#define CONVCONF_ROLE_DB 7
#define CONVCONF_ROLE_ARGMAX 8
#define CONVCONF_ROLE_COL 9

/* The problem: every field of the contract's descriptor, in elements.
 * Output size: oh = floor((ih + pt + pb - dh*(kh-1) - 1) / sh) + 1, ow likewise; with
 * ceil_mode the division rounds up, then oh -= 1 where (oh-1)*sh >= ih + pt. Taps beyond the
 * padded input (ceil mode's last window) are padding that is never counted. */
typedef struct convconf_problem {
    uint32_t struct_size;        /* sizeof(convconf_problem) as the writer compiled it */
    int64_t mb, ic, oc;          /* minibatch, input channels, and output channels: conv2d's
                                    oc; 1 for the other ops */
    int64_t ih, iw, oh, ow;      /* input and output height and width */
    int64_t kh, kw;              /* kernel (window) height and width */
    int64_t sh, sw;              /* stride */
    int64_t pt, pl, pb, pr;      /* padding top, left, bottom, right: zeros for conv2d and
                                    im2col, -infinity (never chosen) for maxpool2d */
    int64_t dh, dw;              /* dilation: the distance between taps, 1 = dense
                                    (PyTorch's and ONNX's convention, not oneDNN's) */
    int32_t layout;              /* activations' layout: NCHW or NHWC */
    int32_t weights_layout;      /* w's and dw's layout: OIHW or HWIO */
    int32_t pool_alg;            /* maxpool2d: CONVCONF_POOL_MAX; avgpool2d: _AVG_P or _AVG_NP;
                                    0 for the others */
    int32_t reserved;            /* 0 */
    /* Added with contract version 1.1. convconf sends a call with ceil_mode set only to a
     * plugin whose convconf_plugin.problem_size says it has this field. */
    int32_t ceil_mode;           /* maxpool2d, avgpool2d: 1 rounds the output size up; else 0 */
    int32_t reserved2;           /* 0 */
    /* Added with contract version 1.1, after ceil_mode. convconf sends a call with groups
     * other than 1 only to a plugin whose convconf_plugin.problem_size says it has this
     * field. */
    int64_t groups;              /* conv2d: ic and oc split into this many independent
                                    groups (ic/groups input channels each: w's i extent);
                                    1 for every other op */
} convconf_problem;

/* One tensor, as DLPack describes one: a pointer, logical extents and strides.
 * Axes are always logical, whatever the layout: (n, c, h, w) for x y dx dy argmax,
 * (o, i, h, w) for w dw, (oc) for b db, (rows, cols) for col, where
 * rows = mb*oh*ow (n outermost, then oh, then ow) and cols = ic*kh*kw (c outermost).
 * The element at logical index (a0, a1, ...) is data[a0*strides[0] + a1*strides[1] + ...]. */
typedef struct convconf_tensor {
    uint32_t struct_size;        /* sizeof(convconf_tensor) as the writer compiled it */
    int32_t role;                /* CONVCONF_ROLE_* */
    int32_t dtype;               /* CONVCONF_DTYPE_*: the call's dtype; S64 for argmax */
    int32_t layout;              /* CONVCONF_LAYOUT_* */
    int32_t ndim;                /* 4, 1 (b, db) or 2 (col); entries beyond it are 0 */
    int32_t optional;            /* 1: an output the variant may leave out (maxpool2d's
                                    argmax; benchdnn's forward_inference has none), saying so
                                    in the call's left_out; else 0 */
    void* data;                  /* NULL in supports() and workspace_bytes() */
    int64_t shape[4];            /* logical extents */
    int64_t strides[4];          /* in elements, per logical axis */
} convconf_tensor;

/* One call: a direction, a dtype, a problem, and its tensors by role. */
typedef struct convconf_call {
    uint32_t struct_size;        /* sizeof(convconf_call) as the writer compiled it */
    int32_t op;                  /* CONVCONF_OP_* */
    int32_t pass;                /* CONVCONF_PASS_* */
    int32_t dtype;               /* CONVCONF_DTYPE_F32 or _F64 */
    int32_t nan_data;            /* 1: inputs hold NaN or infinities (maxpool2d checks that
                                    a NaN is chosen, as the contract says), else 0 */
    int32_t ntensors;            /* entries in tensors: the inputs, then the outputs */
    int32_t threads;             /* the most threads run() may use: 1 in conformance checks
                                    (convconf runs checks side by side instead), bench's
                                    --threads when timing; at least 1 */
    int32_t reserved;            /* 0 */
    const convconf_problem* problem;
    const convconf_tensor* tensors;
    /* A word convconf owns, 0 on entry to run(): set bit (1u << role) for each optional
     * output (convconf_tensor.optional) run() did not write. That output is then neither
     * compared nor checked for unwritten elements, and the check says it was left out.
     * NULL in supports() and workspace_bytes(). */
    uint32_t* left_out;
} convconf_call;

/* The tensor of `role` in a call, or NULL when the call has none (b without bias). */
static inline const convconf_tensor* convconf_find_tensor(const convconf_call* call, int32_t role) {
    int32_t i;
    for (i = 0; i < call->ntensors; ++i)
        if (call->tensors[i].role == role) return &call->tensors[i];
    return NULL;
}

/* Status codes of run(). */
#define CONVCONF_OK 0
#define CONVCONF_ERROR 1

/* One variant: an implementation with a name. */
typedef struct convconf_variant {
    uint32_t struct_size;        /* sizeof(convconf_variant) as the writer compiled it */
    /* Unique among every variant convconf loads: 1 to 64 letters, digits, '_' or '-'. */
    const char* name;
    /* One line: the algorithm, for listings. */
    const char* description;
    /* The ops this variant has kernels for: bit (1u << CONVCONF_OP_*). A call of any other
     * op is skipped without asking supports(). */
    uint32_t ops;
    /* NULL if the variant can run the call; else why not, one line (a dtype it lacks, a
     * problem it does not take, an op or field it does not know). The check is then
     * reported as skipped with this reason. The tensors' data pointers are NULL. The text
     * must stay valid until the next call into the plugin on the same thread (a string
     * literal, or a thread-local buffer). Required. */
    const char* (*supports)(const convconf_call* call);
    /* Runs the call: reads its inputs, overwrites every element of its outputs. Returns
     * CONVCONF_OK, or another status after writing a one-line message of at most
     * message_size bytes (NUL included) to message, which convconf shows. Required. */
    int32_t (*run)(const convconf_call* call, char* message, size_t message_size);
    /* Optional (NULL: not told). Bytes of scratch memory run() would allocate for this
     * call beyond its tensors, answered from the shapes alone (data pointers are NULL),
     * for bench's workspace column. */
    int64_t (*workspace_bytes)(const convconf_call* call);
} convconf_variant;

/* What convconf_plugin_entry() returns. */
typedef struct convconf_plugin {
    uint32_t struct_size;        /* sizeof(convconf_plugin) as the writer compiled it */
    uint32_t abi_version;        /* CONVCONF_PLUGIN_ABI_VERSION the plugin was built with */
    int32_t nvariants;           /* at least 1 */
    const convconf_variant* variants;
    /* sizeof(convconf_problem) as the plugin compiled it: the problem fields it knows. A
     * plugin that leaves it 0, or whose struct ends before it, predates ceil_mode: convconf
     * skips every ceil-mode call for it, saying why; one whose size ends before groups
     * likewise gets no call with groups other than 1. */
    uint32_t problem_size;
} convconf_plugin;

/* The exported entry point. Called once, at load; the table it returns must stay valid
 * while the library is loaded. */
typedef const convconf_plugin* (*convconf_plugin_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif /* CONVCONF_PLUGIN_H */
