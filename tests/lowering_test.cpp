// The building blocks the optimised families share (impl/core/lowering.hpp) that the
// conformance checks reach only with small sizes: the tiled transpose at sizes that are not
// multiples of its tile, across bands of rows done by different tasks.
#include <gtest/gtest.h>

#include <vector>

#include "impl/core/lowering.hpp"
#include "impl/core/threads.hpp"

namespace convconf::lowering {
namespace {

// 19 x 27 elements read with strides (61, 2) out of a larger buffer: value = its offset.
TEST(Lowering, TransposeOfAStridedMatrix) {
    const int64_t rows = 19, cols = 27, row_stride = 61, col_stride = 2;
    std::vector<double> from(rows * row_stride);
    for (size_t e = 0; e < from.size(); ++e) from[e] = double(e);
    const int64_t to_ld = 23;  // at least rows
    std::vector<double> to(cols * to_ld, -1.0);
    transpose(from.data(), rows, cols, row_stride, col_stride, to.data(), to_ld);
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c)
            ASSERT_EQ(to[c * to_ld + r], double(r * row_stride + c * col_stride)) << r << "," << c;
    for (int64_t c = 0; c < cols; ++c)
        for (int64_t r = rows; r < to_ld; ++r) ASSERT_EQ(to[c * to_ld + r], -1.0) << "wrote past the rows";
}

// A 130 x 70 matrix stored transposed (leading dimension 133), copied plain on 2 threads:
// several bands of 64 storage rows, the last one short.
TEST(Lowering, PlainCopiesATransposedMatrix) {
    const int64_t rows = 130, cols = 70, ld = 133;
    std::vector<float> storage(cols * ld);
    for (size_t e = 0; e < storage.size(); ++e) storage[e] = float(e);
    const Matrix<const float> m{storage.data(), rows, cols, ld, true};
    Scratch<float> scratch;
    set_threads(2);
    const Matrix<const float> p = plain(m, scratch);
    set_threads(1);
    ASSERT_FALSE(p.transposed);
    ASSERT_EQ(p.rows, rows);
    ASSERT_EQ(p.cols, cols);
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) ASSERT_EQ(p.data[r * p.ld + c], float(c * ld + r)) << r << "," << c;
    // A plain matrix is returned as it is.
    const Matrix<const float> q = plain(p, scratch);
    EXPECT_EQ(q.data, p.data);
}

}  // namespace
}  // namespace convconf::lowering
