"""A worker that misbehaves on purpose, one way per mode (argv[1]), for
tests/tool_worker_check.py. Its kernel (im2col, NCHW, by loops) is right; each mode breaks
the protocol on every second run request a process gets, so that after each failure the
restarted process passes the next check: the run goes on.

Run modes: crash (SIGSEGV), abort (SIGABRT), exit (status 3), hang, garbage (text on
stdout), bad_json, wrong_size, wrong_shape, wrong_dtype, short_payload (closes its stdout
in the middle of an answer), error (an error answer; the process lives), flood (1 MiB of
stderr, then a right answer). Start modes: exit_at_start, protocol_2, bad_name, no_hello.
"""

import json
import os
import signal
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "python"))

import numpy as np  # noqa: E402

import convconf_worker as cw  # noqa: E402

MODE = sys.argv[1]


def im2col(call, x):
    p = call.problem
    col = np.zeros((p.mb, p.oh, p.ow, p.ic, p.kh, p.kw), dtype=x.dtype)
    for oh in range(p.oh):
        for ow in range(p.ow):
            for i in range(p.kh):
                for j in range(p.kw):
                    h, w = oh * p.sh - p.pt + i * p.dh, ow * p.sw - p.pl + j * p.dw
                    if 0 <= h < p.ih and 0 <= w < p.iw:
                        col[:, oh, ow, :, i, j] = x[:, :, h, w]
    return col.reshape(p.mb * p.oh * p.ow, p.ic * p.kh * p.kw)


def supports(call):
    if call.layout != "NCHW":
        raise cw.Unsupported("NCHW only")


VARIANT = cw.Variant("bad", {("im2col", "forward"): im2col}, description="misbehaves: " + MODE, supports=supports)


def send_raw(w, header, payload=b""):
    h = header if isinstance(header, bytes) else json.dumps(header).encode()
    w.write(cw.MAGIC + struct.pack("<I", len(h)) + h + payload)


def main():
    if MODE == "exit_at_start":
        print("bad_worker: cannot start: no licence for this kernel", file=sys.stderr)
        return 1
    wfd = os.dup(1)
    os.dup2(2, 1)
    ch = cw._Channel(0, wfd)
    runs = 0
    while True:
        header, payload = ch.read()
        if header is None:
            return 0
        kind = header["type"]
        if kind == "hello":
            if MODE == "protocol_2":
                ch.send({"type": "hello", "protocol": 2, "variants": [VARIANT.hello()]})
            elif MODE == "bad_name":
                ch.send({"type": "hello", "protocol": 1, "variants": [dict(VARIANT.hello(), name="my kernel")]})
            elif MODE == "no_hello":
                ch.send({"type": "pong"})
            else:
                ch.send(*cw._answer([VARIANT], header, payload))
            continue
        if kind != "run":
            ch.send(*cw._answer([VARIANT], header, payload))
            continue
        runs += 1
        if runs % 2 == 1:
            ch.send(*cw._answer([VARIANT], header, payload))
            continue
        print("bad_worker: misbehaving (%s) on run %d: %s" % (MODE, runs, header["call"]["descriptor"]),
              file=sys.stderr)
        sys.stderr.flush()
        answer, out = cw._answer([VARIANT], header, payload)
        data = b"".join(out)
        if MODE == "crash":
            os.kill(os.getpid(), signal.SIGSEGV)
        elif MODE == "abort":
            os.abort()
        elif MODE == "exit":
            sys.exit(3)
        elif MODE == "hang":
            time.sleep(3600)
        elif MODE == "garbage":
            ch.w.write(b"hello from the kernel!\n")
        elif MODE == "bad_json":
            send_raw(ch.w, b"{\"type\": \"result\", \"tensors\": [")
        elif MODE == "wrong_size":
            answer["tensors"][0]["bytes"] -= 4
            send_raw(ch.w, answer, data[:-4])
        elif MODE == "wrong_shape":
            answer["tensors"][0]["shape"] = answer["tensors"][0]["shape"][::-1]
            send_raw(ch.w, answer, data)
        elif MODE == "wrong_dtype":
            answer["tensors"][0]["dtype"] = "f16"
            send_raw(ch.w, answer, data)
        elif MODE == "short_payload":
            send_raw(ch.w, answer, data[: len(data) // 2])
            os.close(wfd)
            time.sleep(3600)
        elif MODE == "error":
            ch.send({"type": "error", "message": "out of scratch memory\n(on purpose)"})
        elif MODE == "flood":
            sys.stderr.write(("x" * 1023 + "\n") * 1024)
            sys.stderr.flush()
            ch.send(answer, out)
        else:
            raise SystemExit("bad_worker: no mode " + MODE)


if __name__ == "__main__":
    sys.exit(main())
