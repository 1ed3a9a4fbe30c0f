// convconf golden add, check and list, run as a user runs them: the built program on files
// in a fresh temporary directory, judged by exit status, output and the bytes of the files.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <stdlib.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "reference/golden/edit.hpp"
#include "reference/golden/golden.hpp"

#ifndef CONVCONF_TOOL
#error "CONVCONF_TOOL must name the convconf program under test"
#endif

namespace convconf {
namespace {

namespace fs = std::filesystem;

struct Ran {
    int status = -1;
    std::string out, err;
};

std::string quoted(const std::string& s) {
    std::string q = "'";
    for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return q + "'";
}

// The numpy prints of 001 In [13]: x = np.arange(9).reshape((1,1,3,3)), w = np.ones((1,1,2,2)),
// b = np.full((1,), 3), and the printed output of Convolution(w, b, pad=1).forward(x).
const char* const kX = "[[[[0 1 2]\n   [3 4 5]\n   [6 7 8]]]]\n";
const char* const kW = "[[[[1. 1.]\n   [1. 1.]]]]\n";
const char* const kB = "[3]\n";
const char* const kY =
    "[[[[ 3.  4.  6.  5.]\n   [ 6. 11. 15. 10.]\n   [12. 23. 27. 16.]\n   [ 9. 16. 18. 11.]]]]\n";
// 001 In [26]/[27]'s pooling input, channel 0, as numpy's repr; and its 2x2 max-pool.
const char* const kPoolX =
    "array([[[[ 7, 11, 13, 15],\n         [ 3,  4,  2,  3],\n         [ 1,  2, 15,  9],\n"
    "         [ 1,  8,  3, 10]]]])\n";
const char* const kPoolY = "[[[[11. 15.]\n   [ 8. 15.]]]]\n";

class ToolGolden : public ::testing::Test {
protected:
    void SetUp() override {
        std::string templ = (fs::temp_directory_path() / "convconf_tool_XXXXXX").string();
        ASSERT_NE(::mkdtemp(templ.data()), nullptr);
        dir_ = templ;
        write("x.txt", kX);
        write("w.txt", kW);
        write("b.txt", kB);
        write("y.txt", kY);
        write("px.txt", kPoolX);
        write("py.txt", kPoolY);
    }
    void TearDown() override { fs::remove_all(dir_); }

    void write(const std::string& name, const std::string& text) {
        std::ofstream(dir_ / name, std::ios::binary) << text;
    }
    std::string read(const std::string& name) { return golden::read_text(dir_ / name); }

    // Starts convconf in the temporary directory with `args`, the file `tag`.stdin on its
    // stdin and its output in `tag`.stdout and `tag`.stderr; `shell` runs first (ulimit).
    pid_t start(const std::vector<std::string>& args, const std::string& tag, const std::string& shell = "") {
        std::string command = "cd " + quoted(dir_.string()) + " && " + shell + " exec " + quoted(CONVCONF_TOOL);
        for (const auto& a : args) command += " " + quoted(a);
        command += " < " + tag + ".stdin > " + tag + ".stdout 2> " + tag + ".stderr";
        if (!fs::exists(dir_ / (tag + ".stdin"))) write(tag + ".stdin", "");
        const char* argv[] = {"sh", "-c", command.c_str(), nullptr};
        pid_t pid = -1;
        EXPECT_EQ(::posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), environ), 0);
        return pid;
    }
    // Waits for what start() started.
    Ran finish(pid_t pid, const std::string& tag) {
        int status = 0;
        EXPECT_EQ(::waitpid(pid, &status, 0), pid);
        return collect(status, tag);
    }
    // What start() started and waitpid() reaped with `status`.
    Ran collect(int status, const std::string& tag) {
        Ran r;
        r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        r.out = read(tag + ".stdout");
        r.err = read(tag + ".stderr");
        for (const char* f : {".stdin", ".stdout", ".stderr"}) fs::remove(dir_ / (tag + f));
        return r;
    }
    // Runs convconf in the temporary directory with `args`, `input` on its stdin.
    Ran run(const std::vector<std::string>& args, const std::string& input = "", const std::string& shell = "") {
        write(".stdin", input);
        return finish(start(args, "", shell), "");
    }

    // golden add of 001 In [13] to `file`, with `extra` arguments.
    static std::vector<std::string> conv_args(const std::string& file, const std::string& name) {
        return {"golden",  "add",    "--file", file,      "--name",  name,      "--op",    "conv2d",
                "--pass",  "forward", "--pad", "1,1",     "--input", "x=x.txt", "--input", "w=w.txt",
                "--input", "b=b.txt", "--expected", "y=y.txt"};
    }
    Ran add_conv(const std::string& file, const std::string& name, std::vector<std::string> extra = {},
                 const std::string& shell = "") {
        std::vector<std::string> args = conv_args(file, name);
        args.insert(args.end(), extra.begin(), extra.end());
        return run(args, "", shell);
    }
    Ran add_pool(const std::string& file, const std::string& name, std::vector<std::string> extra) {
        std::vector<std::string> args = {"golden", "add",       "--file", file,      "--name",  name,
                                         "--op",   "maxpool2d", "--pass", "forward", "--input", "x=px.txt"};
        args.insert(args.end(), extra.begin(), extra.end());
        return run(args);
    }

