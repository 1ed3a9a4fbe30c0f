"""PyTorch as a convconf worker: a second industrial reference beside oneDNN.

    convconf run --worker 'python3 tools/python/torch_worker.py'

Every op and pass goes through torch.nn.functional, at the call's dtype, on the CPU:
conv2d with stride, dilation and groups (asymmetric padding through F.pad), its gradients through
torch.autograd, max_pool2d with return_indices (converted to the contract's window-local
argmax), avg_pool2d with count_include_pad and ceil_mode, unfold and fold for im2col and
col2im. NHWC and HWIO tensors are permuted to PyTorch's NCHW and OIHW and back.

Where PyTorch's max_pool2d differs from the contract, the call is declined with the reason
(reported as skipped, never passed): with NaN or infinite data (nan_data), see
NAN_REASON. Measured on PyTorch 1.13.1 (Debian's python3-torch); docs/worker-protocol.md.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import convconf_worker as cw  # noqa: E402

NAN_REASON = ("PyTorch's max_pool2d takes the last NaN of a window where the contract takes the first "
              "(the argmax differs), and a window of x's -inf next to padding (F.pad with -inf) can "
              "choose the padding: declined for NaN and infinite data")

# PyTorch's pooling takes padding of its own only symmetric and at most half the kernel; its
# ceil mode and average divisor need it (padding x beforehand moves the drop rule's bound
# and makes the padding count as x). avg_pool2d has no dilation.
PADDING_REASON = ("PyTorch's pooling pads symmetrically by at most half the kernel, which ceil mode and "
                  "average pooling need: this padding is not one it can take")
DILATION_REASON = "F.avg_pool2d has no dilation"

_TORCH = {"f32": torch.float32, "f64": torch.float64}


def _torch_padding(p):
    """(ph, pw) as PyTorch's pooling takes them, or None where it cannot."""
    if p.pt != p.pb or p.pl != p.pr or 2 * p.pt > p.kh or 2 * p.pl > p.kw:
        return None
    return (p.pt, p.pl)


def _activation(call, a):
    """x, y, dx, dy as an NCHW torch tensor."""
    t = torch.from_numpy(a)
    return t.permute(0, 3, 1, 2) if call.layout == "NHWC" else t


def _weights(call, a):
    t = torch.from_numpy(a)
    return t.permute(3, 2, 0, 1) if call.weights_layout == "HWIO" else t


def _out_activation(call, t):
    t = t.permute(0, 2, 3, 1) if call.layout == "NHWC" else t
    return t.detach().contiguous().numpy()


def _out_weights(call, t):
    t = t.permute(2, 3, 1, 0) if call.weights_layout == "HWIO" else t
    return t.detach().contiguous().numpy()


def _pad(p):
    return (p.pl, p.pr, p.pt, p.pb)  # F.pad's order: last axis first


def _conv(call, x, w, b=None):
    p = call.problem
    groups = getattr(p, "groups", 1)  # a convconf before contract 1.1 sends no groups
    return F.conv2d(F.pad(x, _pad(p)), w, b, stride=(p.sh, p.sw), dilation=(p.dh, p.dw), groups=groups)


def conv_forward(call, x, w, b=None):
    y = _conv(call, _activation(call, x), _weights(call, w), None if b is None else torch.from_numpy(b))
    return _out_activation(call, y)


def conv_backward_data(call, w, dy):
    p = call.problem
    x = torch.zeros((p.mb, p.ic, p.ih, p.iw), dtype=_TORCH[call.dtype], requires_grad=True)
    _conv(call, x, _weights(call, w)).backward(_activation(call, dy))
    return _out_activation(call, x.grad)


