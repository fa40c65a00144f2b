// Appended to shaders whose threads take elements t0, t0 + WG, ... of a row-major block
// `width` wide (each defines `override WG`): the (row, column) of each element, advanced by
// (WG / width, WG % width) with a carry. A thread divides twice instead of once per element,
// since a u32 division costs about as much as a memory access on SwiftShader.

struct RowWalk { r: u32, c: u32, dr: u32, dc: u32 }

fn row_walk(t0: u32, width: u32) -> RowWalk {
  let r = t0 / width;
  let dr = WG / width;
  return RowWalk(r, t0 - r * width, dr, WG - dr * width);
}

fn row_walk_next(w: RowWalk, width: u32) -> RowWalk {
  var n = RowWalk(w.r + w.dr, w.c + w.dc, w.dr, w.dc);
  if (n.c >= width) {
    n.c -= width;
    n.r += 1u;
  }
  return n;
}
