// Colour difference as people see it, to judge palettes: sRGB (D65) ->
// CIELAB, and the CIEDE2000 difference (Sharma, Wu & Dalal 2005; about 1 is
// a just-noticeable difference). Test support (CMake target
// scout_palette_testing, not in the worker): used by the quality test and the
// benchmark's contact sheet. Pure functions, thread-safe.
#pragma once

namespace scout::palette {

struct Lab {
  double l = 0, a = 0, b = 0;
};

Lab SrgbToLab(double red, double green, double blue);  // Channels 0..255.
double Ciede2000(const Lab& x, const Lab& y);

}  // namespace scout::palette
