#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <iostream>
#include <optional>

#include "tests/support/skip.h"

namespace {

std::optional<std::string> g_skip_reason;  // set by INCEPT_SKIP in the running test case

// Prints the skip marker when a test case that asked to be skipped ends without a failed assertion.
struct SkipReporter : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(const Catch::TestCaseInfo& info) override {
    g_skip_reason.reset();
    TestEventListenerBase::testCaseStarting(info);
  }
  void testCaseEnded(const Catch::TestCaseStats& stats) override {
    if (g_skip_reason) {
      if (stats.totals.assertions.failed == 0)
        std::cout << INCEPT_TEST_SKIP_MARKER << ": " << *g_skip_reason << std::endl;
      else
        std::cout << "(this test asked to be skipped (" << *g_skip_reason
                  << ") after a failed assertion: it counts as failed)" << std::endl;
    }
    TestEventListenerBase::testCaseEnded(stats);
  }
};

}  // namespace

CATCH_REGISTER_LISTENER(SkipReporter)

namespace incept::testing {

void skip_test_case(const std::string& reason) { g_skip_reason = reason; }

}  // namespace incept::testing
