#pragma once
// A single-node Slurm cluster of the test's own (tests/slurm/single_node_slurm.sh): munged, slurmctld and slurmd
// with their config, keys, state and logs in a temporary folder, started for one test and stopped by pid after it.
// Every Slurm command the test and its incept processes run finds it through SLURM_CONF.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "experiments/slurm/slurm_tools.h"
#include "tests/support/skip.h"
#include "tests/support/temp_files.h"

namespace incept::slurm_test {

class SlurmCluster {
 public:
  SlurmCluster() {
    // munged runs as user munge and must reach its socket in here.
    std::filesystem::permissions(folder_.path(), std::filesystem::perms::owner_all |
                                                     std::filesystem::perms::group_read |
                                                     std::filesystem::perms::group_exec |
                                                     std::filesystem::perms::others_read |
                                                     std::filesystem::perms::others_exec);
    const ProgramOutput r = run_program({"bash", script(), "start", dir()});
    if (r.status == 3) {
      skipped_ = r.err;
      return;
    }
    started_ = true;
    start_status_ = r.status;
    start_output_ = r.out + r.err;
    if (r.status == 0) ::setenv("SLURM_CONF", (dir() + "/slurm.conf").c_str(), 1);
  }
  ~SlurmCluster() {
    if (started_) run_program({"bash", script(), "stop", dir()});
  }
  SlurmCluster(const SlurmCluster&) = delete;
  SlurmCluster& operator=(const SlurmCluster&) = delete;

  // Why the cluster cannot run on this machine ("" when it can): not root, or Slurm or munge not installed.
  const std::string& skipped() const { return skipped_; }
  // The start script's exit status and output: a cluster that should run here but did not start is a failure.
  int start_status() const { return start_status_; }
  const std::string& start_output() const { return start_output_; }
  std::string dir() const { return (folder_.path() / "slurm").string(); }
  // The end of the daemons' logs, for a failing test's messages.
  std::string log_tail() const {
    return run_program({"tail", "-n", "30", dir() + "/log/slurmctld.log", dir() + "/log/slurmd.log"}).out;
  }

 private:
  static std::string script() { return testing::source_path("tests/slurm/single_node_slurm.sh"); }
  testing::TempDir folder_;
  bool started_ = false;
  int start_status_ = -1;
  std::string start_output_;
  std::string skipped_;
};

// For the calling test: a skip (INCEPT_SKIP, which ctest counts as skipped, never as passed) where Slurm cannot run
// here at all; a failure where it should run but did not start.
#define INCEPT_REQUIRE_SLURM(cluster)                                            \
  do {                                                                           \
    if (!(cluster).skipped().empty()) INCEPT_SKIP("no Slurm here: " + (cluster).skipped()); \
    INFO((cluster).start_output());                                              \
    REQUIRE((cluster).start_status() == 0);                                      \
  } while (false)

}  // namespace incept::slurm_test
