// The pieces of `incept sweep --slurm` that need no cluster: reading Slurm's output, the submission record, the job
// scripts, and the worker's --only-cells.
#include <catch2/catch.hpp>

#include <filesystem>

#include "experiments/slurm/job_folder.h"
#include "experiments/slurm/job_scripts.h"
#include "experiments/slurm/slurm_tools.h"
#include "tests/support/temp_files.h"

using namespace incept;
using incept::testing::TempDir;

namespace {

SlurmSubmission example_submission(const std::string& dir) {
  SlurmSubmission s;
  s.dir = dir;
  s.sweep = "tiny sweep";
  s.sweep_file = "/work/sweeps/it's.toml";
  s.main_db = "/work/runs.db";
  s.workdir = "/work";
  s.sets = {"train.epochs=3", "model.name='a b'"};
  s.submitted_at = "2026-01-02T03:04:05Z";
  s.array_job = "12";
  s.finish_job = "13";
  s.workers = {{1, {0, 3}, {"aaaa", "dddd"}}, {2, {1}, {"bbbb"}}};
  return s;
}

}  // namespace

TEST_CASE("squeue's lines become jobs and array tasks") {
  const auto jobs = parse_squeue(
      "12|1|12_1|RUNNING|node1|None\n"
      "12|3|12_3|PENDING||Resources\n"
      "13|N/A|13|PENDING||Dependency\n"
      "garbage\n");
  REQUIRE(jobs.size() == 3);
  CHECK(jobs[0].job == "12");
  CHECK(jobs[0].task == 1);
  CHECK(jobs[0].id() == "12_1");
  CHECK(jobs[0].nodes == "node1");
  CHECK(jobs[1].reason == "Resources");
  CHECK(jobs[2].task == 0);
  CHECK(jobs[2].id() == "13");
}

TEST_CASE("scontrol and sacct tell how each array task ended") {
  const auto ctl = parse_scontrol_jobs(
      "JobId=14 ArrayJobId=12 ArrayTaskId=2 JobName=x JobState=TIMEOUT Reason=TimeLimit Dependency=(null) "
      "ExitCode=0:15 NodeList=node2\n"
      "JobId=12 ArrayJobId=12 ArrayTaskId=3-4 JobState=PENDING Reason=Resources\n"
      "JobId=15 ArrayJobId=12 ArrayTaskId=1 JobState=COMPLETED Reason=None ExitCode=0:0 NodeList=node1\n");
  REQUIRE(ctl.size() == 2);
  CHECK(ctl.at(2).state == "TIMEOUT");
  CHECK(ctl.at(2).describe() == "TIMEOUT (TimeLimit), exit 0:15");
  CHECK(ctl.at(1).describe() == "COMPLETED");

  const auto acct = parse_sacct(
      "12_1|COMPLETED|0:0|node1\n12_2|CANCELLED by 0|0:15|node2\n12_2.batch|CANCELLED|0:15|node2\n"
      "120_1|FAILED|1:0|node3\n",
      "12");
  REQUIRE(acct.size() == 2);
  CHECK(acct.at(2).state == "CANCELLED");
  CHECK(acct.at(2).exit_code == "0:15");
}

TEST_CASE("a submission record reads back as it was written") {
  TempDir tmp;
  const SlurmSubmission s = example_submission(tmp.path().string());
  write_submission(s);
  const SlurmSubmission r = read_submission(s.dir);
  CHECK(r.sweep == s.sweep);
  CHECK(r.sweep_file == s.sweep_file);
  CHECK(r.sets == s.sets);
  CHECK(r.array_job == "12");
  CHECK(r.finish_job == "13");
  REQUIRE(r.workers.size() == 2);
  CHECK(r.workers[0].cells == std::vector<std::size_t>{0, 3});
  CHECK(r.workers[0].experiments == std::vector<std::string>{"aaaa", "dddd"});
  CHECK(r.worker_of(3) == 1);
  CHECK(r.worker_of(1) == 2);
  CHECK(r.worker_of(2) == 0);
  CHECK(r.worker_db(2) == (tmp.path() / "worker-2.db").string());
  CHECK_FALSE(r.finished());
  mark_finished(r, "joined");
  CHECK(r.finished());
}

