#pragma once
// A Diagram as Graphviz's DOT language: what `incept graph --format dot` prints, and what graphviz.h lays out.
#include <string>

#include "diagrams/diagram.h"

namespace incept {

std::string to_dot(const Diagram& diagram);

// The fill for a heat in [0, 1]: white for 0 (no MACs), then eight steps of ColorBrewer's OrRd scale, light to
// dark, so the costliest nodes stand out. Exposed for the legend and the tests.
const char* heat_color(double heat);
// Whether text on heat_color(heat) must be white to stay readable.
bool heat_is_dark(double heat);

}  // namespace incept