    // A file's bytes and modification time, to show a refusal left it alone.
    struct Snapshot {
        std::string bytes;
        timespec mtime{};
        mode_t mode = 0;
        bool operator==(const Snapshot& o) const {
            return bytes == o.bytes && mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec &&
                   mode == o.mode;
        }
    };
    Snapshot snapshot(const std::string& name) {
        struct stat st {};
        ::stat((dir_ / name).c_str(), &st);
        return {read(name), st.st_mtim, st.st_mode};
    }
    // An old modification time, so that any write would show even on a coarse clock.
    void age(const std::string& name) {
        const timespec old[2] = {{1000000000, 0}, {1000000000, 0}};
        ASSERT_EQ(::utimensat(AT_FDCWD, (dir_ / name).c_str(), old, 0), 0);
    }
    // Nothing left behind in the directory: no temporary file after a success or a refusal.
    void expect_files(std::set<std::string> names) {
        for (const char* input : {"x.txt", "w.txt", "b.txt", "y.txt", "px.txt", "py.txt"})
            names.insert(input);
        std::set<std::string> found;
        for (const auto& e : fs::directory_iterator(dir_)) found.insert(e.path().filename().string());
        EXPECT_EQ(found, names);
    }

    fs::path dir_;
};

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// ---- golden add ------------------------------------------------------------------------------

TEST_F(ToolGolden, AddCreatesAFileThatReadsLikeTheNotebookCell) {
    const Ran r =
        add_conv("mine.json", "conv_arange9_ones2x2_bias3_pad1",
                 {"--note", "In [13]: Convolution(w, b, pad=1).forward(x)", "--source", "notebook 001"});
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "passed   mine.json conv_arange9_ones2x2_bias3_pad1 naive f32\n")) << r.out;
    EXPECT_TRUE(has(r.out, "passed   mine.json conv_arange9_ones2x2_bias3_pad1 naive f64\n")) << r.out;
    EXPECT_TRUE(has(r.out,
                    "added    conv_arange9_ones2x2_bias3_pad1 to mine.json (new file): conv2d forward "
                    "mb1ic1ih3oc1kh2ph1 NCHW/OIHW\n"))
        << r.out;
    EXPECT_EQ(read("mine.json"),
              "{\n"
              "  \"format\": \"convconf-golden/1\",\n"
              "  \"source\": \"notebook 001\",\n"
              "  \"cases\": [\n"
              "    {\n"
              "      \"name\": \"conv_arange9_ones2x2_bias3_pad1\",\n"
              "      \"note\": \"In [13]: Convolution(w, b, pad=1).forward(x)\",\n"
              "      \"op\": \"conv2d\", \"pass\": \"forward\",\n"
              "      \"pad\": [1, 1],\n"
              "      \"inputs\": {\n"
              "        \"x\": [[[[0, 1, 2],\n"
              "                [3, 4, 5],\n"
              "                [6, 7, 8]]]],\n"
              "        \"w\": [[[[1, 1],\n"
              "                [1, 1]]]],\n"
              "        \"b\": [3]\n"
              "      },\n"
              "      \"expected\": {\n"
              "        \"y\": [[[[ 3,  4,  6,  5],\n"
              "                [ 6, 11, 15, 10],\n"
              "                [12, 23, 27, 16],\n"
              "                [ 9, 16, 18, 11]]]]\n"
              "      }\n"
              "    }\n"
              "  ]\n"
              "}\n");
    expect_files({"mine.json"});
}

TEST_F(ToolGolden, AddToAHandWrittenFileKeepsItsBytes) {
    // A real golden file: the new case goes after its last case, every other byte is kept.
    const std::string original = golden::read_text(golden::default_directory() / "003_ee95f665f38c7247.json");
    write("003.json", original);
    ::chmod((dir_ / "003.json").c_str(), 0640);
    const Ran r = add_conv("003.json", "conv_added");
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    const std::string after = read("003.json");
    const size_t end_of_cases = original.rfind("}\n  ]\n}") + 1;
    EXPECT_EQ(after.substr(0, end_of_cases), original.substr(0, end_of_cases));  // byte for byte
    EXPECT_EQ(after.substr(after.size() - 7), "\n  ]\n}\n");
    EXPECT_TRUE(has(after, "    },\n    {\n      \"name\": \"conv_added\",\n"));
    const golden::File f = golden::load_file(dir_ / "003.json");
    const golden::File old = golden::load_string(original, "003.json");
    ASSERT_EQ(f.cases.size(), old.cases.size() + 1);
    EXPECT_EQ(f.cases.back().name, "conv_added");
    struct stat st {};
    ::stat((dir_ / "003.json").c_str(), &st);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    expect_files({"003.json"});

    // A second case lands after the first added one; all before it is unchanged again.
    ASSERT_EQ(add_pool("003.json", "pool_added", {"--kernel", "2,2", "--expected", "y=py.txt"}).status, 0);
    const std::string third = read("003.json");
    EXPECT_EQ(third.substr(0, after.size() - 7), after.substr(0, after.size() - 7));
    EXPECT_EQ(golden::load_file(dir_ / "003.json").cases.back().name, "pool_added");
}

