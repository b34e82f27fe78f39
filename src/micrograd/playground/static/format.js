// micrograd playground: small helpers every view uses: the element by id, numbers written as the
// graph's boxes write them, the frames' base64 bytes, and a canvas sized for the screen's pixels.

export const $ = (id) => document.getElementById(id);

export { fixed, fmtNum } from "./numbers.js";

export function fmtAcc(x) {
  return x === null || x === undefined ? "\u2013" : `${(100 * x).toFixed(1)}%`;
}

export function b64bytes(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function hiDpi(cv, w, h) {
  // a 2D context drawing in CSS pixels on a canvas backed by the screen's device pixels
  const dpr = window.devicePixelRatio || 1;
  if (cv.width !== Math.round(w * dpr)) {
    cv.width = Math.round(w * dpr);
    cv.height = Math.round(h * dpr);
  }
  const ctx = cv.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

export function sameSizes(a, b) {
  return a && b && a.length === b.length && a.every((v, i) => v === b[i]);
}
