#pragma once
// A test that cannot run on this machine (no CUDA device, not root, no tmpfs, a missing package) must say so in
// ctest's summary as a skip, not count as a pass. Catch2 v2 has no SKIP, so:
//
//   if (!torch::cuda::is_available()) INCEPT_SKIP("no CUDA device");
//
// records the reason and returns from the test case; when the test case ends, the listener in tests/main.cpp
// prints one line "INCEPT-TEST-SKIPPED: <reason>" on stdout, which every test's SKIP_REGULAR_EXPRESSION (set by
// each catch_discover_tests call) turns into "Skipped" in ctest's output and summary. ctest reports a test whose
// output matches as skipped even when it failed, so the listener leaves the line out when an assertion of the
// test case failed: a failure before the skip stays a failure.
#include <string>

// The marker ctest looks for; the CMake files pass the same text as SKIP_REGULAR_EXPRESSION.
#ifndef INCEPT_TEST_SKIP_MARKER
#define INCEPT_TEST_SKIP_MARKER "INCEPT-TEST-SKIPPED"
#endif

namespace incept::testing {

// Marks the running test case as skipped for `reason`; prefer the INCEPT_SKIP macro, which also returns.
void skip_test_case(const std::string& reason);

}  // namespace incept::testing

#define INCEPT_SKIP(reason)                        \
  do {                                             \
    ::incept::testing::skip_test_case(reason);     \
    return;                                        \
  } while (false)
