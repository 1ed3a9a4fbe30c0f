#include "reference/input.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace convconf {
namespace {

// "no such file", "permission denied": strerror's text, lower-cased as our messages are.
std::string reason(int error) {
    std::string text = std::strerror(error);
    if (!text.empty()) text[0] = char(std::tolower(static_cast<unsigned char>(text[0])));
    return text;
}

// Closes the descriptor on every path out.
struct Fd {
    int fd;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

// Everything `fd` gives, within kMaxInputBytes; `who` begins the messages.
std::string read_all(int fd, const std::string& who, size_t expected) {
    auto fail = [&](const std::string& what) -> void { throw InputError(who + ": " + what); };
    std::string text;
    text.reserve(expected);
    char buffer[1 << 16];
    for (;;) {
        const ssize_t got = ::read(fd, buffer, sizeof buffer);
        if (got < 0) {
            if (errno == EINTR) continue;
            fail("cannot be read: " + reason(errno));
        }
        if (got == 0) break;
        text.append(buffer, size_t(got));
        if (int64_t(text.size()) > kMaxInputBytes)
            fail("holds more than the " + std::to_string(kMaxInputBytes >> 20) + " MiB an input may be");
    }
    if (text.empty()) fail("is empty");
    return text;
}

}  // namespace

std::string input_name(std::string_view origin, const std::filesystem::path& path) {
    if (origin.empty()) return path.string();
    return std::string(origin) + (origin.back() == '=' ? "" : " ") + path.string();
}

std::string read_input_file(const std::filesystem::path& path, std::string_view origin) {
    const std::string who = input_name(origin, path);
    auto fail = [&](const std::string& what) -> void { throw InputError(who + ": " + what); };
    if (path.empty()) throw InputError(std::string(origin) + ": an empty path");
    // O_NONBLOCK is not used: a pipe is read as its writer writes.
    const Fd in{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY)};
    if (in.fd < 0) fail(errno == ENOENT ? "no such file" : "cannot be opened: " + reason(errno));
    struct stat st {};
    if (::fstat(in.fd, &st) != 0) fail("cannot be read: " + reason(errno));
    if (S_ISDIR(st.st_mode)) fail("is a directory, not a file");
    if (S_ISREG(st.st_mode) && st.st_size > kMaxInputBytes)
        fail("is " + std::to_string(st.st_size) + " bytes, more than the " +
             std::to_string(kMaxInputBytes >> 20) + " MiB an input may be");
    return read_all(in.fd, who, S_ISREG(st.st_mode) ? size_t(st.st_size) : 0);
}

std::string read_standard_input(std::string_view origin) {
    return read_all(STDIN_FILENO, std::string(origin) + " (standard input)", 0);
}

void require_directory(const std::filesystem::path& dir, std::string_view origin) {
    const std::string who = input_name(origin, dir);
    std::error_code error;
    const auto status = std::filesystem::status(dir, error);
    if (status.type() == std::filesystem::file_type::not_found) throw InputError(who + ": no such directory");
    if (error) throw InputError(who + ": cannot be read: " + reason(error.value()));
    if (status.type() != std::filesystem::file_type::directory) throw InputError(who + ": is not a directory");
    // Listing it is the test that it can be listed (permissions, as root, say nothing).
    std::filesystem::directory_iterator(dir, error);
    if (error) throw InputError(who + ": cannot be listed: " + reason(error.value()));
}

}  // namespace convconf