TEST_CASE("submissions are found by sweep, oldest first, each in a folder of its own") {
  TempDir tmp;
  const std::string db = (tmp.path() / "runs.db").string();
  const std::string a = create_submission_folder(db, "one");
  const std::string b = create_submission_folder(db, "one");
  CHECK(a != b);
  CHECK(std::filesystem::path(a).parent_path() == tmp.path() / "runs.db.slurm");
  SlurmSubmission first = example_submission(a), second = example_submission(b);
  SlurmSubmission other = example_submission(create_submission_folder(db, "two"));
  first.sweep = second.sweep = "one";
  other.sweep = "two";
  second.submitted_at = "2026-01-02T03:04:06Z";
  for (const auto* s : {&second, &first, &other}) write_submission(*s);
  const auto found = submissions_of(db, "one");
  REQUIRE(found.size() == 2);
  CHECK(found[0].dir == a);
  CHECK(found[1].dir == b);
  CHECK(submissions_of(db, "three").empty());
}

TEST_CASE("the worker script lists each task's cells, traps Slurm's signals and requeues itself") {
  const SlurmSubmission s = example_submission("/work/runs.db.slurm/tiny-1");
  JobScriptOptions o;
  o.incept = "/opt/incept/bin/incept";
  o.sbatch = {"--partition=gpu", "--time=1:00:00"};
  o.jobs = 2;
  const std::string w = worker_script(s, {"a seed=0", "b seed=0", "c seed=0", "a seed=1"}, o);
  CHECK_THAT(w, Catch::Contains("#SBATCH --array=1-2\n"));
  CHECK_THAT(w, Catch::Contains("#SBATCH --requeue\n"));
  CHECK_THAT(w, Catch::Contains("#SBATCH --signal=B:USR1@120\n"));
  CHECK_THAT(w, Catch::Contains("#SBATCH --partition=gpu\n#SBATCH --time=1:00:00\n"));
  CHECK_THAT(w, Catch::Contains("#SBATCH --output=/work/runs.db.slurm/tiny-1/worker-%a.out"));
  CHECK_THAT(w, Catch::Contains("  1) cells=1:aaaa,4:dddd ;;  # a seed=0; a seed=1\n"));
  CHECK_THAT(w, Catch::Contains("  2) cells=2:bbbb ;;  # b seed=0\n"));
  CHECK_THAT(w, Catch::Contains("export INCEPT_JOURNAL_MODE=delete"));
  CHECK_THAT(w, Catch::Contains("'/work/sweeps/it'\\''s.toml'"));
  CHECK_THAT(w, Catch::Contains("--set train.epochs=3 --set 'model.name='\\''a b'\\'''"));
  CHECK_THAT(w, Catch::Contains("--jobs 2"));
  CHECK_THAT(w, Catch::Contains("scontrol requeue"));
  CHECK_THAT(w, !Catch::Contains("--gres"));

  o.gpu = true;
  CHECK_THAT(worker_script(s, {}, o), Catch::Contains("#SBATCH --gres=gpu:1\n"));
  o.sbatch.push_back("--gpus-per-task=2");
  CHECK_THAT(worker_script(s, {}, o), !Catch::Contains("--gres"));

  const std::string f = finish_script(s, o);
  CHECK_THAT(f, Catch::Contains("sweep --slurm-finish /work/runs.db.slurm/tiny-1"));
  CHECK_THAT(f, Catch::Contains("#SBATCH --partition=gpu\n"));
  CHECK_THAT(f, !Catch::Contains("--time"));
  CHECK_THAT(f, !Catch::Contains("gpus"));
}

TEST_CASE("the finishing job shares where the workers run, not what they need") {
  CHECK(finish_sbatch_options({"-p gpu", "-A proj", "--qos=high", "--mem=8G", "-G 2", "--constraint=a100"}) ==
        std::vector<std::string>{"-p gpu", "-A proj", "--qos=high"});
  CHECK(asks_for_gpus({"-G 2"}));
  CHECK(asks_for_gpus({"--gres=gpu:a100:1"}));
  CHECK_FALSE(asks_for_gpus({"--gpus-per-node-x"}));
  CHECK_FALSE(asks_for_gpus({"--partition=gpu"}));
}

TEST_CASE("script words are quoted only when they need it") {
  CHECK(script_word("/a/b-c_d.toml") == "/a/b-c_d.toml");
  CHECK(script_word("a b") == "'a b'");
  CHECK(script_word("") == "''");
  CHECK(script_word("it's") == "'it'\\''s'");
}
