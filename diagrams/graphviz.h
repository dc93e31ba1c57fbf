#pragma once
// Layout and rendering with Graphviz's libraries (libgvc, libcgraph: Debian's libgraphviz-dev), in memory.
#include <string>
#include <vector>

namespace incept {

// What `--format` accepts: svg, png, pdf (laid out by Graphviz) and dot (the graph before layout).
const std::vector<std::string>& graph_formats();

// Lays DOT text out with the dot engine and renders it as `format` (svg, png or pdf). Throws UserError when
// Graphviz cannot (a format its plugins do not offer, a layout that fails), with Graphviz's own messages.
std::string render_graph(const std::string& dot, const std::string& format);

// The format a file name asks for by its extension ("net.svg" -> "svg"), or "" when it names none of them.
std::string format_of_path(const std::string& path);

}  // namespace incept
