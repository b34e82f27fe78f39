// micrograd playground: painting a small grid of numbers into a tile (a canvas of the network
// diagram): each cell white blended toward a colour, smoothed up to the tile's size.
import { NEG, POS } from "./colors.js";

export function paintBlend(cv, T, colourAt) {
  // a T×T image, scaled into cv: colourAt(row, col) gives [rgb, a], white blended toward rgb
  const off = document.createElement("canvas");
  off.width = off.height = T;
  const ctx = off.getContext("2d");
  const img = ctx.createImageData(T, T);
  for (let r = 0; r < T; r++) {
    for (let c = 0; c < T; c++) {
      const [base, a] = colourAt(r, c);
      const k = 4 * (r * T + c);
      img.data[k] = 255 + (base[0] - 255) * a;
      img.data[k + 1] = 255 + (base[1] - 255) * a;
      img.data[k + 2] = 255 + (base[2] - 255) * a;
      img.data[k + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
  const g = cv.getContext("2d");
  g.imageSmoothingEnabled = true;
  g.drawImage(off, 0, 0, cv.width, cv.height);
}

export function paintTile(cv, T, valueAt) {
  // valueAt(row, col) in [-1, 1], on the one scale (colors.js valueRgb): grey −, white 0, purple +
  paintBlend(cv, T, (r, c) => {
    const v = valueAt(r, c);
    return [v >= 0 ? POS : NEG, Math.min(1, Math.abs(v))];
  });
}
