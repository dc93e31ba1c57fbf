#include "cli/cmd_data.h"
#include "cli/option_checks.h"

#include <iostream>
#include <memory>

#include "experiments/data/fetch.h"
#include "framework/text.h"

namespace incept {

namespace {

struct FetchOptions {
  std::string dataset;
  std::string dir = "data";
};

}  // namespace

void add_data_commands(CLI::App& app) {
  CLI::App* data = app.add_subcommand("data", "Manage datasets");
  data->require_subcommand(1);

  // Shared with the callback, which runs after parsing, when this function's locals are gone.
  auto options = std::make_shared<FetchOptions>();
  CLI::App* fetch = data->add_subcommand("fetch", "Download or copy a dataset's IDX files into DIR/<dataset>");
  fetch->add_option("dataset", options->dataset, join(fetchable_datasets(), " | "))->required();
  fetch->add_option("--dir", options->dir, "Parent directory of the dataset directory")
      ->capture_default_str()
      ->check(non_empty());
  fetch->callback([options] {
    const std::string written = fetch_dataset(options->dataset, options->dir, std::cout);
    std::cout << options->dataset << " is ready in " << written << "\n";
  });
}

}  // namespace incept
