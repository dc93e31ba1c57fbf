#include "platform/memory_limit.h"

#include <unistd.h>

#include <fmt/format.h>

#include "framework/diagnostics.h"

namespace incept {

std::string memory_shortfall(double bytes, const std::string& what) {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page_size = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return "";  // unknown: let the allocation decide
  const double memory = static_cast<double>(pages) * static_cast<double>(page_size);
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  if (bytes <= memory) return "";
  return fmt::format("{} needs {:.1f} GiB, more than this machine's {:.1f} GiB of memory", what, bytes / kGiB,
                     memory / kGiB);
}

void check_fits_in_memory(double bytes, const std::string& what, const std::string& advice) {
  const std::string shortfall = memory_shortfall(bytes, what);
  if (!shortfall.empty()) throw UserError(fmt::format("{}; {}", shortfall, advice));
}

}  // namespace incept