TEST_F(ToolGolden, AddRefusesADuplicateNameAndLeavesTheFileAlone) {
    ASSERT_EQ(add_conv("mine.json", "conv_pad1").status, 0);
    age("mine.json");
    const Snapshot before = snapshot("mine.json");
    const Ran r = add_pool("mine.json", "conv_pad1", {"--kernel", "2,2", "--expected", "y=py.txt"});
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(has(r.err, "mine.json: (/cases/0/name) a case named \"conv_pad1\" exists already")) << r.err;
    EXPECT_TRUE(snapshot("mine.json") == before);
    expect_files({"mine.json"});
}

TEST_F(ToolGolden, AddRefusesAnInvalidName) {
    const Ran r = add_conv("mine.json", "Conv-Pad1");
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(has(r.err, "--name: a case name is [a-z0-9_]+, got \"Conv-Pad1\"")) << r.err;
    expect_files({});
}

TEST_F(ToolGolden, AddRefusesShapesThatDisagreeWithTheLoadersMessage) {
    ASSERT_EQ(add_conv("mine.json", "conv_pad1").status, 0);
    age("mine.json");
    const Snapshot before = snapshot("mine.json");
    // A 4x4 output where 2x2 max-pooling of 4x4 gives 2x2.
    Ran r = add_pool("mine.json", "pool", {"--kernel", "2,2", "--expected", "y=px.txt"});
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(has(r.err,
                    "mine.json: (/cases/1/expected/y) shape [1,1,4,4] disagrees with the problem "
                    "(mb1ic1ih4kh2sh2, NCHW), which gives [1,1,2,2] here (from --expected y=px.txt); "
                    "nothing written"))
        << r.err;
    // Weights of a 3x3 input given as x of a convolution whose w has two input channels.
    write("w2.txt", "[[[[1, 1]], [[1, 1]]]]");
    r = run({"golden", "add", "--file", "mine.json", "--name", "conv", "--op", "conv2d", "--pass", "forward",
             "--input", "x=x.txt", "--input", "w=w2.txt", "--expected", "y=y.txt"});
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(has(r.err, "(/cases/1/inputs/w) shape [1,2,1,2] disagrees with the problem")) << r.err;
    EXPECT_TRUE(has(r.err, "(from --input w=w2.txt)")) << r.err;
    // A 4-D tensor printed as 2-D.
    write("flat.txt", "[[0, 1, 2], [3, 4, 5], [6, 7, 8]]");
    r = add_pool("mine.json", "pool", {"--kernel", "2,2", "--expected", "y=py.txt", "--input", "x=flat.txt"});
    EXPECT_EQ(r.status, 2) << r.err;
    fs::remove(dir_ / "w2.txt");
    fs::remove(dir_ / "flat.txt");
    EXPECT_TRUE(snapshot("mine.json") == before);
    expect_files({"mine.json"});
}