def conv_backward_weights(call, x, dy):
    p = call.problem
    w = torch.zeros((p.oc, p.ic // getattr(p, "groups", 1), p.kh, p.kw), dtype=_TORCH[call.dtype], requires_grad=True)
    with_bias = any(o["role"] == "db" for o in call.outputs)
    b = torch.zeros((p.oc,), dtype=_TORCH[call.dtype], requires_grad=True) if with_bias else None
    _conv(call, _activation(call, x), w, b).backward(_activation(call, dy))
    out = {"dw": _out_weights(call, w.grad)}
    if with_bias:
        out["db"] = b.grad.numpy()
    return out


def _max_pool(call, x):
    """y, PyTorch's flat index, the width of the plane it indexes, and where that plane's
    (0, 0) lies in the padded input."""
    p = call.problem
    if p.ceil_mode:  # PyTorch's own padding: its ceil-mode rule is the contract's
        y, index = F.max_pool2d(x, (p.kh, p.kw), stride=(p.sh, p.sw), padding=_torch_padding(p),
                                dilation=(p.dh, p.dw), ceil_mode=True, return_indices=True)
        return y, index, p.iw, (p.pt, p.pl)
    xp = F.pad(x, _pad(p), value=float("-inf"))
    y, index = F.max_pool2d(xp, (p.kh, p.kw), stride=(p.sh, p.sw), dilation=(p.dh, p.dw), return_indices=True)
    return y, index, xp.shape[3], (0, 0)


def pool_forward(call, x):
    p = call.problem
    y, index, plane_w, origin = _max_pool(call, _activation(call, x))
    # PyTorch's index is flat in its plane; the contract's is i*kw + j in the window.
    row, col = index // plane_w + origin[0], index % plane_w + origin[1]
    oh = torch.arange(p.oh).view(1, 1, -1, 1)
    ow = torch.arange(p.ow).view(1, 1, 1, -1)
    i = (row - oh * p.sh) // p.dh
    j = (col - ow * p.sw) // p.dw
    argmax = (i * p.kw + j).to(torch.int64)
    return {"y": _out_activation(call, y), "argmax": _out_activation(call, argmax)}


def pool_backward(call, x, dy):
    xt = _activation(call, x).clone().requires_grad_(True)
    y, _, _, _ = _max_pool(call, xt)
    y.backward(_activation(call, dy))
    return _out_activation(call, xt.grad)


def _avg_pool(call, x):
    p = call.problem
    return F.avg_pool2d(x, (p.kh, p.kw), stride=(p.sh, p.sw), padding=_torch_padding(p), ceil_mode=p.ceil_mode,
                        count_include_pad=p.pool_alg == "avg_p")


def avg_forward(call, x):
    return _out_activation(call, _avg_pool(call, _activation(call, x)))


def avg_backward(call, dy):
    p = call.problem
    x = torch.zeros((p.mb, p.ic, p.ih, p.iw), dtype=_TORCH[call.dtype], requires_grad=True)
    _avg_pool(call, x).backward(_activation(call, dy))
    return _out_activation(call, x.grad)


def im2col(call, x):
    p = call.problem
    xp = F.pad(_activation(call, x), _pad(p))
    cols = F.unfold(xp, (p.kh, p.kw), dilation=(p.dh, p.dw), stride=(p.sh, p.sw))  # [N, C*kh*kw, L]
    return cols.permute(0, 2, 1).reshape(p.mb * p.oh * p.ow, p.ic * p.kh * p.kw).contiguous().numpy()


def col2im(call, col):
    p = call.problem
    cols = torch.from_numpy(col).reshape(p.mb, p.oh * p.ow, p.ic * p.kh * p.kw).permute(0, 2, 1)
    padded = (p.ih + p.pt + p.pb, p.iw + p.pl + p.pr)
    xp = F.fold(cols, padded, (p.kh, p.kw), dilation=(p.dh, p.dw), stride=(p.sh, p.sw))
    return _out_activation(call, xp[:, :, p.pt:p.pt + p.ih, p.pl:p.pl + p.iw])


def supports(call):
    # CONVCONF_TORCH_UNDECLINED=1 runs them anyway, to show the divergence the reason names.
    if call.op == "maxpool2d" and call.nan_data and os.environ.get("CONVCONF_TORCH_UNDECLINED") != "1":
        raise cw.Unsupported(NAN_REASON)
    p = call.problem
    if call.op == "avgpool2d" and (p.dh != 1 or p.dw != 1):
        raise cw.Unsupported(DILATION_REASON)
    if (call.op == "avgpool2d" or (call.op == "maxpool2d" and p.ceil_mode)) and _torch_padding(p) is None:
        raise cw.Unsupported(PADDING_REASON)
    return None


def at_call_threads(kernel):
    """The kernel at the call's thread count (convconf's --threads N runs N workers of one)."""
    def run(call, **inputs):
        torch.set_num_threads(max(1, call.threads))
        return kernel(call, **inputs)
    return run


KERNELS = {
    ("conv2d", "forward"): conv_forward,
    ("conv2d", "backward_data"): conv_backward_data,
    ("conv2d", "backward_weights"): conv_backward_weights,
    ("maxpool2d", "forward"): pool_forward,
    ("maxpool2d", "backward"): pool_backward,
    ("avgpool2d", "forward"): avg_forward,
    ("avgpool2d", "backward"): avg_backward,
    ("im2col", "forward"): im2col,
    ("col2im", "forward"): col2im,
}

if __name__ == "__main__":
    description = "PyTorch %s torch.nn.functional (CPU)" % torch.__version__
    variant = cw.Variant("torch", {k: at_call_threads(f) for k, f in KERNELS.items()},
                         description=description, supports=supports, fields=["ceil_mode", "groups"])
    sys.exit(cw.serve([variant]))
