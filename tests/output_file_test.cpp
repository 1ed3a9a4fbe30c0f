// Writing the files a user names (reference/output_file.hpp, issue 13): checked before any
// work, written whole or not at all, modes and symlinks kept, read-only and hard-linked
// files refused, a full disk an error that leaves the old content.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>

#include <filesystem>
#include <fstream>
#include <set>

#include "reference/golden/edit.hpp"
#include "reference/input.hpp"
#include "reference/output_file.hpp"

// renameat2 as this test binary sees it: the kernel's, unless a test makes it fail with
// `renameat2_fails` (ENOSYS: an old kernel; EINVAL: a file system without RENAME_NOREPLACE)
// to drive OutputFile's link-and-unlink fallback. The definition here takes the place of
// glibc's for every caller linked into convconf_tests.
// With `renameat2_races` another program creates the target just before.
static std::atomic<int> renameat2_fails{0};
static std::atomic<bool> renameat2_races{false};
extern "C" int renameat2(int from_dir, const char* from, int to_dir, const char* to, unsigned flags) noexcept {
    if (const int e = renameat2_fails.load()) {
        if (renameat2_races) std::ofstream(to) << "someone else's";
        errno = e;
        return -1;
    }
    return static_cast<int>(::syscall(SYS_renameat2, from_dir, from, to_dir, to, flags));
}

namespace convconf {
namespace {

namespace fs = std::filesystem;

class OutputFileTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string templ = (fs::temp_directory_path() / "convconf_output_XXXXXX").string();
        ASSERT_NE(::mkdtemp(templ.data()), nullptr);
        dir_ = templ;
    }
    void TearDown() override { fs::remove_all(dir_); }
    fs::path at(const std::string& name) const { return dir_ / name; }
    void write(const std::string& name, const std::string& text) { std::ofstream(at(name), std::ios::binary) << text; }
    std::string read(const std::string& name) { return golden::read_text(at(name)); }
    // Nothing but `names` in the directory: no temporary or lock file left behind.
    void expect_only(std::set<std::string> names) {
        std::set<std::string> found;
        for (const auto& e : fs::directory_iterator(dir_)) found.insert(e.path().filename().string());
        EXPECT_EQ(found, names);
    }
    mode_t mode_of(const std::string& name) {
        struct stat st {};
        ::stat(at(name).c_str(), &st);
        return st.st_mode & 07777;
    }
    // The message OutputFile(option, path) throws, or "" when it accepts the path.
    static std::string refusal(const fs::path& path) {
        try {
            OutputFile("--junit", path);
        } catch (const OutputError& e) {
            return e.what();
        }
        return "";
    }
    fs::path dir_;
};

// Writes beyond `bytes` fail with EFBIG while it lives, as on a full disk (and no signal).
class FileSizeLimit {
public:
    explicit FileSizeLimit(rlim_t bytes) {
        ::getrlimit(RLIMIT_FSIZE, &old_);
        old_handler_ = ::signal(SIGXFSZ, SIG_IGN);
        rlimit limit = old_;
        limit.rlim_cur = bytes;
        ::setrlimit(RLIMIT_FSIZE, &limit);
    }
    ~FileSizeLimit() {
        ::setrlimit(RLIMIT_FSIZE, &old_);
        ::signal(SIGXFSZ, old_handler_);
    }

private:
    rlimit old_{};
    sighandler_t old_handler_;
};

TEST_F(OutputFileTest, CreatesANewFileWithTheUmasksMode) {
    OutputFile("--json", at("new.json")).write("new");
    EXPECT_EQ(read("new.json"), "new");
    const mode_t mask = ::umask(0);
    ::umask(mask);
    EXPECT_EQ(mode_of("new.json"), 0666 & ~mask);
    expect_only({"new.json"});
}

TEST_F(OutputFileTest, ReplacesAndKeepsTheMode) {
    write("r.xml", "old");
    ::chmod(at("r.xml").c_str(), 0640);
    OutputFile("--junit", at("r.xml")).write("new");
    EXPECT_EQ(read("r.xml"), "new");
    EXPECT_EQ(mode_of("r.xml"), 0640u);
    expect_only({"r.xml"});
}

TEST_F(OutputFileTest, WritesTheFileASymlinkNamesAndKeepsTheLink) {
    write("real.json", "old");
    fs::create_symlink("real.json", at("link.json"));
    fs::create_symlink("link.json", at("link2.json"));
    fs::create_symlink("absent.json", at("dangling.json"));
    const OutputFile file("--json", at("link2.json"));
    EXPECT_EQ(file.target(), at("real.json"));
    file.write("new");
    OutputFile("--json", at("dangling.json")).write("created");
    EXPECT_TRUE(fs::is_symlink(at("link.json")) && fs::is_symlink(at("link2.json")) &&
                fs::is_symlink(at("dangling.json")));
    EXPECT_EQ(read("real.json"), "new");
    EXPECT_EQ(read("absent.json"), "created");
    expect_only({"real.json", "link.json", "link2.json", "dangling.json", "absent.json"});
}