TEST_F(ToolGolden, AddRefusesWhatNaiveDisagreesWithUnlessForced) {
    write("wrong.txt", "[[[[11. 15.]\n   [ 8. 16.]]]]");
    ASSERT_EQ(add_conv("mine.json", "conv_pad1").status, 0);
    age("mine.json");
    const Snapshot before = snapshot("mine.json");
    Ran r = add_pool("mine.json", "pool_wrong", {"--kernel", "2,2", "--expected", "y=wrong.txt"});
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(has(
        r.out, "failed   mine.json pool_wrong naive f32\nMISMATCH maxpool2d forward output y: variant naive"))
        << r.out;
    EXPECT_TRUE(has(r.out, "(n,c,h,w)=(0,0,1,1) got 15 want 16")) << r.out;
    EXPECT_FALSE(has(r.out, "repro:")) << "a repro line for a case that was not written";
    EXPECT_TRUE(has(r.err, "refused: naive disagrees with the expected values (above); nothing written"))
        << r.err;
    EXPECT_TRUE(snapshot("mine.json") == before);

    r = add_pool("mine.json", "pool_wrong", {"--kernel", "2,2", "--expected", "y=wrong.txt", "--force"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(has(r.out, "warning  naive disagrees with this case (written because of --force)")) << r.out;
    EXPECT_EQ(golden::load_file(dir_ / "mine.json").cases.back().name, "pool_wrong");
    EXPECT_EQ(run({"golden", "check", "mine.json", "--variant", "naive"}).status, 1);
    fs::remove(dir_ / "wrong.txt");
    expect_files({"mine.json"});
}

TEST_F(ToolGolden, AddReadsAnArrayFromStdin) {
    const Ran r = run({"golden",  "add",     "--file",  "mine.json", "--name",     "conv_pad1", "--op",
                       "conv2d",  "--pass",  "forward", "--pad",     "1,1",        "--input",   "x=x.txt",
                       "--input", "w=w.txt", "--input", "b=b.txt",   "--expected", "y=-"},
                      kY);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(golden::load_file(dir_ / "mine.json").cases.at(0).expected.at("y").value->values()[5], 11);
    // Only one array can come from stdin.
    EXPECT_EQ(run({"golden", "add", "--file", "other.json", "--name", "p", "--op", "maxpool2d", "--pass",
                   "forward", "--kernel", "2,2", "--input", "x=-", "--expected", "y=-"})
                  .status,
              2);
}

TEST_F(ToolGolden, AddTakesNumpysSpecialValues) {
    // nan, inf, -inf and -0. in max-pooling: commas or none, the array(...) wrapper, dtype.
    write("sx.txt", "array([[[[nan, 1., -inf, -0.],\n         [2., 3., -inf, -inf]]]], dtype=float32)");
    write("sy.txt", "[[[[nan -0.]]]]");
    const Ran r = add_pool("mine.json", "pool_special",
                           {"--kernel", "2,2", "--input", "x=sx.txt", "--expected", "y=sy.txt"});
    // x=px.txt is given twice now (the helper's and ours): refused, naming it.
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(has(r.err, "--input: x given twice")) << r.err;
    const Ran ok =
        run({"golden", "add", "--file", "mine.json", "--name", "pool_special", "--op", "maxpool2d", "--pass",
             "forward", "--kernel", "2,2", "--input", "x=sx.txt", "--expected", "y=sy.txt"});
    ASSERT_EQ(ok.status, 0) << ok.out << ok.err;
    const std::string text = read("mine.json");
    EXPECT_TRUE(has(text, "\"x\": [[[[ \"nan\",      1, \"-inf\",   -0.0],")) << text;
    EXPECT_TRUE(has(text, "\"y\": [[[[\"nan\",  -0.0]]]]")) << text;
    fs::remove(dir_ / "sx.txt");
    fs::remove(dir_ / "sy.txt");
    expect_files({"mine.json"});
}

TEST_F(ToolGolden, AddTakesTheProblemFromADescriptor) {
    // Max-pooling: benchdnn's stride 1 default differs from the format's (the kernel), so it is written.
    Ran r = add_pool("mine.json", "pool_desc", {"mb1ic1ih4kh2sh2", "--expected", "y=py.txt"});
    ASSERT_EQ(r.status, 0) << r.err;
    std::string text = read("mine.json");
    EXPECT_TRUE(has(
        text, "\"op\": \"maxpool2d\", \"pass\": \"forward\",\n      \"kernel\": [2, 2],\n      \"inputs\""))
        << text;
    write("s1.txt", "[[[[11 13 15] [4 15 15] [8 15 15]]]]");
    r = add_pool("mine.json", "pool_desc_s1", {"mb1ic1ih4kh2", "--expected", "y=s1.txt"});
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_TRUE(has(read("mine.json"), "\"kernel\": [2, 2],\n      \"stride\": [1, 1],\n"))
        << read("mine.json");
    // conv2d backward_data in NHWC: x_shape from the descriptor, in NHWC order; benchdnn's
    // dilation dh1 is the format's 2.
    write("dy.txt", "[[[[1.], [1.]], [[1.], [1.]]]]");
    write("w1.txt", "[[[[1.]]]]");
    write("dx.txt",
          "[[[[1.], [0.], [1.], [0.]], [[0.], [0.], [0.], [0.]], [[1.], [0.], [1.], [0.]], "
          "[[0.], [0.], [0.], [0.]]]]");
    r = run({"golden", "add", "--file", "mine.json", "--name", "conv_bwd_d", "--op", "conv2d", "--pass",
             "backward_data", "--layout", "NHWC", "mb1ic1ih4oc1kh1sh2", "--input", "w=w1.txt", "--input",
             "dy=dy.txt", "--expected", "dx=dx.txt"});
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    text = read("mine.json");
    EXPECT_TRUE(
        has(text, "\"layout\": \"NHWC\",\n      \"stride\": [2, 2],\n      \"x_shape\": [1, 4, 4, 1],\n"))
        << text;
    // col2im with benchdnn's dilation dh1 (taps 2 apart): x_shape, kernel and dilation written.
    write("c.txt", "[[1, 2, 3, 4]]");
    write("xd.txt", "[[[[1 0 2] [0 0 0] [3 0 4]]]]");
    r = run({"golden", "add", "--file", "mine.json", "--name", "col2im_dil", "--op", "col2im", "--pass",
             "forward", "mb1ic1ih3kh2dh1", "--input", "col=c.txt", "--expected", "x=xd.txt"});
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_TRUE(has(read("mine.json"),
                    "\"kernel\": [2, 2],\n      \"dilation\": [2, 2],\n      \"x_shape\": [1, 1, 3, 3],\n"))
        << read("mine.json");
    EXPECT_EQ(run({"golden", "check", "mine.json"}).status, 0);
}

// Contract 1.1's fields. x = arange(9) as 3x3 (kX); values worked by hand.
TEST_F(ToolGolden, AddTakesCountIncludePadAndCeilMode) {
    // 2x2 windows, stride 2, pad 1: rows {-1,0} and {1,2}, columns likewise. With the padding
    // counted every divisor is 4: 0/4, (1+2)/4, (3+6)/4, (4+5+7+8)/4. Without it, the taps in
    // x: 0/1, 3/2, 9/2, 24/4.
    write("yp.txt", "[[[[0.   0.75]\n   [2.25 6.  ]]]]\n");
    write("ynp.txt", "[[[[0.  1.5]\n   [4.5 6. ]]]]\n");
    const std::vector<std::string> avg = {"--op", "avgpool2d", "--pass", "forward", "--kernel", "2,2",
                                          "--pad", "1,1", "--input", "x=x.txt"};
    auto add = [&](const std::string& name, std::vector<std::string> extra) {
        std::vector<std::string> args = {"golden", "add", "--file", "mine.json", "--name", name};
        args.insert(args.end(), extra.begin(), extra.end());
        return run(args);
    };
    auto with = [](std::vector<std::string> a, const std::vector<std::string>& b) {
        a.insert(a.end(), b.begin(), b.end());
        return a;
    };
    Ran r = add("avg_p", with(avg, {"--count-include-pad", "true", "--expected", "y=yp.txt"}));
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "added    avg_p to mine.json (new file): avgpool2d forward mb1ic1ih3kh2sh2ph1 NCHW\n"))
        << r.out;
    r = add("avg_np", with(avg, {"--count-include-pad", "false", "--expected", "y=ynp.txt"}));
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    // The flag is what naive is held to: the other divisor's values are refused.
    r = add("avg_wrong", with(avg, {"--count-include-pad", "false", "--expected", "y=yp.txt"}));
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(has(r.out, "(n,c,h,w)=(0,0,0,1) got 1.5 want 0.75")) << r.out;

    // Ceil mode: 2x2 windows, stride 2, on 3 rows: ceil((3 - 2) / 2) + 1 = 2 windows, the
    // second {2} alone (floor mode has 1). Maxima: {0,1}x{0,1} 4, {0,1}x{2} 5, {2}x{0,1} 7, 8.
    write("yc.txt", "[[[[4 5]\n   [7 8]]]]\n");
    const std::vector<std::string> max = {"--op", "maxpool2d", "--pass", "forward", "--input", "x=x.txt",
                                          "--expected", "y=yc.txt"};
    r = add("max_ceil", with(max, {"--kernel", "2,2", "--ceil-mode", "true"}));
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "maxpool2d forward mb1ic1ih3kh2sh2ceil1 NCHW\n")) << r.out;
    r = add("max_ceil_desc", with(max, {"mb1ic1ih3kh2sh2ceil1"}));
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    // Without ceil mode the same arrays are the wrong shape: one window.
    r = add("max_floor", with(max, {"--kernel", "2,2"}));
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(has(r.err, "(/cases/4/expected/y) shape [1,1,2,2] disagrees with the problem (mb1ic1ih3kh2sh2, "
                           "NCHW), which gives [1,1,1,1]"))
        << r.err;

    const std::string text = read("mine.json");
    EXPECT_TRUE(has(text, "\"name\": \"avg_p\",\n      \"op\": \"avgpool2d\", \"pass\": \"forward\",\n"
                          "      \"kernel\": [2, 2],\n      \"pad\": [1, 1],\n      \"count_include_pad\": true,\n"))
        << text;
    EXPECT_TRUE(has(text, "\"count_include_pad\": false,\n")) << text;
    EXPECT_TRUE(has(text, "\"y\": [[[[   0, 0.75],\n                [2.25,    6]]]]")) << text;
    EXPECT_TRUE(has(text, "\"name\": \"max_ceil_desc\",\n      \"op\": \"maxpool2d\", \"pass\": \"forward\",\n"
                          "      \"kernel\": [2, 2],\n      \"ceil_mode\": true,\n"))
        << text;
    const golden::File f = golden::load_file(dir_ / "mine.json");
    ASSERT_EQ(f.cases.size(), 4u);
    // Every variant agrees with the four hand-worked cases.
    r = run({"golden", "check", "mine.json"});
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "passed   mine.json max_ceil strided f64\n")) << r.out;
    EXPECT_TRUE(has(r.out, "passed   mine.json avg_np im2col f32\n")) << r.out;

    // The new flags' usage errors, each naming its flag; nothing is written.
    age("mine.json");
    const Snapshot before = snapshot("mine.json");
    const std::pair<std::vector<std::string>, std::string> bad[] = {
        {with(max, {"--kernel", "2,2", "--count-include-pad", "true"}),
         "--count-include-pad: only avgpool2d has a divisor to count"},
        {with(avg, {"--expected", "y=yp.txt"}), "avgpool2d needs --count-include-pad true|false"},
        {with(avg, {"--count-include-pad", "1", "--expected", "y=yp.txt"}),
         "--count-include-pad: expected true or false, got \"1\""},
        {with(max, {"--kernel", "2,2", "--ceil-mode", "yes"}), "--ceil-mode: expected true or false, got \"yes\""},
        {with(conv_args("mine.json", "c"), {"--ceil-mode", "true"}),
         "--ceil-mode: only maxpool2d and avgpool2d have a ceil mode"},
        {with(max, {"mb1ic1ih3kh2sh2ceil1", "--ceil-mode", "false"}),
         "--ceil-mode false disagrees with the descriptor \"mb1ic1ih3kh2sh2ceil1\", which has ceil1"},
        {with(max, {"mb1ic1ih3kh2sh2", "--ceil-mode", "true"}),
         "--ceil-mode true disagrees with the descriptor \"mb1ic1ih3kh2sh2\", which lacks ceil1"},
    };
    for (const auto& [args, message] : bad) {
        // conv_args carries its own golden add prefix.
        r = args.front() == "golden" ? run(args) : add("bad", args);
        EXPECT_EQ(r.status, 2) << message;
        EXPECT_TRUE(has(r.err, "convconf golden add: " + message)) << r.err;
    }
    EXPECT_TRUE(snapshot("mine.json") == before);
    for (const char* f : {"yp.txt", "ynp.txt", "yc.txt"}) fs::remove(dir_ / f);
    expect_files({"mine.json"});
}

