#include "cli/graph_output.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "diagrams/dot.h"
#include "diagrams/graphviz.h"
#include "framework/diagnostics.h"
#include "framework/text.h"
#include "platform/write_file.h"

namespace incept {

namespace {

bool to_stdout(const std::string& path) { return path.empty() || path == "-"; }

std::string chosen_format(const GraphOutput& out) {
  if (!out.format.empty()) return out.format;
  if (to_stdout(out.path)) return "svg";
  const std::string by_extension = format_of_path(out.path);
  if (by_extension.empty())
    throw UserError(fmt::format("cannot tell the picture format from '{}': name it .svg, .png, .pdf or .dot, or "
                                "pass --format ({})",
                                out.path, join(graph_formats(), ", ")));
  return by_extension;
}

}  // namespace

std::string write_graph(const Diagram& diagram, const GraphOutput& out) {
  const std::string format = chosen_format(out);
  const bool binary = format == "png" || format == "pdf";
  if (to_stdout(out.path) && binary && ::isatty(STDOUT_FILENO))
    throw UserError(fmt::format("{} is binary: write it to a file with -o FILE.{} (or redirect stdout)", format,
                                format));
  const std::string data = render_graph(to_dot(diagram), format);
  if (to_stdout(out.path)) {
    std::cout << data << std::flush;
    return format;
  }
  write_file_atomically(out.path, data);
  return format;
}

}  // namespace incept