TEST_F(OutputFileTest, RefusesBeforeAnyWorkWhatCannotBeWritten) {
    EXPECT_EQ(refusal("/nonexistent/dir/x.xml"),
              "--junit: cannot write \"/nonexistent/dir/x.xml\": No such file or directory");
    EXPECT_EQ(refusal(dir_), "--junit: cannot write \"" + dir_.string() + "\": Is a directory");
    write("plain", "x");
    EXPECT_EQ(refusal(at("plain") / "x.xml"),
              "--junit: cannot write \"" + (at("plain") / "x.xml").string() + "\": Not a directory");
    EXPECT_EQ(refusal(""), "--junit: an empty file name");
    write("ro.xml", "mine");
    ::chmod(at("ro.xml").c_str(), 0444);
    EXPECT_EQ(refusal(at("ro.xml")), "--junit: cannot write \"" + at("ro.xml").string() +
                                         "\": it is read-only (mode 0444); nothing written (make it "
                                         "writable, chmod u+w, if it is meant to change)");
    write("a.xml", "shared");
    fs::create_hard_link(at("a.xml"), at("b.xml"));
    EXPECT_NE(refusal(at("a.xml")).find("\"" + at("a.xml").string() + "\": it has 2 hard links"), std::string::npos);
    // Devices are written in place, not replaced.
    EXPECT_EQ(refusal("/dev/null"), "");
    EXPECT_TRUE(OutputFile("--junit", "/dev/null").in_place());
    EXPECT_EQ(read("ro.xml"), "mine");
    EXPECT_EQ(read("a.xml"), "shared");
    expect_only({"plain", "ro.xml", "a.xml", "b.xml"});
}

TEST_F(OutputFileTest, AFullDiskIsAnErrorAndLeavesTheOldContent) {
    EXPECT_THROW(
        {
            try {
                OutputFile("--junit", "/dev/full").write("report");
            } catch (const OutputError& e) {
                EXPECT_STREQ(e.what(), "--junit: cannot write \"/dev/full\": No space left on device");
                throw;
            }
        },
        OutputError);

    write("r.json", "the old report");
    const OutputFile file("--json", at("r.json"));
    const FileSizeLimit limit(1024);
    try {
        file.write(std::string(4096, 'x'));
        ADD_FAILURE() << "a write past the limit succeeded";
    } catch (const OutputError& e) {
        EXPECT_NE(std::string(e.what()).find("File too large; the file is as it was"), std::string::npos)
            << e.what();
    }
    EXPECT_EQ(read("r.json"), "the old report");
    expect_only({"r.json"});
}

TEST_F(OutputFileTest, LockReadsUnderTheLockAndRefusesAChangeMadeWithoutIt) {
    write("g.json", "old");
    {
        const OutputFile::Lock lock(OutputFile("--file", at("g.json")));
        EXPECT_EQ(lock.content(), std::optional<std::string>("old"));
        expect_only({"g.json", "g.json.lock"});
        lock.replace("new");
    }
    EXPECT_EQ(read("g.json"), "new");
    expect_only({"g.json"});  // the lock file goes with the lock

    const OutputFile file("--file", at("g.json"));
    const OutputFile::Lock lock(file);
    write("g.json", "an editor's change");  // without the lock
    EXPECT_THROW(lock.replace("ours"), OutputError);
    EXPECT_EQ(read("g.json"), "an editor's change");

    const OutputFile absent("--file", at("new.json"));
    const OutputFile::Lock creating(absent);
    EXPECT_EQ(creating.content(), std::nullopt);
    write("new.json", "appeared");
    EXPECT_THROW(creating.replace("ours"), OutputError);
    EXPECT_EQ(read("new.json"), "appeared");
}

TEST_F(OutputFileTest, LockWaitsForTheHolder) {
    write("g.json", "old");
    const int held = ::open(at("g.json.lock").c_str(), O_RDWR | O_CREAT, 0666);
    ASSERT_EQ(::flock(held, LOCK_EX), 0);
    const pid_t child = ::fork();
    if (child == 0) {
        ::close(held);  // the parent's lock, not the child's
        // Blocks until the parent lets go; then sees what the parent wrote meanwhile.
        const OutputFile::Lock lock(OutputFile("--file", at("g.json")));
        lock.replace(*lock.content() + " child");
        ::_exit(0);
    }
    ::usleep(200000);
    int status = 0;
    EXPECT_EQ(::waitpid(child, &status, WNOHANG), 0) << "the second writer did not wait for the lock";
    write("g.json", "old parent");
    ::close(held);
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_EQ(read("g.json"), "old parent child");
}