TEST_F(ToolGolden, AddRefusesADescriptorThatDisagrees) {
    // With a flag.
    Ran r = add_pool("mine.json", "p", {"mb1ic1ih4kh2sh2", "--stride", "1,1", "--expected", "y=py.txt"});
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(has(r.err, "--stride 1,1 disagrees with the descriptor \"mb1ic1ih4kh2sh2\", which gives 2,2"))
        << r.err;
    // With an array.
    r = add_pool("mine.json", "p", {"mb1ic1ih5kh2sh2", "--expected", "y=py.txt"});
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(has(r.err,
                    "--input x=px.txt: shape [1,1,4,4] disagrees with the descriptor \"mb1ic1ih5kh2sh2\" "
                    "(NCHW), which needs [1,1,5,5]"))
        << r.err;
    r = add_pool("mine.json", "p", {"ic1ih4kh2sh2", "--expected", "y=py.txt"});
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(has(r.err, "a descriptor without mb has benchdnn's mb2")) << r.err;
    // A bad descriptor names its token.
    r = add_pool("mine.json", "p", {"mb1ic1ih4kh2sh0", "--expected", "y=py.txt"});
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(has(r.err, "token \"sh0\"")) << r.err;
    expect_files({});
}

TEST_F(ToolGolden, AddRefusesAFileThatDoesNotLoad) {
    write("broken.json", R"({"format": "convconf-golden/1", "cases": [{"name": "a"}]})");
    age("broken.json");
    const Snapshot before = snapshot("broken.json");
    const Ran r = add_conv("broken.json", "conv_pad1");
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(has(r.err, "broken.json: (/cases/0) missing required field")) << r.err;
    EXPECT_TRUE(has(r.err, "the file must load before a case is added to it")) << r.err;
    EXPECT_TRUE(snapshot("broken.json") == before);
}

