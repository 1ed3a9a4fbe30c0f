// Writing a file the user named (issue 13: nothing a user wrote is ever lost). Every file
// convconf writes goes through here: `golden add --file`, `run --junit/--json`, `bench
// --csv/--json/--svg`, and the failing cases the property tests save.
//
// - Checked before any work (the OutputFile constructor): not a directory, its directory
//   exists and can be written, and an existing file is neither read-only nor one of
//   several hard links. An editor refuses a read-only file, and so do we, even as root.
//   A hard-linked file is refused rather than split: keeping the links means writing in
//   place, and a write in place that fails (a full disk) leaves a truncated file.
// - Written whole or not at all: a temporary file beside the target, every write, the
//   fsync and the close checked (a full disk is an error, never a short file), the old
//   file's mode (or the umask's), renamed over the target, the directory fsynced. A reader
//   sees the old content or the new; on any failure the old content is untouched.
// - Symlinks are followed: the file they name is replaced, the links are kept.
// - A device, a FIFO, or the file the tool's stdout or stderr goes to (/dev/null,
//   /dev/full, /dev/stdout) is written in place, each write checked.
// - A read-modify-write holds OutputFile::Lock: flock on "TARGET.lock" beside the target,
//   so convconf processes writing one file take turns and none loses another's change.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace convconf {

// `OPTION: cannot write "PATH": WHY`
struct OutputError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class OutputFile {
public:
    // `option` names the file in messages ("--junit"). Throws OutputError unless `path`
    // can be written as described above.
    OutputFile(std::string option, std::filesystem::path path);

    const std::string& option() const { return option_; }
    const std::filesystem::path& path() const { return path_; }
    // The file that is written: the path with its symlinks followed. Two OutputFiles with
    // the same target write the same file.
    const std::filesystem::path& target() const { return target_; }
    bool in_place() const { return kind_ != Kind::file; }

    // Makes `text` the file's whole content (checked again: the file may have changed since
    // the constructor). Throws OutputError, the file as it was.
    void write(std::string_view text) const;

    class Lock;

private:
    enum class Kind { file, device, stdout_fd, stderr_fd };
    struct Found;  // what the path is now (output_file.cpp)
    static Found inspect(const std::string& option, const std::filesystem::path& path);
    static void replace_atomically(const std::string& option, const std::filesystem::path& path, const Found& f,
                                   std::string_view text, const std::optional<std::string>* expected);

    std::string option_;
    std::filesystem::path path_, target_;
    Kind kind_ = Kind::file;
};

// While a Lock lives, no other convconf writes its file: read, change and replace under it.
// It waits for another holder (saying so on stderr). Only regular files can be locked.
class OutputFile::Lock {
public:
    explicit Lock(const OutputFile& file);
    ~Lock();
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;

    // The file's content when the lock was taken; nullopt when there was no file.
    const std::optional<std::string>& content() const { return content_; }
    // Makes `text` the file's content, atomically. Refused (OutputError, nothing written)
    // when the file differs from content(): someone wrote it without the lock (an editor).
    void replace(std::string_view text) const;

private:
    OutputFile file_;
    std::filesystem::path lock_path_;
    int fd_ = -1;
    std::optional<std::string> content_;
};

// Writes `text` to a new file DIR/STEM.EXT, or STEM-2.EXT, -3, ... when that is taken,
// creating DIR: whole or not at all (a temporary file, fsynced, then linked to the name,
// which never replaces a file), so two writers never share a file and a full disk leaves
// no partial one. `option` names DIR in messages. Returns the path written.
std::filesystem::path write_new_file(const std::string& option, const std::filesystem::path& dir,
                                     const std::string& stem, const std::string& extension,
                                     std::string_view text);

}  // namespace convconf