TEST_F(OutputFileTest, WriteNewFileNeverReplacesAndLeavesNoPartialFile) {
    EXPECT_EQ(write_new_file("DIR", at("failures"), "case", ".json", "one"), at("failures") / "case.json");
    EXPECT_EQ(write_new_file("DIR", at("failures"), "case", ".json", "two"), at("failures") / "case-2.json");
    EXPECT_EQ(golden::read_text(at("failures") / "case.json"), "one");
    {
        const FileSizeLimit limit(1024);
        EXPECT_THROW(write_new_file("DIR", at("failures"), "big", ".json", std::string(4096, 'x')), OutputError);
    }
    std::set<std::string> found;
    for (const auto& e : fs::directory_iterator(at("failures"))) found.insert(e.path().filename().string());
    EXPECT_EQ(found, (std::set<std::string>{"case.json", "case-2.json"}));
    write("plain", "x");
    EXPECT_THROW(write_new_file("DIR", at("plain") / "sub", "case", ".json", "x"), OutputError);
}

// Started with standard input closed (as some CI runners and daemons are), the first file
// convconf opens gets descriptor 0: reading, locking and writing must take it like any other.
TEST_F(OutputFileTest, WorksWithStandardInputClosed) {
    write("in.json", "{\"cases\": []}");
    write("out.json", "old");
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        ::close(0);
        int status = 0;
        try {
            if (read_input_file(at("in.json"), "--file") != "{\"cases\": []}") status = 1;
            if (::fcntl(0, F_GETFD) != -1) status = 4;  // the file read is closed again: no descriptor kept
            const OutputFile out("--file", at("out.json"));
            const OutputFile::Lock lock(out);
            if (lock.content() != "old") status = 2;
            lock.replace("new");
            write_new_file("DIR", dir_, "fresh", ".json", "x");
        } catch (...) {
            status = 3;
        }
        ::_exit(status);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "1: read wrong, 2: locked content wrong, 3: threw, 4: descriptor 0 kept open";
    EXPECT_EQ(read("out.json"), "new");
    EXPECT_EQ(read("fresh.json"), "x");
    expect_only({"in.json", "out.json", "fresh.json"});
}

// Without RENAME_NOREPLACE a new file is made with link() and unlink(): it still appears
// whole, is never written over a file someone else made, and leaves no second name.
TEST_F(OutputFileTest, WithoutRenameNoReplaceNewFilesAreLinkedAndNothingIsReplaced) {
    for (const int error : {ENOSYS, EINVAL}) {
        SCOPED_TRACE(error == ENOSYS ? "ENOSYS" : "EINVAL");
        fs::remove_all(dir_);
        fs::create_directory(dir_);
        struct Failing {
            explicit Failing(int e) { renameat2_fails = e; }
            ~Failing() { renameat2_fails = 0; }
        } failing(error);

        EXPECT_EQ(write_new_file("DIR", at("failures"), "case", ".json", "one"), at("failures") / "case.json");
        EXPECT_EQ(write_new_file("DIR", at("failures"), "case", ".json", "two"), at("failures") / "case-2.json");
        EXPECT_EQ(golden::read_text(at("failures") / "case.json"), "one");
        EXPECT_EQ(golden::read_text(at("failures") / "case-2.json"), "two");
        std::set<std::string> found;
        for (const auto& e : fs::directory_iterator(at("failures"))) found.insert(e.path().filename().string());
        EXPECT_EQ(found, (std::set<std::string>{"case.json", "case-2.json"}));

        // A report to a new file, and one whose file appears before convconf writes it.
        const OutputFile fresh("--junit", at("new.xml"));
        fresh.write("report");
        EXPECT_EQ(read("new.xml"), "report");
        const OutputFile raced("--json", at("raced.json"));
        renameat2_races = true;
        try {
            raced.write("report");
            ADD_FAILURE() << "wrote over a file that appeared meanwhile";
        } catch (const OutputError& e) {
            EXPECT_NE(std::string(e.what()).find("it appeared meanwhile; nothing written"), std::string::npos)
                << e.what();
        }
        renameat2_races = false;
        EXPECT_EQ(read("raced.json"), "someone else's");
        expect_only({"failures", "new.xml", "raced.json"});
    }
    // Any other failure of renameat2 is an error, not a reason to link.
    renameat2_fails = EACCES;
    EXPECT_THROW(write_new_file("DIR", at("failures"), "case", ".json", "x"), OutputError);
    renameat2_fails = 0;
    expect_only({"failures", "new.xml", "raced.json"});
}

}  // namespace
}  // namespace convconf