TEST_F(ToolGolden, AddBadFlagsAreUsageErrorsNamingTheFlag) {
    const std::pair<std::vector<std::string>, std::string> cases[] = {
        {{"--bogus"}, "unknown option --bogus"},
        {{"--kernel", "2"}, "--kernel: expected KH,KW (e.g. 2,2), got \"2\""},
        {{"--dilation", "1,x"}, "--dilation: expected DH,DW"},
        {{"--pad", "0,0"}, "--pad given more than once"},
        {{"--tolerance", "-1,0"}, "--tolerance: \"-1\" is not a finite number >= 0"},
        {{"--dtype", "f16"}, "--dtype"},
        {{"--layout", "NCWH"}, "--layout"},
        {{"--input", "x"}, "--input: expected NAME=PATH"},
        {{"--input", "q=x.txt"}, "--input q=x.txt: conv2d forward has no input \"q\""},
        {{"a", "b"}, "one descriptor at most"},
    };
    for (const auto& [extra, message] : cases) {
        const Ran r = add_conv("mine.json", "c", extra);
        EXPECT_EQ(r.status, 2) << message;
        EXPECT_TRUE(has(r.err, "convconf golden add: " + message)) << r.err;
        EXPECT_TRUE(has(r.err, "usage: convconf golden add")) << r.err;
    }
    Ran r = run(
        {"golden", "add", "--file", "m.json", "--name", "p", "--op", "maxpool2d", "--pass", "backward_data"});
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(has(r.err, "--pass: maxpool2d has no pass backward_data")) << r.err;
    r = run({"golden", "add", "--file", "m.json", "--name", "p", "--op", "maxpool2d", "--pass", "forward",
             "--input", "x=px.txt", "--expected", "y=py.txt"});
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(has(r.err, "maxpool2d forward needs --kernel KH,KW (or a descriptor)")) << r.err;
    r = run({"golden", "add", "--file", "m.json", "--name", "p", "--op", "conv2d", "--pass", "forward",
             "--input", "x=x.txt", "--expected", "y=y.txt"});
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(has(r.err, "conv2d forward needs --input w=PATH")) << r.err;
    // An array that cannot be read or parsed: bad input, named, exit 2 (not a usage error).
    r = add_pool("m.json", "p", {"--kernel", "2,2", "--expected", "y=missing.txt"});
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(has(r.err, "convconf: --expected y=missing.txt: no such file")) << r.err;
    write("summarised.txt", "[[[[0 1 ... 8 9]]]]");
    r = add_pool("m.json", "p", {"--kernel", "2,2", "--expected", "y=summarised.txt"});
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(has(r.err, "--expected y=summarised.txt: summarised.txt:1:9: numpy summarised this array")) << r.err;
    fs::remove(dir_ / "summarised.txt");
    expect_files({});
}

// ---- golden add: nothing a user wrote is lost (issue 13) ---------------------------------------

