"""The notebooks' own algorithms as a convconf worker, in NumPy, in the notebooks' style.

    convconf run --worker 'python3 tools/python/notebooks_worker.py'

The notebooks in ../shared/seeds build these layers by hand and check them against
TensorFlow on a few printed examples. Written here (not copied) the way they write them,
so that convconf can hold them to the contract on every problem it generates. golden/README.md
("Notebook divergences") lists where they follow another convention; convconf finds each
of those on its own (tests/tool_notebooks_check.py):

- nb-layers (notebooks 000, 001, 003): the Convolution and Pooling layers over im2col and
  col2im, and im2col and col2im themselves. Their parameters are one stride and one pad
  for both axes, no dilation, NCHW and OIHW: other calls are declined. Pooling pads with
  0 through im2col, where max pooling pads with -infinity. (The notebooks' pooling also
  computes its output size without the pad, `int(1 + (H - pool_h) / stride)`, so that no
  padded pooling even reshapes; here the size counts the pad, as their im2col does, so
  that the zero padding is what shows.)
- nb002-pool (notebook 002): the Pooling layer whose output size rounds up where the pool
  does not divide the input, over 002's im2col, which takes the output size from its
  caller. A pool-sized window moving by its size, no pad.
- nb004-pool (notebook 004): the NHWC max pooling layer of loops over windows (TensorFlow's
  'VALID'), whose backward gives the gradient to every element equal to the window's
  maximum (a mask) and assigns each window's gradient instead of accumulating it. The
  window and the stride are the notebook's S there; here they are kh x kw and sh x sw, so
  that windows can overlap. Its forward computes no argmax (left out).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import convconf_worker as cw  # noqa: E402


# ---- im2col and col2im, the layers' way (000, 001, 003) ---------------------------------

def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_data.shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1

    img = np.pad(input_data, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "constant")
    col = np.zeros((N, C, filter_h, filter_w, out_h, out_w), dtype=input_data.dtype)
    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            col[:, :, y, x, :, :] = img[:, :, y:y_max:stride, x:x_max:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, -1)


def col2im(col, input_shape, filter_h, filter_w, stride=1, pad=0):
    N, C, H, W = input_shape
    out_h = (H + 2 * pad - filter_h) // stride + 1
    out_w = (W + 2 * pad - filter_w) // stride + 1
    col = col.reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)

    img = np.zeros((N, C, H + 2 * pad + stride - 1, W + 2 * pad + stride - 1), dtype=col.dtype)
    for y in range(filter_h):
        y_max = y + stride * out_h
        for x in range(filter_w):
            x_max = x + stride * out_w
            img[:, :, y:y_max:stride, x:x_max:stride] += col[:, :, y, x, :, :]
    return img[:, :, pad:H + pad, pad:W + pad]


class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.W = W
        self.b = b
        self.stride = stride
        self.pad = pad

    def forward(self, x):
        FN, C, FH, FW = self.W.shape
        N, C, H, W = x.shape
        out_h = 1 + int((H + 2 * self.pad - FH) / self.stride)
        out_w = 1 + int((W + 2 * self.pad - FW) / self.stride)

        col = im2col(x, FH, FW, self.stride, self.pad)
        col_W = self.W.reshape(FN, -1).T
        out = np.dot(col, col_W) + self.b
        out = out.reshape(N, out_h, out_w, -1).transpose(0, 3, 1, 2)

        self.x_shape = x.shape
        self.col = col
        self.col_W = col_W
        return out

    def backward(self, dout):
        FN, C, FH, FW = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, FN)

        self.db = np.sum(dout, axis=0)
        self.dW = np.dot(self.col.T, dout).transpose(1, 0).reshape(FN, C, FH, FW) if self.col is not None else None
        dcol = np.dot(dout, self.col_W.T)
        return col2im(dcol, self.x_shape, FH, FW, self.stride, self.pad)


class Pooling:
    def __init__(self, pool_h, pool_w, stride=1, pad=0):
        self.pool_h = pool_h
        self.pool_w = pool_w
        self.stride = stride
        self.pad = pad

    def forward(self, x):
        N, C, H, W = x.shape
        out_h = int(1 + (H + 2 * self.pad - self.pool_h) / self.stride)  # the notebooks leave out the pad
        out_w = int(1 + (W + 2 * self.pad - self.pool_w) / self.stride)

        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        col = col.reshape(-1, self.pool_h * self.pool_w)

        arg_max = np.argmax(col, axis=1)
        out = np.max(col, axis=1)
        out = out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)

        self.x = x
        self.arg_max = arg_max
        self.out_shape = (N, out_h, out_w, C)
        return out

    def backward(self, dout):
        dout = dout.transpose(0, 2, 3, 1)

        pool_size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, pool_size), dtype=dout.dtype)
        dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()
        dmax = dmax.reshape(dout.shape + (pool_size,))

        dcol = dmax.reshape(dmax.shape[0] * dmax.shape[1] * dmax.shape[2], -1)
        return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)


def layers_supports(call):
    p = call.problem
    if call.layout != "NCHW":
        raise cw.Unsupported("the notebooks' layers are NCHW")
    if call.weights_layout not in (None, "OIHW"):
        raise cw.Unsupported("the notebooks' Convolution takes OIHW filters")
    if p.sh != p.sw:
        raise cw.Unsupported("the notebooks' layers take one stride for both axes")
    if not p.pt == p.pb == p.pl == p.pr:
        raise cw.Unsupported("the notebooks' layers take one pad for all four sides")
    if p.dh != 1 or p.dw != 1:
        raise cw.Unsupported("the notebooks' layers have no dilation")


def conv_forward(call, x, w, b=None):
    p = call.problem
    bias = b if b is not None else np.zeros(p.oc, dtype=x.dtype)
    return Convolution(w, bias, p.sh, p.pt).forward(x)


def conv_backward_data(call, w, dy):
    p = call.problem
    layer = Convolution(w, np.zeros(p.oc, dtype=w.dtype), p.sh, p.pt)
    FN = w.shape[0]
    layer.x_shape = (p.mb, p.ic, p.ih, p.iw)
    layer.col = None  # backward_data has no x: only dx is asked
    layer.col_W = w.reshape(FN, -1).T
    return layer.backward(dy)


def conv_backward_weights(call, x, dy):
    p = call.problem
    layer = Convolution(np.zeros((p.oc, p.ic, p.kh, p.kw), dtype=x.dtype), np.zeros(p.oc, dtype=x.dtype), p.sh, p.pt)
    layer.forward(x)
    layer.backward(dy)
    out = {"dw": layer.dW}
    if any(o["role"] == "db" for o in call.outputs):
        out["db"] = layer.db
    return out


def layers_pool_forward(call, x):
    p = call.problem
    layer = Pooling(p.kh, p.kw, p.sh, p.pt)
    y = layer.forward(x)
    argmax = layer.arg_max.reshape(layer.out_shape).transpose(0, 3, 1, 2).astype(np.int64)
    return {"y": y, "argmax": argmax}


def layers_pool_backward(call, x, dy):
    p = call.problem
    layer = Pooling(p.kh, p.kw, p.sh, p.pt)
    layer.forward(x)
    return layer.backward(dy)


def layers_im2col(call, x):
    p = call.problem
    return im2col(x, p.kh, p.kw, p.sh, p.pt)


def layers_col2im(call, col):
    p = call.problem
    return col2im(col, (p.mb, p.ic, p.ih, p.iw), p.kh, p.kw, p.sh, p.pt)


# ---- notebook 002: the output size from the caller, rounded up --------------------------

def im2col_002(x, fil_size, y_size, stride, pad):
    x_b, x_c, x_h, x_w = x.shape
    fil_h, fil_w = fil_size, fil_size
    y_h, y_w = y_size, y_size
    index = -1

    x_pad = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "constant")
    x_col = np.zeros((fil_h * fil_w, x_b, x_c, y_h, y_w), dtype=x.dtype)
    for h in range(fil_h):
        h2 = h + y_h * stride
        for w in range(fil_w):
            index += 1
            w2 = w + y_w * stride
            x_col[index, :, :, :, :] = x_pad[:, :, h:h2:stride, w:w2:stride]
    return x_col.transpose(2, 0, 1, 3, 4).reshape(x_c * fil_h * fil_w, x_b * y_h * y_w)


def col2im_002(dx_col, x_shape, fil_size, y_size, stride, pad):
    x_b, x_c, x_h, x_w = x_shape
    fil_h, fil_w = fil_size, fil_size
    y_h, y_w = y_size, y_size
    index = -1

    dx_col = dx_col.reshape(x_c, fil_h * fil_w, x_b, y_h, y_w).transpose(1, 2, 0, 3, 4)
    dx = np.zeros((x_b, x_c, x_h + 2 * pad + stride - 1, x_w + 2 * pad + stride - 1), dtype=dx_col.dtype)
    for h in range(fil_h):
        h2 = h + y_h * stride
        for w in range(fil_w):
            index += 1
            w2 = w + y_w * stride
            dx[:, :, h:h2:stride, w:w2:stride] += dx_col[index, :, :, :, :]
    return dx[:, :, pad:x_h + pad, pad:x_w + pad]


class Pooling002:
    def __init__(self, pool):
        self.pool = pool

    def forward(self, x):
        self.xshape = x.shape
        self.x_b, self.x_c, self.x_h, self.x_w = x.shape
        self.y_h = self.x_h // self.pool if self.x_h % self.pool == 0 else self.x_h // self.pool + 1
        self.y_w = self.x_w // self.pool if self.x_w % self.pool == 0 else self.x_w // self.pool + 1

        x_col = im2col_002(x, self.pool, self.y_h, self.pool, 0).T.reshape(-1, self.pool * self.pool)
        y = np.max(x_col, axis=1)
        self.y = y.reshape(self.x_b, self.y_h, self.y_w, self.x_c).transpose(0, 3, 1, 2)
        self.max_index = np.argmax(x_col, axis=1)
        return self.y

    def backward(self, dy):
        dy = dy.transpose(0, 2, 3, 1)
        dx = np.zeros((self.pool * self.pool, dy.size), dtype=dy.dtype)
        dx[self.max_index.reshape(-1), np.arange(dy.size)] = dy.reshape(-1)
        dx = dx.reshape(self.pool, self.pool, self.x_b, self.y_h, self.y_w, self.x_c)
        dx = dx.transpose(5, 0, 1, 2, 3, 4)
        dx = dx.reshape(self.x_c * self.pool * self.pool, self.x_b * self.y_h * self.y_w)
        self.dx = col2im_002(dx, self.xshape, self.pool, self.y_h, self.pool, 0)
        return self.dx


def supports_002(call):
    p = call.problem
    if call.layout != "NCHW":
        raise cw.Unsupported("notebook 002's Pooling is NCHW")
    if not (p.kh == p.kw == p.sh == p.sw):
        raise cw.Unsupported("notebook 002's Pooling(pool) is a pool x pool window moving by pool")
    if p.ih != p.iw:
        raise cw.Unsupported("notebook 002's im2col takes one output size for both axes: square inputs only")
    if p.pt or p.pb or p.pl or p.pr or p.dh != 1 or p.dw != 1:
        raise cw.Unsupported("notebook 002's Pooling has no pad and no dilation")


def pool002_forward(call, x):
    layer = Pooling002(call.problem.kh)
    y = layer.forward(x)
    argmax = layer.max_index.reshape(layer.x_b, layer.y_h, layer.y_w, layer.x_c).transpose(0, 3, 1, 2)
    return {"y": y, "argmax": argmax.astype(np.int64)}


def pool002_backward(call, x, dy):
    layer = Pooling002(call.problem.kh)
    layer.forward(x)
    return layer.backward(dy)


# ---- notebook 004: NHWC, loops over windows, the mask ------------------------------------

class MaxPoolingLayer:
    def __init__(self, kernel, stride):
        self.kernel = kernel  # (kh, kw); the notebook's window is its stride S
        self.stride = stride  # (sh, sw)
        self.X = None

    def forward(self, X):
        N_batch, H_in, W_in, C_in = X.shape
        (K_h, K_w), (S_h, S_w) = self.kernel, self.stride

        H_out = (H_in - K_h) // S_h + 1
        W_out = (W_in - K_w) // S_w + 1

        Y = np.zeros((N_batch, H_out, W_out, C_in), dtype=X.dtype)
        for h in range(H_out):
            h_start = h * S_h
            h_end = h_start + K_h
            for w in range(W_out):
                w_start = w * S_w
                w_end = w_start + K_w
                X_slice = X[:, h_start:h_end, w_start:w_end, :]
                Y[:, h, w, :] = np.max(X_slice, axis=(1, 2))

        self.X = X
        return Y

    def backward(self, dY):
        N_batch, H_in, W_in, C_in = self.X.shape
        (K_h, K_w), (S_h, S_w) = self.kernel, self.stride

        H_out = (H_in - K_h) // S_h + 1
        W_out = (W_in - K_w) // S_w + 1

        dX = np.zeros_like(self.X)
        for n_batch in range(N_batch):
            for h in range(H_out):
                for w in range(W_out):
                    h_start = h * S_h
                    h_end = h_start + K_h
                    w_start = w * S_w
                    w_end = w_start + K_w

                    X_slice = self.X[n_batch, h_start:h_end, w_start:w_end, :]
                    X_slice_mask = X_slice == np.max(X_slice, axis=(0, 1))
                    current_dY = dY[n_batch, h, w, :]
                    dX_slice = X_slice_mask * current_dY
                    dX[n_batch, h_start:h_end, w_start:w_end, :] = dX_slice
        return dX


def supports_004(call):
    p = call.problem
    if call.layout != "NHWC":
        raise cw.Unsupported("notebook 004's layer is NHWC (TensorFlow's)")
    if p.pt or p.pb or p.pl or p.pr:
        raise cw.Unsupported("notebook 004's layer is padding='VALID'")
    if p.dh != 1 or p.dw != 1:
        raise cw.Unsupported("notebook 004's layer has no dilation")


def pool004_forward(call, x):
    p = call.problem
    return {"y": MaxPoolingLayer((p.kh, p.kw), (p.sh, p.sw)).forward(x)}  # no argmax: left out


def pool004_backward(call, x, dy):
    p = call.problem
    layer = MaxPoolingLayer((p.kh, p.kw), (p.sh, p.sw))
    layer.forward(x)
    return layer.backward(dy)


VARIANTS = [
    cw.Variant("nb-layers", {
        ("conv2d", "forward"): conv_forward,
        ("conv2d", "backward_data"): conv_backward_data,
        ("conv2d", "backward_weights"): conv_backward_weights,
        ("maxpool2d", "forward"): layers_pool_forward,
        ("maxpool2d", "backward"): layers_pool_backward,
        ("im2col", "forward"): layers_im2col,
        ("col2im", "forward"): layers_col2im,
    }, description="notebooks 000/001/003: Convolution and Pooling over im2col/col2im (NumPy)",
        supports=layers_supports),
    cw.Variant("nb002-pool", {
        ("maxpool2d", "forward"): pool002_forward,
        ("maxpool2d", "backward"): pool002_backward,
    }, description="notebook 002: Pooling with the rounded-up output size (NumPy)", supports=supports_002),
    cw.Variant("nb004-pool", {
        ("maxpool2d", "forward"): pool004_forward,
        ("maxpool2d", "backward"): pool004_backward,
    }, description="notebook 004: NHWC max pooling, mask backward (NumPy)", supports=supports_004),
]

if __name__ == "__main__":
    sys.exit(cw.serve(VARIANTS))
