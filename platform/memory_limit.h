#pragma once
// Refusing, before allocating, what cannot fit in this machine's memory: LibTorch would otherwise fail deep inside
// an allocation or, with overcommit, get the process killed half-way through.
#include <string>

namespace incept {

// Throws UserError "<what> needs N GiB ..., more than this machine's M GiB of memory; <advice>" when `bytes`
// exceeds the physical memory. Does nothing where the size of memory cannot be read.
void check_fits_in_memory(double bytes, const std::string& what, const std::string& advice);

}  // namespace incept