TEST_F(ToolGolden, AddsStartedTogetherLoseNoCase) {
    // Four adds to one small file at once, ten times over, to a new file and to one that has
    // a case: every case is in the file.
    for (int round = 0; round < 10; ++round) {
        const std::string file = "r" + std::to_string(round) + ".json";
        std::set<std::string> want = {"case_0", "case_1", "case_2", "case_3"};
        if (round % 2) {
            ASSERT_EQ(add_conv(file, "there_before").status, 0);
            want.insert("there_before");
        }
        std::vector<pid_t> pids;
        for (int k = 0; k < 4; ++k)
            pids.push_back(start(conv_args(file, "case_" + std::to_string(k)), "w" + std::to_string(k)));
        std::set<std::string> names;
        for (int k = 0; k < 4; ++k) {
            const Ran r = finish(pids[size_t(k)], "w" + std::to_string(k));
            EXPECT_EQ(r.status, 0) << "round " << round << " writer " << k << ": " << r.out << r.err;
        }
        for (const golden::Case& c : golden::load_file(dir_ / file).cases) names.insert(c.name);
        EXPECT_EQ(names, want) << "round " << round;
        fs::remove(dir_ / file);
    }
    expect_files({});
}

TEST_F(ToolGolden, AddWaitsForTheLockAndAddsToWhatItFindsThen) {
    // Holding the lock as another convconf would: the add waits, then adds to the file as
    // the holder left it, so the holder's change is kept.
    ASSERT_EQ(add_conv("mine.json", "first").status, 0);
    const int held = ::open((dir_ / "mine.json.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    ASSERT_EQ(::flock(held, LOCK_EX), 0);
    const pid_t waiting = start(conv_args("mine.json", "waited"), "w");
    ::usleep(500000);
    int status = 0;
    const pid_t done = ::waitpid(waiting, &status, WNOHANG);
    EXPECT_EQ(done, 0) << "golden add finished while another writer held mine.json.lock";
    nlohmann::ordered_json theirs = nlohmann::ordered_json::parse(read("mine.json")).at("cases").at(0);
    theirs["name"] = "the_holders";
    write("mine.json", golden::append_case(read("mine.json"), theirs));
    ::close(held);
    const Ran r = done == 0 ? finish(waiting, "w") : collect(status, "w");
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.err, "convconf: waiting for \"mine.json\": another convconf is writing it")) << r.err;
    std::vector<std::string> names;
    for (const golden::Case& c : golden::load_file(dir_ / "mine.json").cases) names.push_back(c.name);
    EXPECT_EQ(names, (std::vector<std::string>{"first", "the_holders", "waited"}));
    expect_files({"mine.json"});
}

TEST_F(ToolGolden, AddRefusesAReadOnlyFileAsAnEditorDoes) {
    ASSERT_EQ(add_conv("mine.json", "first").status, 0);
    ::chmod((dir_ / "mine.json").c_str(), 0444);
    age("mine.json");
    const Snapshot before = snapshot("mine.json");
    const Ran r = add_conv("mine.json", "second");
    EXPECT_EQ(r.status, 2);
    EXPECT_EQ(r.out, "");  // refused before any work
    EXPECT_TRUE(has(r.err, "convconf: --file: cannot write \"mine.json\": it is read-only (mode 0444); nothing written"))
        << r.err;
    EXPECT_TRUE(snapshot("mine.json") == before);
    expect_files({"mine.json"});
}

TEST_F(ToolGolden, AddRefusesAHardLinkedFileRatherThanSplitIt) {
    ASSERT_EQ(add_conv("mine.json", "first").status, 0);
    fs::create_hard_link(dir_ / "mine.json", dir_ / "other_name.json");
    age("mine.json");
    const Snapshot before = snapshot("mine.json");
    const Ran r = add_conv("other_name.json", "second");
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(has(r.err, "convconf: --file: cannot write \"other_name.json\": it has 2 hard links")) << r.err;
    EXPECT_TRUE(snapshot("mine.json") == before && snapshot("other_name.json") == before);
    expect_files({"mine.json", "other_name.json"});
}

TEST_F(ToolGolden, AddThroughASymlinkWritesItsFileKeepsTheLinkAndTheMode) {
    ASSERT_EQ(add_conv("mine.json", "first").status, 0);
    ::chmod((dir_ / "mine.json").c_str(), 0600);
    fs::create_symlink("mine.json", dir_ / "link.json");
    const Ran r = add_conv("link.json", "second");
    ASSERT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_TRUE(fs::is_symlink(dir_ / "link.json"));
    EXPECT_EQ(golden::load_file(dir_ / "mine.json").cases.size(), 2u);
    EXPECT_EQ(snapshot("mine.json").mode & 07777, 0600u);
    expect_files({"mine.json", "link.json"});
}

TEST_F(ToolGolden, AddOnAFullDiskLeavesTheFileAsItWas) {
    // Writes past 1 KiB fail (EFBIG, as ENOSPC on a full disk; sh's ulimit -f counts 512-byte
    // blocks); the file is larger than that.
    for (const char* name : {"a", "b", "c"}) ASSERT_EQ(add_conv("mine.json", name).status, 0);
    ASSERT_GT(read("mine.json").size(), 1024u);
    age("mine.json");
    const Snapshot before = snapshot("mine.json");
    const Ran r = add_conv("mine.json", "d", {}, "trap '' XFSZ; ulimit -f 2;");
    EXPECT_EQ(r.status, 2) << r.out << r.err;
    EXPECT_TRUE(has(r.err, "convconf: --file: cannot write \"mine.json\": writing \"./.mine.json.tmp-")) << r.err;
    EXPECT_TRUE(has(r.err, "File too large; the file is as it was")) << r.err;
    EXPECT_TRUE(snapshot("mine.json") == before);
    expect_files({"mine.json"});
}

