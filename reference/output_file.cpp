#include "reference/output_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "reference/input.hpp"

namespace convconf {
namespace fs = std::filesystem;

struct OutputFile::Found {
    Kind kind = Kind::file;
    fs::path target;
    std::optional<struct stat> st;  // the file as it is; nullopt: not there yet
};

namespace {

std::string in_quotes(const fs::path& p) { return "\"" + p.string() + "\""; }

[[noreturn]] void cannot(const std::string& option, const fs::path& path, const std::string& why) {
    throw OutputError(option + ": cannot write " + in_quotes(path) + ": " + why);
}

std::string errno_text() { return std::strerror(errno); }

bool same_file(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

// The mode a new file gets: 0666 less the umask (which can only be read by setting it).
mode_t new_file_mode() {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    return 0666 & ~mask;
}

// `p` with its symlinks followed to the name they end at, which need not exist yet.
fs::path follow_links(const std::string& option, const fs::path& path) {
    fs::path p = path;
    for (int hops = 0; hops < 40; ++hops) {
        struct stat st {};
        if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p;
        std::error_code ec;
        const fs::path to = fs::read_symlink(p, ec);
        if (ec) return p;
        p = to.is_absolute() ? to : p.parent_path() / to;
    }
    cannot(option, path, std::strerror(ELOOP));
}

fs::path directory_of(const fs::path& file) {
    const fs::path dir = file.parent_path();
    return dir.empty() ? fs::path(".") : dir;
}

// A file is created in `target`'s directory and renamed: the directory must let us.
void check_directory(const std::string& option, const fs::path& path, const fs::path& target) {
    const fs::path dir = directory_of(target);
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) cannot(option, path, errno_text());
    if (!S_ISDIR(st.st_mode)) cannot(option, path, std::strerror(ENOTDIR));
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
        cannot(option, path, errno_text() + " (a file cannot be created in its directory " + in_quotes(dir) + ")");
    // The temporary file's name (TempFile) must fit too, or the work would be done for nothing.
    const long name_max = ::pathconf(dir.c_str(), _PC_NAME_MAX);
    const std::string temp_name = "." + target.filename().string() + ".tmp-XXXXXX";
    if (name_max > 0 && temp_name.size() > size_t(name_max))
        cannot(option, path, "its name is too long: it is written through a temporary file \"" + temp_name +
                                 "\" beside it, and names in " + in_quotes(dir) + " have at most " +
                                 std::to_string(name_max) + " bytes");
}

// Every byte of `text` to `fd`; false with errno set when a write fails (ENOSPC: disk full).
bool write_all(int fd, std::string_view text) {
    for (size_t done = 0; done < text.size();) {
        const ssize_t w = ::write(fd, text.data() + done, text.size() - done);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        done += size_t(w);
    }
    return true;
}

std::optional<std::string> read_all(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::string text;
    char buf[65536];
    for (;;) {
        const ssize_t r = ::read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            const bool ok = r == 0;
            ::close(fd);
            if (!ok) return std::nullopt;
            return text;
        }
        text.append(buf, size_t(r));
    }
}

// A temporary file in `dir` holding `text`, flushed to disk; removed again unless released.
class TempFile {
public:
    TempFile(const std::string& option, const fs::path& path, const fs::path& dir, const std::string& name,
             std::string_view text, mode_t mode, const std::string& unchanged)
        : name_((dir / ("." + name + ".tmp-XXXXXX")).string()) {
        const int fd = ::mkostemp(name_.data(), O_CLOEXEC);
        if (fd < 0) {
            name_.clear();
            cannot(option, path, "creating a temporary file in " + in_quotes(dir) + ": " + errno_text() + unchanged);
        }
        const char* step = nullptr;
        if (!write_all(fd, text)) step = "writing";
        else if (::fchmod(fd, mode) != 0) step = "setting the mode of";
        else if (::fsync(fd) != 0) step = "flushing";
        if (step) {
            const int err = errno;
            ::close(fd);
            errno = err;
        } else if (::close(fd) != 0) {
            step = "closing";
        }
        if (step) {
            // The destructor does not run for a constructor that throws: remove it here.
            const std::string why = std::string(step) + " " + in_quotes(name_) + ": " + errno_text() + unchanged;
            ::unlink(name_.c_str());
            cannot(option, path, why);
        }
    }
    ~TempFile() {
        if (!name_.empty()) ::unlink(name_.c_str());
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    const std::string& name() const { return name_; }
    void released() { name_.clear(); }

private:
    std::string name_;
};

// Renames `from` to `to` unless `to` exists (false, errno EEXIST): a new file appears whole
// and with one name. A file system without RENAME_NOREPLACE gets link() and unlink(), which
// never replace either but show two names for a moment.
bool rename_no_replace(const std::string& from, const fs::path& to) {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
    if (errno != EINVAL && errno != ENOSYS) return false;
    if (::link(from.c_str(), to.c_str()) != 0) return false;
    ::unlink(from.c_str());
    return true;
}

// A rename or link in `dir` to disk. EINVAL: the file system cannot flush a directory.
void sync_directory(const std::string& option, const fs::path& path, const fs::path& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const bool ok = fd >= 0 && (::fsync(fd) == 0 || errno == EINVAL);
    const int err = errno;
    if (fd >= 0) ::close(fd);
    errno = err;
    if (!ok) cannot(option, path, "written, but flushing its directory " + in_quotes(dir) + " to disk failed: " + errno_text());
}

}  // namespace

OutputFile::Found OutputFile::inspect(const std::string& option, const fs::path& path) {
    if (path.empty()) throw OutputError(option + ": an empty file name");
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno != ENOENT) cannot(option, path, errno_text());
        const fs::path target = follow_links(option, path);  // a dangling link: create what it names
        check_directory(option, path, target);
        return {Kind::file, target, std::nullopt};
    }
    if (S_ISDIR(st.st_mode)) cannot(option, path, std::strerror(EISDIR));
    for (const auto& [fd, kind] : {std::pair{STDOUT_FILENO, Kind::stdout_fd}, {STDERR_FILENO, Kind::stderr_fd}}) {
        struct stat stream {};
        if (::fstat(fd, &stream) == 0 && same_file(stream, st)) return {kind, path, st};
    }
    const fs::path target = follow_links(option, path);
    struct stat at_target {};
    const bool linked_name = ::stat(target.c_str(), &at_target) == 0 && same_file(at_target, st);
    if (!S_ISREG(st.st_mode) || !linked_name) {
        // A device or FIFO, or a name no symlink leads to (/proc/self/fd/N): written in place.
        if (::access(path.c_str(), W_OK) != 0) cannot(option, path, errno_text());
        return {Kind::device, path, st};
    }
    if ((st.st_mode & 0222) == 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
        cannot(option, path, std::string("it is read-only (mode ") + mode +
                                 "); nothing written (make it writable, chmod u+w, if it is meant to change)");
    }
    if (::access(target.c_str(), W_OK) != 0) cannot(option, path, errno_text());
    if (st.st_nlink > 1)
        cannot(option, path, "it has " + std::to_string(st.st_nlink) +
                                 " hard links, and replacing it would leave the other names with the old "
                                 "content; nothing written (copy it to a file of its own to change it)");
    check_directory(option, path, target);
    return {Kind::file, target, st};
}

