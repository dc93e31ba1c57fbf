#pragma once
// A private folder under $TMPDIR (or /tmp) for files a command hands to its children (a sweep's configs, the
// calibration's probes), removed with everything in it when the owner goes. Removal goes through remove_tree, for
// the reason remove_tree.h gives.
#include <string>

namespace incept {

class TempFolder {
 public:
  // `stem` names the folder (`incept-sweep` → /tmp/incept-sweep-XXXXXX); `purpose` completes the error when it
  // cannot be created ("cannot create a folder for <purpose> (...)").
  TempFolder(const std::string& stem, const std::string& purpose);
  ~TempFolder();
  TempFolder(const TempFolder&) = delete;
  TempFolder& operator=(const TempFolder&) = delete;

  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Writes `text` to file(name) and returns that path; UserError when it cannot.
  std::string write(const std::string& name, const std::string& text) const;

 private:
  std::string path_;
};

}  // namespace incept