// ---- golden (run), check, list, help -------------------------------------------------------------

TEST_F(ToolGolden, RunNamesAFileAsGivenSoItsReproLineWorks) {
    write("wrong.txt", "[[[[11. 15.]\n   [ 8. 16.]]]]");
    ASSERT_EQ(add_pool("mine.json", "pool_wrong", {"--kernel", "2,2", "--expected", "y=wrong.txt", "--force"}).status,
              0);
    const std::string absolute = (dir_ / "mine.json").string();
    const Ran r = run({"golden", "--file", absolute, "--variant", "naive", "--dtype", "f32"});
    EXPECT_EQ(r.status, 1);
    EXPECT_TRUE(has(r.out, "repro: convconf golden --file " + absolute + " --case pool_wrong --variant naive")) << r.out;
    // A file found in the golden directory by its name keeps the golden/ prefix.
    EXPECT_TRUE(has(run({"golden", "--file", "003_ee95f665f38c7247.json", "--variant", "naive"}).out,
                    "passed   golden/003_ee95f665f38c7247.json ")) << "lookup in golden/";
    fs::remove(dir_ / "wrong.txt");
}


TEST_F(ToolGolden, CheckValidatesAndRuns) {
    ASSERT_EQ(add_conv("good.json", "conv_pad1").status, 0);
    Ran r = run({"golden", "check", "good.json"});
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_TRUE(has(r.out, "valid    good.json: 1 case (golden/schema.json and the loader's rules)\n"))
        << r.out;
    EXPECT_TRUE(has(r.out, "passed   good.json conv_pad1 strided f64\n")) << r.out;
    EXPECT_TRUE(has(r.out, "passed, 0 failed,")) << r.out;

    write("bad.json", R"({"format": "convconf-golden/1", "cases": [
 {"name": "a", "op": "maxpool2d", "pass": "forward", "kernel": [2, 2], "stride": ["2", 2],
  "inputs": {"x": [[[[1, 2], [3, 4]]]]}, "expected": {"y": [[[[4]]]]}}]})");
    r = run({"golden", "check", "good.json", "bad.json"});
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(has(r.err,
                    "convconf: bad.json: (/cases/0/stride/0) type must be integer, but is string "
                    "[golden/schema.json]\n"))
        << r.err;
    EXPECT_TRUE(has(r.err, "convconf: bad.json: (/cases/0/stride/0) type must be number, but is string\n"))
        << r.err;
    EXPECT_TRUE(has(r.out, "invalid  bad.json")) << r.out;
    EXPECT_TRUE(has(r.out, "passed   good.json conv_pad1 naive f32\n")) << "the valid file still runs";
    EXPECT_TRUE(has(r.out, "1 of 2 files invalid\n")) << r.out;

    write("notjson.json", "{\"format\": ");
    r = run({"golden", "check", "notjson.json"});
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(has(r.err, "notjson.json: parse error")) << r.err;
    EXPECT_EQ(run({"golden", "check"}).status, 2);
    EXPECT_EQ(run({"golden", "check", "absent.json"}).status, 2);
}

TEST_F(ToolGolden, ListShowsFilesAndCases) {
    fs::create_directory(dir_ / "g");
    ASSERT_EQ(add_conv("g/one.json", "conv_pad1", {"--note", "In [13]"}).status, 0);
    ASSERT_EQ(
        add_pool("g/one.json", "pool_k2", {"--kernel", "2,2", "--expected", "y=py.txt", "--dtype", "f64"})
            .status,
        0);
    const Ran r = run({"golden", "list", "--golden", "g"});
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out,
              "g/one.json: 2 cases; source: convconf golden add\n"
              "  conv_pad1  conv2d forward             f32,f64  In [13]\n"
              "  pool_k2    maxpool2d forward          f64\n"
              "1 file, 2 cases\n");
    EXPECT_EQ(run({"golden", "list", "g/one.json"}).out, r.out);
    const Ran builtin = run({"golden", "list"});
    EXPECT_EQ(builtin.status, 0);
    EXPECT_TRUE(has(builtin.out, "golden/001_b9ad586398eff267.json: 28 cases; source: notebook"))
        << builtin.out;
    EXPECT_EQ(run({"golden", "list", "--golden", "nowhere"}).status, 2);
    EXPECT_EQ(run({"golden", "list", "--bogus"}).status, 2);
}

TEST_F(ToolGolden, EverySubcommandHasHelpWithExamples) {
    for (const char* sub : {"run", "add", "check", "list"}) {
        const Ran r = run({"golden", sub, "--help"});
        EXPECT_EQ(r.status, 0) << sub;
        EXPECT_TRUE(
            has(r.out, std::string("usage: convconf golden ") + (sub == std::string("run") ? "[run]" : sub)))
            << r.out;
        EXPECT_TRUE(has(r.out, "examples:\n")) << r.out;
    }
    const Ran r = run({"golden", "check", "--bogus", "x.json"});
    EXPECT_EQ(r.status, 2);
    EXPECT_TRUE(has(r.err, "convconf golden check: unknown option --bogus\nusage: convconf golden check"))
        << r.err;
}

}  // namespace
}  // namespace convconf
