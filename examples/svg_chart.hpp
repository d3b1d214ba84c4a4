#pragma once
// A small line chart as an SVG file, for the examples' training curves: one or more
// series of (x, y) points on shared axes, each with its colour and legend entry.

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "shopml/io/atomic_write.hpp"

namespace example {

struct series {
  std::string name, colour;
  std::vector<std::pair<double, double>> points;
  bool markers = false;  // dots on the points (sparse series, e.g. one per epoch)
  bool dashed = false;
  double width = 1.6;
};

inline void write_svg_chart(const std::filesystem::path& path, const std::string& title, const std::string& x_label,
                            const std::string& y_label, const std::vector<series>& lines) {
  const double w = 720, h = 420, left = 70, right = 20, top = 40, bottom = 55;
  double x0 = std::numeric_limits<double>::max(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& s : lines)
    for (auto [x, y] : s.points) {
      if (!std::isfinite(y)) continue;
      x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  if (x0 > x1) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  if (x1 == x0) x1 = x0 + 1;
  y0 = std::min(y0, 0.0);
  if (y1 == y0) y1 = y0 + 1;
  const auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * (w - left - right); };
  const auto py = [&](double y) { return h - bottom - (y - y0) / (y1 - y0) * (h - top - bottom); };
  char buf[256];
  std::string svg =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"720\" height=\"420\" font-family=\"sans-serif\" "
      "font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  std::snprintf(buf, sizeof buf, "<text x=\"%g\" y=\"24\" font-size=\"15\">%s</text>\n", left, title.c_str());
  svg += buf;
  for (int i = 0; i <= 5; ++i) {  // horizontal grid and y ticks
    const double y = y0 + (y1 - y0) * i / 5.0;
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%g\" x2=\"%g\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%g\" y=\"%.1f\" "
                  "text-anchor=\"end\">%.3g</text>\n",
                  left, w - right, py(y), py(y), left - 6, py(y) + 4, y);
    svg += buf;
    const double x = x0 + (x1 - x0) * i / 5.0;
    std::snprintf(buf, sizeof buf, "<text x=\"%.1f\" y=\"%g\" text-anchor=\"middle\">%.4g</text>\n", px(x), h - bottom + 18, x);
    svg += buf;
  }
  std::snprintf(buf, sizeof buf,
                "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">%s</text>\n<text transform=\"translate(16 %g) "
                "rotate(-90)\" text-anchor=\"middle\">%s</text>\n",
                (left + w - right) / 2, h - 12, x_label.c_str(), (top + h - bottom) / 2, y_label.c_str());
  svg += buf;
  const double legend_h = 18.0 * static_cast<double>(lines.size()) + 8;  // bottom left, over a white box
  double legend_y = h - bottom - legend_h + 12;
  std::snprintf(buf, sizeof buf, "<rect x=\"%g\" y=\"%g\" width=\"210\" height=\"%g\" fill=\"white\" fill-opacity=\"0.85\"/>\n",
                left + 8, h - bottom - legend_h - 2, legend_h);
  std::string legend = buf;
  for (const auto& s : lines) {
    std::string d;
    for (auto [x, y] : s.points) {
      if (!std::isfinite(y)) continue;
      std::snprintf(buf, sizeof buf, "%s%.1f,%.1f", d.empty() ? "M" : " L", px(x), py(y));
      d += buf;
    }
    std::snprintf(buf, sizeof buf, "\" fill=\"none\" stroke=\"%s\" stroke-width=\"%g\"%s/>\n", s.colour.c_str(), s.width,
                  s.dashed ? " stroke-dasharray=\"6 4\"" : "");
    svg += "<path d=\"" + d + buf;
    if (s.markers)
      for (auto [x, y] : s.points) {
        std::snprintf(buf, sizeof buf, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n", px(x), py(y),
                      s.colour.c_str());
        svg += buf;
      }
    std::snprintf(buf, sizeof buf,
                  "<line x1=\"%g\" x2=\"%g\" y1=\"%g\" y2=\"%g\" stroke=\"%s\" stroke-width=\"3\"/><text x=\"%g\" "
                  "y=\"%g\">",
                  left + 16, left + 36, legend_y, legend_y, s.colour.c_str(), left + 42, legend_y + 4);
    legend += buf + s.name + "</text>\n";
    legend_y += 18;
  }
  svg += legend;
  svg += "</svg>\n";
  shopml::io::write_atomically(path, svg);
}

}  // namespace example
