#pragma once
// Where `incept graph` and `incept compare --graph` put a picture: a file (its format from --format, else from
// its extension) or stdout (text formats only).
#include <string>

#include "diagrams/diagram.h"

namespace incept {

struct GraphOutput {
  std::string format;  // svg, png, pdf, dot; "" = from the file's extension, else svg
  std::string path;    // "" or "-" = stdout
};

// Renders `diagram` and writes it; returns the format used. Throws UserError for a format that cannot be told,
// binary output to a terminal, or a file that cannot be written.
std::string write_graph(const Diagram& diagram, const GraphOutput& out);

}  // namespace incept
