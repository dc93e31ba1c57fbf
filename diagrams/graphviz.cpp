#include "diagrams/graphviz.h"

#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <algorithm>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "framework/diagnostics.h"
#include "framework/text.h"

namespace incept {

namespace {

// Graphviz keeps global state (its error handler, the plugin context): one rendering at a time.
std::mutex& graphviz_mutex() {
  static std::mutex m;
  return m;
}

// Graphviz reports problems through a callback (or prints them); collected while we render, so they reach the
// user as one error instead of stray lines on stderr.
std::string& collected_messages() {
  static std::string messages;
  return messages;
}

int collect_message(char* text) {
  std::string line = text ? text : "";
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
  if (!line.empty()) collected_messages() += (collected_messages().empty() ? "" : "; ") + line;
  return 0;
}

// One context for the process: creating it loads the plugins (layout engines, renderers) from Graphviz's
// configuration, which is the slow part.
GVC_t* context() {
  static GVC_t* gvc = [] {
    agseterrf(collect_message);
    return gvContext();
  }();
  return gvc;
}

struct GraphCloser {
  void operator()(Agraph_t* g) const { agclose(g); }
};

}  // namespace

const std::vector<std::string>& graph_formats() {
  static const std::vector<std::string> formats = {"svg", "png", "pdf", "dot"};
  return formats;
}

std::string format_of_path(const std::string& path) {
  const auto dot = path.find_last_of('.');
  const auto slash = path.find_last_of('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == "gv") ext = "dot";
  const auto& known = graph_formats();
  return std::find(known.begin(), known.end(), ext) != known.end() ? ext : "";
}

std::string render_graph(const std::string& dot, const std::string& format) {
  const auto& known = graph_formats();
  if (std::find(known.begin(), known.end(), format) == known.end())
    throw UserError(fmt::format("unknown graph format '{}' (formats: {})", format, join(known, ", ")));
  if (format == "dot") return dot;

  std::lock_guard<std::mutex> lock(graphviz_mutex());
  GVC_t* gvc = context();
  collected_messages().clear();
  agreseterrors();
  std::unique_ptr<Agraph_t, GraphCloser> graph(agmemread(dot.c_str()));
  // incept writes the DOT itself, so a graph Graphviz cannot read is incept's bug, not the user's.
  if (!graph) throw std::logic_error("Graphviz could not read the generated DOT: " + collected_messages());
  if (gvLayout(gvc, graph.get(), "dot") != 0)
    throw UserError("Graphviz could not lay the graph out: " +
                    (collected_messages().empty() ? std::string("no reason given") : collected_messages()));
  char* data = nullptr;
  unsigned int length = 0;
  const int status = gvRenderData(gvc, graph.get(), format.c_str(), &data, &length);
  std::string out;
  if (status == 0 && data) out.assign(data, length);
  if (data) gvFreeRenderData(data);
  gvFreeLayout(gvc, graph.get());
  if (status != 0 || out.empty())
    throw UserError(fmt::format("Graphviz could not render {}: {} (its renderers come with Debian's libgvc6)", format,
                                collected_messages().empty() ? std::string("no output") : collected_messages()));
  return out;
}

}  // namespace incept
