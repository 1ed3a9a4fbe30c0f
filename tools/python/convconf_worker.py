"""Write a convconf worker in Python: a few functions and one call that serves them.

convconf starts the worker (``convconf run --worker 'python3 my_worker.py'``) and speaks the
worker protocol (docs/worker-protocol.md) over its stdin and stdout. This module is that
protocol's worker side, with the standard library and numpy only:

    import convconf_worker as cw

    def conv_forward(call, x, w, b=None):      # numpy arrays, in the call's layouts
        ...
        return y                                # or {"y": y}

    cw.serve([cw.Variant("mine", {("conv2d", "forward"): conv_forward})])

A kernel gets the call (``call.problem.kh``, ``call.layout``, ``call.dtype``, ...) and its
inputs by role name, as numpy arrays shaped in storage order: NCHW or NHWC activations,
OIHW or HWIO weights, a 1-D bias, im2col's 2-D column matrix. It returns its output array,
or a dict of them by role; an optional output it does not compute (maxpool2d's argmax)
is left out of the dict. The arrays go back as they are: their dtype and shape are checked
by convconf, never converted here, so a transposed or widened result is reported, not
hidden. A kernel that raises fails that one check with the exception (its traceback goes
to stderr, which convconf shows); ``Unsupported("why")`` from ``supports`` declines a call,
which convconf reports as skipped with the reason.

While serving, anything printed (``print``, and C libraries writing to file descriptor 1)
goes to stderr: the protocol's stdout is a duplicate only this module writes to.
"""

import json
import os
import struct
import sys
import traceback

import numpy as np

PROTOCOL = 1
MAGIC = b"CCW1"
_DTYPES = {"f32": np.dtype("<f4"), "f64": np.dtype("<f8"), "s64": np.dtype("<i8")}
_NAMES = {np.dtype("float32"): "f32", np.dtype("float64"): "f64", np.dtype("int64"): "s64"}


class Unsupported(Exception):
    """Raised by a variant's supports(call) to decline a call; the message is the reason."""


class Problem:
    """The problem's fields: mb ic ih iw oh ow kh kw sh sw pt pl pb pr dh dw, layout, and
    for conv2d oc, weights_layout and groups, for the poolings pool_alg (max, avg_p, avg_np)
    and ceil_mode. Dilation 1 is dense."""

    def __init__(self, fields):
        self.__dict__.update(fields)

    def __repr__(self):
        return "Problem(%s)" % ", ".join("%s=%r" % kv for kv in sorted(self.__dict__.items()))


class Call:
    """One request's call: op, pass_ ("pass" is a keyword), direction (FWD_B, BWD_D, ...),
    dtype ("f32"/"f64"), nan_data (inputs hold NaN or infinities), threads, descriptor
    (benchdnn's), problem, layout, weights_layout, and inputs/outputs: the tensors'
    descriptions (role, dtype, layout, shape in storage order, optional)."""

    def __init__(self, c):
        self.op = c["op"]
        self.pass_ = c["pass"]
        self.direction = c["direction"]
        self.dtype = c["dtype"]
        self.nan_data = c["nan_data"]
        self.threads = c["threads"]
        self.descriptor = c["descriptor"]
        self.problem = Problem(c["problem"])
        self.layout = c["problem"]["layout"]
        self.weights_layout = c["problem"].get("weights_layout")
        self.inputs = c["inputs"]
        self.outputs = c["outputs"]

    @property
    def np_dtype(self):
        return _DTYPES[self.dtype]

    def output(self, role):
        """The description of output `role` (its "shape", "dtype", "layout")."""
        for o in self.outputs:
            if o["role"] == role:
                return o
        raise KeyError("%s %s has no output %s" % (self.op, self.direction, role))


class Variant:
    """kernels: {(op, pass): function(call, **inputs)}. dtypes: those it computes.
    supports: optional function(call) that raises Unsupported(reason) (or returns a reason
    string) for a call it does not take; None or nothing means it takes it. fields: the
    problem fields added after version 1.0 of the contract that its kernels read
    ("ceil_mode", "groups"); convconf declines, for it, any call that sets one not listed."""

    def __init__(self, name, kernels, description="", dtypes=("f32", "f64"), supports=None, fields=()):
        self.name = name
        self.kernels = dict(kernels)
        self.description = description
        self.dtypes = list(dtypes)
        self.supports = supports
        self.fields = list(fields)

    def hello(self):
        ops = {}
        for op, pass_ in self.kernels:
            ops.setdefault(op, []).append(pass_)
        out = {"name": self.name, "description": self.description, "ops": ops, "dtypes": self.dtypes}
        if self.fields:
            out["fields"] = self.fields
        return out

    def reason_not(self, call):
        """Why it does not take the call, or None."""
        if (call.op, call.pass_) not in self.kernels:
            return "no kernel for %s %s" % (call.op, call.pass_)
        if self.supports is None:
            return None
        try:
            said = self.supports(call)
        except Unsupported as e:
            return str(e) or "unsupported"
        return said or None


