// Colour difference as people see it, to judge palettes: sRGB (D65) ->
// CIELAB, and the CIEDE2000 difference (Sharma, Wu & Dalal 2005; about 1 is
// a just-noticeable difference). Judges palettes in the quality test and keeps
// genlake's palette colours apart; the palette worker never needs it, so it
// is a tool library (scout_colour), not part of scout_palette. Pure functions,
// thread-safe.
#pragma once

namespace scout::palette {

struct Lab {
  double l = 0, a = 0, b = 0;
};

Lab SrgbToLab(double red, double green, double blue);  // Channels 0..255.
double Ciede2000(const Lab& x, const Lab& y);

}  // namespace scout::palette
