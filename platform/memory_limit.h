#pragma once
// Refusing, before allocating, what cannot fit in this machine's memory: LibTorch would otherwise fail deep inside
// an allocation or, with overcommit, get the process killed half-way through.
#include <string>

namespace incept {

// "<what> needs N GiB, more than this machine's M GiB of memory" when `bytes` exceeds the physical memory; "" when
// it fits or the size of memory cannot be read.
std::string memory_shortfall(double bytes, const std::string& what);

// Throws UserError "<memory_shortfall>; <advice>" when `bytes` does not fit.
void check_fits_in_memory(double bytes, const std::string& what, const std::string& advice);

}  // namespace incept