OutputFile::OutputFile(std::string option, fs::path path) : option_(std::move(option)), path_(std::move(path)) {
    const Found f = inspect(option_, path_);
    kind_ = f.kind;
    target_ = fs::absolute(f.target).lexically_normal();
}

// Replaces `f.target` by a temporary file holding `text`: the old content stays until the
// rename, and on any failure. With `expected`, the file must still be what was read.
void OutputFile::replace_atomically(const std::string& option, const fs::path& path, const Found& f,
                                    std::string_view text, const std::optional<std::string>* expected) {
    const std::string unchanged = f.st ? "; the file is as it was" : "; nothing written";
    const fs::path dir = directory_of(f.target);
    TempFile temp(option, path, dir, f.target.filename().string(), text,
                  f.st ? f.st->st_mode & 07777 : new_file_mode(), unchanged);
    if (f.st && ::geteuid() == 0) (void)::chown(temp.name().c_str(), f.st->st_uid, f.st->st_gid);
    if (expected && f.st.has_value() != expected->has_value())
        cannot(option, path, std::string(f.st ? "it appeared" : "it disappeared") +
                                 " while convconf held its lock (written by a program that does not take "
                                 "it?)" + unchanged);
    if (expected && *expected && read_all(f.target) != **expected)
        cannot(option, path, "it changed while convconf held its lock (edited by a program that does not take "
                             "it?)" + unchanged);
    if (f.st) {
        if (::rename(temp.name().c_str(), f.target.c_str()) != 0)
            cannot(option, path, "renaming " + in_quotes(temp.name()) + " over it: " + errno_text() + unchanged);
        temp.released();
    } else if (!rename_no_replace(temp.name(), f.target)) {
        // A file created meanwhile by someone else is kept.
        cannot(option, path, (errno == EEXIST ? std::string("it appeared meanwhile") : errno_text()) + unchanged);
    } else {
        temp.released();
    }
    sync_directory(option, path, dir);
}

