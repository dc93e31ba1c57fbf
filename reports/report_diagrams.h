#pragma once
// The HTML report's pictures: for each variant, the layers it configures differently from the baseline, drawn
// side by side with the baseline's (diagrams/network_graph.h), as SVG inlined in the page so it opens offline.
#include <string>
#include <vector>

#include "reports/report_model.h"

namespace incept {

struct VariantDiagram {
  std::string html;  // a <figure> with the inline SVG, a pointer to an identical earlier one, a note, or ""
  bool drawn = false;  // holds an SVG
};

// One entry per variant (empty for the baseline and for variants whose layers are all configured alike). A
// drawing identical to an earlier variant's (naive with two inits) refers to it by its anchor instead of
// repeating it; a drawing Graphviz cannot make becomes an error note, and the rest of the page stands.
std::vector<VariantDiagram> variant_diagrams(const Report& report);

// The anchor of a variant's section in the page ("variant-3").
std::string variant_anchor(std::size_t index);

// Graphviz's SVG made fit for inlining in HTML: no XML prolog, DOCTYPE or comments; sized in CSS pixels, and
// marked class="diagram" so the page's style scales it down to the column rather than overflow it.
std::string inline_svg(const std::string& svg);

}  // namespace incept
