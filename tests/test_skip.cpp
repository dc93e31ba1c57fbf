// INCEPT_SKIP (tests/support/skip.h): a test that cannot run here prints the marker ctest counts as a skip, and a
// failure before the skip is not hidden by it. The probes are hidden test cases ("[.]"), run by name in a child.
#include <catch2/catch.hpp>

#include <unistd.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include "tests/support/skip.h"

namespace {

struct ChildResult {
  int status = -1;
  std::string out;
};

// Runs this test executable on one test case, capturing stdout.
ChildResult run_self(const std::string& test_name) {
  std::array<char, 4096> self{};
  const ssize_t n = ::readlink("/proc/self/exe", self.data(), self.size() - 1);
  REQUIRE(n > 0);
  const std::string command = "'" + std::string(self.data(), static_cast<std::size_t>(n)) + "' '" + test_name + "' -w NoTests";
  ChildResult r;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe);
  std::array<char, 4096> buf{};
  for (std::size_t got; (got = std::fread(buf.data(), 1, buf.size(), pipe)) > 0;) r.out.append(buf.data(), got);
  const int status = ::pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("skip probe: skips", "[.][skip-probe]") { INCEPT_SKIP("no such device here"); }

TEST_CASE("skip probe: fails then skips", "[.][skip-probe]") {
  CHECK(1 + 1 == 3);
  INCEPT_SKIP("asked too late");
}

TEST_CASE("skip probe: passes", "[.][skip-probe]") { CHECK(1 + 1 == 2); }

TEST_CASE("INCEPT_SKIP prints the marker ctest counts as a skip, and never hides a failure", "[skip]") {
  const std::string marker = INCEPT_TEST_SKIP_MARKER;
  const ChildResult skipped = run_self("skip probe: skips");
  INFO(skipped.out);
  CHECK(skipped.status == 0);
  CHECK(contains(skipped.out, "\n" + marker + ": no such device here\n"));

  const ChildResult failed = run_self("skip probe: fails then skips");
  INFO(failed.out);
  CHECK(failed.status != 0);
  CHECK_FALSE(contains(failed.out, marker));

  const ChildResult passed = run_self("skip probe: passes");
  INFO(passed.out);
  CHECK(passed.status == 0);
  CHECK_FALSE(contains(passed.out, marker));
}
