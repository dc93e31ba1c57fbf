#pragma once
// Headless Chromium for the HTML report's tests: the page's DOM after its scripts ran, and a probe that measures
// the laid-out page (overflow at a window width, the size of each inline diagram) into <body>'s data attributes.
#include <cstdlib>
#include <map>
#include <optional>
#include <regex>
#include <string>

#include <catch2/catch.hpp>

#include "tests/report/report_fixture.h"

namespace incept::report_test {

inline std::optional<std::string> find_chromium() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"})
    if (std::system(("command -v " + std::string(name) + " >/dev/null 2>&1").c_str()) == 0) return std::string(name);
  return std::nullopt;
}

// The DOM after the page's scripts ran, as headless Chromium serialises it, in a window `width` pixels wide.
inline std::string rendered_dom(const std::string& chromium, const ScratchDir& dir, const std::string& html_path,
                                int width = 1280) {
  const std::string out = dir.file("dom.html"), err = dir.file("chromium.log");
  const std::string cmd = "timeout 120 " + chromium +
                          " --headless --no-sandbox --disable-gpu --no-first-run --user-data-dir='" +
                          dir.file("profile") + "' --window-size=" + std::to_string(width) +
                          ",2000 --virtual-time-budget=5000 --dump-dom 'file://" + html_path + "' > '" + out +
                          "' 2> '" + err + "'";
  const int status = std::system(cmd.c_str());
  INFO("chromium log: " << read_text(err));
  REQUIRE(status == 0);
  return read_text(out);
}

// `html` with a script at the end of <body> that, once the page has loaded, records in <body>'s data attributes:
//   data-window-width    the window's width (CSS px)
//   data-viewport-width  the width left for the page (less a vertical scrollbar)
//   data-page-width      how wide the page lays out (wider than the viewport: the page scrolls sideways)
//   data-overflowing     elements that reach past the viewport's right edge or scroll sideways themselves
//   data-diagrams        each inline diagram as WIDTHxHEIGHT:NODES, its box on the page and its drawn nodes
inline std::string with_layout_probe(const std::string& html) {
  const std::string probe = R"(<script>
window.addEventListener('load', () => {
  // The width left for the page: the window less a vertical scrollbar, where the platform draws one.
  const data = document.body.dataset, width = document.documentElement.clientWidth;
  data.windowWidth = String(window.innerWidth);
  data.viewportWidth = String(width);
  data.pageWidth = String(Math.max(document.documentElement.scrollWidth, document.body.scrollWidth));
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('svg') !== null && el.tagName.toLowerCase() !== 'svg') continue;
    const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                 (typeof el.className === 'string' && el.className ? '.' + el.className : '');
    const box = el.getBoundingClientRect();
    if (box.right > width + 0.5) wide.push(name + ' reaches ' + Math.round(box.right));
    const overflow = getComputedStyle(el).overflowX;
    if ((overflow === 'auto' || overflow === 'scroll') && el.scrollWidth > el.clientWidth + 1)
      wide.push(name + ' scrolls ' + el.scrollWidth + '>' + el.clientWidth);
  }
  data.overflowing = wide.join('; ');
  data.diagrams = Array.from(document.querySelectorAll('svg.diagram'), (svg) => {
    const box = svg.getBoundingClientRect();
    return Math.round(box.width) + 'x' + Math.round(box.height) + ':' + svg.querySelectorAll('g.node').length;
  }).join(' ');
});
</script>
)";
  const auto end = html.rfind("</body>");
  return html.substr(0, end) + probe + html.substr(end);
}

// The data-* attributes of the serialised <body>, by name ("data-page-width").
inline std::map<std::string, std::string> body_data(const std::string& dom) {
  std::map<std::string, std::string> out;
  std::smatch body;
  if (!std::regex_search(dom, body, std::regex(R"(<body[^>]*>)"))) return out;
  const std::string tag = body.str();
  const std::regex attribute(R"re((data-[a-z-]+)="([^"]*)")re");
  for (auto it = std::sregex_iterator(tag.begin(), tag.end(), attribute); it != std::sregex_iterator(); ++it)
    out[(*it)[1]] = (*it)[2];
  return out;
}

}  // namespace incept::report_test
