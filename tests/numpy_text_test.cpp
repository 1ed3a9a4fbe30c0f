// Reading numpy's printed arrays: the forms the notebooks print, and clear errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>

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

// What strtod reads but numpy never prints is refused, at its line and column, naming the
// token: a typo or a paste from elsewhere must not become a golden value.
TEST(NumpyText, RefusesWhatNumpyNeverPrints) {
    expect_error("[1,, 2]", "dy.txt:1:4: two ',' in a row");
    expect_error("[,1]", "dy.txt:1:2: a ',' before the first element");
    expect_error("[1, 2,]", "dy.txt:1:6: a ',' before ']'");
    expect_error("[0x10]", "dy.txt:1:2: \"0x10\": hexadecimal");
    expect_error("[0x1p3]", "hexadecimal");
    expect_error("[1 1e999]", "dy.txt:1:4: \"1e999\": beyond the range of a double");
    expect_error("[1e-400]", "below the smallest double");
    expect_error("[infinity]", "numpy prints infinities as inf and -inf");
    expect_error("[-Inf]", "numpy prints infinities as inf and -inf");
    expect_error("[NaN]", "numpy prints NaN as nan");
    expect_error("[-nan]", "numpy prints NaN as nan");
    expect_error("[+1.]", "a leading '+'");
    expect_error("[1.E+00]", "not a number as numpy prints one");
    expect_error("[.5]", "not a number as numpy prints one");
    expect_error("[007]", "a leading zero");
    expect_error("[1e]", "an exponent without digits");
    expect_error("[9007199254740993]", "beyond 2^53");
    expect_error("[True False]", "not a number as numpy prints one");
    expect_error("[1 2, 3]", "dy.txt:1:5: a ',' where the elements before are separated by blanks alone");
    expect_error("[1, 2 3]", "dy.txt:1:6: elements separated by blanks alone");
    expect_error("[1\v2]", "not a number");
    expect_error("[[1 2]\n ...\n [3 4]]", "dy.txt:2:2: numpy summarised this array");
    expect_error("array([1., 2.], dtype=object)", "dy.txt:1:17: dtype=object is not a numeric dtype");
    expect_error("", "dy.txt:1:1: no array: the text is empty");
    expect_error(" \n ", "no array: the text is empty");
}

TEST(NumpyText, ReadsEveryFormNumpyPrints) {
    const NumpyArray a = parse_numpy("array([ 1.e+00, -0.,  5.e-324, 1.5e-05, 1e+20,  nan, -inf],\r\n"
                                     "      dtype=float32)");
    EXPECT_EQ(a.shape, (std::vector<int64_t>{7}));
    EXPECT_EQ(a.data[0], 1.0);
    EXPECT_TRUE(std::signbit(a.data[1]));
    EXPECT_EQ(a.data[2], 5e-324);  // a subnormal is a double: numpy prints them
    EXPECT_EQ(a.data[4], 1e20);
    EXPECT_TRUE(std::isnan(a.data[5]));
    EXPECT_EQ(a.data[6], -INFINITY);
    EXPECT_EQ(parse_numpy("[[1,\t2],\n [3, 4]]").data, (std::vector<double>{1, 2, 3, 4}));
    EXPECT_EQ(parse_numpy("array(3.)").data, (std::vector<double>{3}));
    EXPECT_EQ(parse_numpy("[9007199254740992 -9007199254740992]").data,
              (std::vector<double>{9007199254740992.0, -9007199254740992.0}));
}

}  // namespace
}  // namespace convconf

namespace convconf {
namespace {

// The text is read as the view it is, never past its end: a number that ends the text is
// the last thing read (a buffer of exactly its size, no NUL after it, as a fuzzer's is;
// AddressSanitizer reports a read beyond it).
TEST(NumpyText, ANumberAtTheEndOfTheTextIsNotReadPast) {
    for (const std::string text : {"7", "2.5", "[1 2]"}) {
        const std::unique_ptr<char[]> exact(new char[text.size()]);
        std::memcpy(exact.get(), text.data(), text.size());
        const NumpyArray a = parse_numpy(std::string_view(exact.get(), text.size()));
        EXPECT_FALSE(a.data.empty()) << text;
    }
}

}  // namespace
}  // namespace convconf