class _Channel:
    """Frames on the protocol's file descriptors."""

    def __init__(self, rfd, wfd):
        self.r = os.fdopen(rfd, "rb", buffering=0)
        self.w = os.fdopen(wfd, "wb", buffering=0)

    def _read(self, n, may_end=False):
        chunks, got = [], 0
        while got < n:
            b = self.r.read(n - got)
            if not b:
                if got == 0 and may_end:
                    return None
                raise EOFError("stdin ended in the middle of a frame")
            chunks.append(b)
            got += len(b)
        return b"".join(chunks)

    def read(self):
        prefix = self._read(8, may_end=True)
        if prefix is None:
            return None, None
        if prefix[:4] != MAGIC:
            raise ValueError("stdin holds something that is not a frame: %r" % prefix)
        (length,) = struct.unpack("<I", prefix[4:])
        header = json.loads(self._read(length).decode("utf-8"))
        size = sum(t["bytes"] for t in header.get("tensors", []))
        return header, self._read(size) if size else b""

    def send(self, header, payload=()):
        h = json.dumps(header).encode("utf-8")
        self.w.write(MAGIC + struct.pack("<I", len(h)) + h)
        for p in payload:
            self.w.write(p)


def _outputs(call, returned):
    """The kernel's result as (tensors, payload, left_out)."""
    if not isinstance(returned, dict):
        required = [o["role"] for o in call.outputs if not o["optional"]]
        if len(required) != 1:
            raise TypeError("%s %s has outputs %s: return a dict of them by role"
                            % (call.op, call.direction, [o["role"] for o in call.outputs]))
        returned = {required[0]: returned}
    known = {o["role"] for o in call.outputs}
    for role in returned:
        if role not in known:
            raise TypeError("the kernel returned %r, not an output of %s %s (%s)"
                            % (role, call.op, call.direction, sorted(known)))
    tensors, payload, left_out = [], [], []
    for o in call.outputs:
        role = o["role"]
        if role not in returned or returned[role] is None:
            if o["optional"]:
                left_out.append(role)
                continue
            raise TypeError("the kernel returned no %s" % role)
        a = np.asarray(returned[role])
        name = _NAMES.get(a.dtype, str(a.dtype))  # convconf checks it against the call's
        data = np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        tensors.append({"role": role, "dtype": name, "shape": list(a.shape), "bytes": len(data)})
        payload.append(data)
    return tensors, payload, left_out


def _answer(variants, header, payload):
    kind = header.get("type")
    if kind == "hello":
        return {"type": "hello", "protocol": PROTOCOL, "variants": [v.hello() for v in variants]}, ()
    if kind == "ping":
        return {"type": "pong"}, ()
    if kind not in ("supports", "run"):
        return {"type": "error", "message": "no request type %r in protocol %d" % (kind, PROTOCOL)}, ()
    by_name = {v.name: v for v in variants}
    variant = by_name.get(header.get("variant"))
    if variant is None:
        return {"type": "error", "message": "no variant %r here" % header.get("variant")}, ()
    call = Call(header["call"])
    reason = variant.reason_not(call)
    if kind == "supports":
        return ({"type": "unsupported", "reason": reason} if reason else {"type": "supported"}), ()
    if reason:
        return {"type": "unsupported", "reason": reason}, ()
    inputs, offset = {}, 0
    for desc, sent in zip(call.inputs, header["tensors"]):
        n = sent["bytes"]
        a = np.frombuffer(payload, dtype=_DTYPES[desc["dtype"]], count=n // _DTYPES[desc["dtype"]].itemsize,
                          offset=offset)
        inputs[desc["role"]] = a.reshape(desc["shape"]).copy()  # writable, and the kernel's own
        offset += n
    returned = variant.kernels[(call.op, call.pass_)](call, **inputs)
    tensors, out, left_out = _outputs(call, returned)
    return {"type": "result", "tensors": tensors, "left_out": left_out}, out


def serve(variants, rfd=0, wfd=1):
    """Answers convconf's requests until stdin ends. Returns the exit status (0)."""
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise ValueError("two variants share a name: %s" % names)
    # The protocol gets a descriptor of its own; fd 1 and sys.stdout become stderr, so a
    # print() anywhere (or a C library's printf) lands in the log, not in a frame.
    sys.stdout.flush()
    wfd = os.dup(wfd)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    channel = _Channel(rfd, wfd)
    while True:
        header, payload = channel.read()
        if header is None:
            return 0
        try:
            answer, out = _answer(variants, header, payload)
        except Exception as e:  # the kernel's failure is this check's, not the worker's end
            traceback.print_exc(file=sys.stderr)
            sys.stderr.flush()
            answer, out = {"type": "error", "message": "%s: %s" % (type(e).__name__, e)}, ()
        channel.send(answer, out)
