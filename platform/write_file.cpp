#include "platform/write_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "framework/diagnostics.h"

namespace incept {

namespace {

// write() until every byte is out; false with errno set on the first failure (ENOSPC, EDQUOT, EFBIG, EIO).
bool write_all(int fd, const std::string& text) {
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& text) {
  std::vector<char> tmp(path.begin(), path.end());
  for (char c : std::string(".tmp.XXXXXX")) tmp.push_back(c);
  tmp.push_back('\0');
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) throw UserError(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  // A file over RLIMIT_FSIZE raises SIGXFSZ, which would kill the process before it could clean up: take it as EFBIG.
  struct sigaction ignore {}, previous {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGXFSZ, &ignore, &previous);
  bool ok = write_all(fd, text);
  int error = ok ? 0 : errno;
  ::sigaction(SIGXFSZ, &previous, nullptr);
  // mkstemp creates the file 0600; a picture or a report is as readable as any file the user writes (umask).
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (ok && ::fchmod(fd, 0666 & ~mask) != 0) ok = false, error = errno;
  if (::close(fd) != 0 && ok) ok = false, error = errno;
  if (ok && ::rename(tmp.data(), path.c_str()) != 0) ok = false, error = errno;
  if (!ok) {
    ::unlink(tmp.data());
    throw UserError(fmt::format("cannot write {}: {}", path, std::strerror(error)));
  }
}

}  // namespace incept