void OutputFile::write(std::string_view text) const {
    const Found f = inspect(option_, path_);
    if (f.kind == Kind::file) return replace_atomically(option_, path_, f, text, nullptr);
    int fd = f.kind == Kind::stdout_fd ? STDOUT_FILENO : STDERR_FILENO;
    std::fflush(f.kind == Kind::stderr_fd ? stderr : stdout);
    if (f.kind == Kind::device) {
        fd = ::open(path_.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC | (S_ISREG(f.st->st_mode) ? O_TRUNC : 0));
        if (fd < 0) cannot(option_, path_, errno_text());
    }
    bool ok = write_all(fd, text);
    int err = ok ? 0 : errno;
    if (f.kind == Kind::device && ::close(fd) != 0 && ok) {
        ok = false;
        err = errno;
    }
    if (!ok) cannot(option_, path_, std::strerror(err));
}

OutputFile::Lock::Lock(const OutputFile& file) : file_(file) {
    const Found f = inspect(file.option(), file.path());
    if (f.kind != Kind::file) cannot(file.option(), file.path(), "it is not a regular file");
    lock_path_ = f.target.string() + ".lock";
    bool said = false;
    for (;;) {
        fd_ = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd_ < 0) cannot(file.option(), file.path(), "creating its lock file " + in_quotes(lock_path_) + ": " + errno_text());
        // Ours are empty regular files, removed when done. Anything else at that name is the
        // user's (notes.json.lock, a golden file named so): never adopted, never removed.
        struct stat opened {};
        if (::fstat(fd_, &opened) != 0 || !S_ISREG(opened.st_mode) || opened.st_size != 0) {
            ::close(fd_);
            cannot(file.option(), file.path(),
                   in_quotes(lock_path_) + ", the name of its lock file, is a file convconf did not make (its lock "
                   "files are empty); nothing written (rename that file to add to this one)");
        }
        int locked = ::flock(fd_, LOCK_EX | LOCK_NB);
        if (locked != 0 && errno == EWOULDBLOCK) {
            if (!said)
                std::fprintf(stderr, "convconf: waiting for %s: another convconf is writing it (it holds %s)\n",
                             in_quotes(file.path()).c_str(), in_quotes(lock_path_).c_str());
            said = true;
            while ((locked = ::flock(fd_, LOCK_EX)) != 0 && errno == EINTR) {
            }
        }
        if (locked != 0) {
            const std::string why = errno_text();
            ::close(fd_);
            cannot(file.option(), file.path(), "locking " + in_quotes(lock_path_) + ": " + why);
        }
        // The holder before us removes the lock file as it finishes: the lock is the file
        // at the name now, so a lock on a removed one is let go and taken again.
        struct stat held {}, named {};
        if (::fstat(fd_, &held) == 0 && ::lstat(lock_path_.c_str(), &named) == 0 && same_file(held, named)) break;
        ::close(fd_);
    }
    try {
        // Read under the lock: what another writer added while we waited is in it.
        const Found now = inspect(file.option(), file.path());
        if (now.st) {
            // What is read to be changed is input too, under the readers' size limit.
            if (now.st->st_size > kMaxInputBytes)
                cannot(file.option(), file.path(),
                       "it holds " + std::to_string(now.st->st_size) + " bytes, more than the " +
                           std::to_string(kMaxInputBytes >> 20) + " MiB convconf reads");
            content_ = read_all(now.target);
            if (!content_) cannot(file.option(), file.path(), "reading it: " + errno_text());
        }
    } catch (...) {
        ::unlink(lock_path_.c_str());
        ::close(fd_);
        throw;
    }
}

OutputFile::Lock::~Lock() {
    ::unlink(lock_path_.c_str());  // while holding it: see the constructor
    ::close(fd_);
}

void OutputFile::Lock::replace(std::string_view text) const {
    const Found f = inspect(file_.option(), file_.path());
    if (f.kind != Kind::file) cannot(file_.option(), file_.path(), "it is not a regular file");
    replace_atomically(file_.option(), file_.path(), f, text, &content_);
}

fs::path write_new_file(const std::string& option, const fs::path& dir, const std::string& stem,
                        const std::string& extension, std::string_view text) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) cannot(option, dir, ec.message());
    check_directory(option, dir, dir / "x");
    TempFile temp(option, dir, dir, stem + extension, text, new_file_mode(), "; nothing written");
    for (int n = 1; n < 100000; ++n) {
        const fs::path path = dir / (stem + (n == 1 ? "" : "-" + std::to_string(n)) + extension);
        if (rename_no_replace(temp.name(), path)) {
            temp.released();
            sync_directory(option, path, dir);
            return path;
        }
        if (errno != EEXIST) cannot(option, path, errno_text() + "; nothing written");
    }
    cannot(option, dir, "no free name for " + stem + extension);
}

}  // namespace convconf
