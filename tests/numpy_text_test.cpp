// Reading numpy's printed arrays: the forms the notebooks print, and clear errors.
#include <gtest/gtest.h>

#include <cmath>

#include "reference/numpy_text.hpp"

namespace convconf {
namespace {

TEST(NumpyText, ReadsANotebookPrintout) {
    // seed 000, In [3]: the convolution's output as printed.
    const NumpyArray a = parse_numpy("[[[[13. 17. 21.]\n   [29. 33. 37.]\n   [45. 49. 53.]]]]");
    EXPECT_EQ(a.shape, (std::vector<int64_t>{1, 1, 3, 3}));
    EXPECT_EQ(a.data, (std::vector<double>{13, 17, 21, 29, 33, 37, 45, 49, 53}));
}

TEST(NumpyText, ReadsArrayReprWithCommasAndDtype) {
    // seed 002, In [4] style, and a dtype suffix.
    const NumpyArray a = parse_numpy("array([[5., 8., 0., 0.],\n       [4., 7., 1., 7.]])");
    EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 4}));
    EXPECT_EQ(a.data, (std::vector<double>{5, 8, 0, 0, 4, 7, 1, 7}));
    const NumpyArray b = parse_numpy("array([1., -0., 2.5e-03], dtype=float32)");
    EXPECT_EQ(b.shape, (std::vector<int64_t>{3}));
    EXPECT_TRUE(std::signbit(b.data[1]));
    EXPECT_DOUBLE_EQ(b.data[2], 0.0025);
}

TEST(NumpyText, ReadsNonFiniteValues) {
    const NumpyArray a = parse_numpy("[nan inf -inf]");
    EXPECT_TRUE(std::isnan(a.data[0]));
    EXPECT_EQ(a.data[1], INFINITY);
    EXPECT_EQ(a.data[2], -INFINITY);
}

// Expects parse_numpy to fail with a message containing `part`.
void expect_error(const std::string& text, const std::string& part) {
    try {
        parse_numpy(text, "dy.txt");
        ADD_FAILURE() << "accepted: " << text;
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
}

TEST(NumpyText, RefusesWhatIsNotOneRectangularArray) {
    expect_error("[[1 2]\n [3]]", "dy.txt:2:2: not rectangular");
    expect_error("[[1 2] 3]", "mixes numbers and lists");
    expect_error("[1 2 ... 9]", "summarised");
    expect_error("[1 x2]", "not a number");
    expect_error("[1 2] [3]", "unexpected text after the array");
    expect_error("[]", "empty list");
    expect_error("[[1 2]", "expected ']'");
    // Found while fuzzing: each level recursed, so 40000 '[' overflowed the stack.
    expect_error(std::string(65, '['), "dy.txt:1:65: nested deeper than 64 lists");
}

}  // namespace
}  // namespace convconf
