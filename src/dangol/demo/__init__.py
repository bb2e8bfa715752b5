"""The demo café: a deterministic generator of a realistic Seoul shop with planted habits."""
