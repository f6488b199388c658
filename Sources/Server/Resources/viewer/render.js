// Pixels to screen: stored values through the modality LUT (rescale, PS3.3 C.11.1) and the linear VOI window
// (PS3.3 C.11.2.1.2.1) to 8-bit grey, as one lookup table per window so that dragging the window costs one pass.

// The stored samples of a frame as a typed array over the raw bytes (little endian, as WADO-RS sent them).
export function samplesOf(buffer, d) {
  const count = d.rows * d.columns * samplesPerFrame(d);
  if (d.bitsAllocated === 8) return checked(new Uint8Array(buffer, 0, Math.min(count, buffer.byteLength)), count);
  if (d.bitsAllocated === 16) return checked(new Uint16Array(buffer, 0, Math.min(count, buffer.byteLength >> 1)), count);
  if (d.bitsAllocated === 32) {
    const n = Math.min(count, buffer.byteLength >> 2);
    return checked(d.signed ? new Int32Array(buffer, 0, n) : new Uint32Array(buffer, 0, n), count);
  }
  throw new Error(`Bits Allocated ${d.bitsAllocated} is not displayed`);
}

function checked(array, count) {
  if (array.length < count) throw new Error(`frame has ${array.length} samples, ${count} expected`);
  return array;
}

// YBR_FULL_422 stores two luminance samples and one chrominance pair per two pixels (PS3.3 C.7.6.3.1.2).
function samplesPerFrame(d) {
  if (d.samplesPerPixel === 1) return 1;
  return !d.decodedByServer && d.photometric === 'YBR_FULL_422' ? 2 : 3;
}

export function isColor(d) {
  return d.samplesPerPixel === 3;
}

// The stored value a raw 8/16-bit pattern holds: shifted down from High Bit, masked to Bits Stored, sign-extended.
function storedValue(pattern, d) {
  const shift = Math.max(0, d.highBit + 1 - d.bitsStored);
  const bits = Math.min(d.bitsStored, 31);
  let v = (pattern >>> shift) & ((2 ** bits) - 1);
  if (d.signed && v >= 2 ** (bits - 1)) v -= 2 ** bits;
  return v;
}

// Modality values (rescale applied) by raw pattern, for 8- and 16-bit data.
const modalityTables = new Map();
export function modalityTable(d) {
  const key = `${d.bitsAllocated}/${d.bitsStored}/${d.highBit}/${d.signed}/${d.slope}/${d.intercept}`;
  let table = modalityTables.get(key);
  if (!table) {
    const size = d.bitsAllocated === 8 ? 256 : 65536;
    table = new Float64Array(size);
    for (let p = 0; p < size; p++) table[p] = storedValue(p, d) * d.slope + d.intercept;
    modalityTables.set(key, table);
  }
  return table;
}

export function modalityValue(samples, index, d) {
  if (d.bitsAllocated <= 16) return modalityTable(d)[samples[index]];
  return samples[index] * d.slope + d.intercept;
}

// The linear VOI function with 8-bit output (PS3.3 C.11.2.1.2.1).
export function windowed(x, center, width) {
  const w = Math.max(width, 1);
  if (x <= center - 0.5 - (w - 1) / 2) return 0;
  if (x > center - 0.5 + (w - 1) / 2) return 255;
  return Math.round(((x - (center - 0.5)) / (w - 1) + 0.5) * 255);
}

// The range of modality values of a frame, for a default window when the file has none.
export function modalityRange(samples, d) {
  let lo = Infinity;
  let hi = -Infinity;
  if (d.bitsAllocated <= 16) {
    const seen = new Uint8Array(d.bitsAllocated === 8 ? 256 : 65536);
    for (let i = 0; i < samples.length; i++) seen[samples[i]] = 1;
    const table = modalityTable(d);
    for (let p = 0; p < seen.length; p++) {
      if (!seen[p]) continue;
      const v = table[p];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  } else {
    for (let i = 0; i < samples.length; i++) {
      const v = samples[i] * d.slope + d.intercept;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return Number.isFinite(lo) ? { min: lo, max: hi } : { min: 0, max: 255 };
}

// Packed RGBA (little endian: red in the low byte) for every raw pattern under one window.
const greyTables = new Map();
function greyTable(d, center, width, inverted) {
  const key = `${d.bitsAllocated}/${d.bitsStored}/${d.highBit}/${d.signed}/${d.slope}/${d.intercept}/${center}/${width}/${inverted}`;
  let table = greyTables.get(key);
  if (!table) {
    const modality = modalityTable(d);
    table = new Uint32Array(modality.length);
    for (let p = 0; p < modality.length; p++) {
      let y = windowed(modality[p], center, width);
      if (inverted) y = 255 - y;
      table[p] = 0xff000000 | (y << 16) | (y << 8) | y;
    }
    if (greyTables.size > 8) greyTables.delete(greyTables.keys().next().value);
    greyTables.set(key, table);
  }
  return table;
}

// Writes the frame into `imageData` (same size) under the view's window and inversion.
export function renderFrame(samples, d, imageData, view) {
  const out = new Uint32Array(imageData.data.buffer);
  const n = d.rows * d.columns;
  if (!isColor(d)) {
    // MONOCHROME1 shows its lowest values white (PS3.3 C.7.6.3.1.2).
    const inverted = (d.photometric === 'MONOCHROME1') !== view.invert;
    if (d.bitsAllocated <= 16) {
      const table = greyTable(d, view.center, view.width, inverted);
      for (let i = 0; i < n; i++) out[i] = table[samples[i]];
    } else {
      for (let i = 0; i < n; i++) {
        let y = windowed(samples[i] * d.slope + d.intercept, view.center, view.width);
        if (inverted) y = 255 - y;
        out[i] = 0xff000000 | (y << 16) | (y << 8) | y;
      }
    }
    return;
  }
  renderColor(samples, d, out, view.invert);
}

function clamp8(v) {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

function pack(r, g, b, invert) {
  if (invert) {
    r = 255 - r;
    g = 255 - g;
    b = 255 - b;
  }
  return 0xff000000 | (b << 16) | (g << 8) | r;
}

// RGB, YBR_FULL and YBR_FULL_422 with 8 bits per sample, interleaved or planar (PS3.3 C.7.6.3.1.2, C.7.6.3.1.3).
function renderColor(s, d, out, invert) {
  const n = d.rows * d.columns;
  const shift = d.bitsAllocated > 8 ? d.bitsStored - 8 : 0;
  const at = (v) => (shift > 0 ? v >> shift : v);
  const ybr = !d.decodedByServer && d.photometric.startsWith('YBR_FULL');
  if (ybr && d.photometric === 'YBR_FULL_422') {
    for (let i = 0; i < n; i += 2) {
      const base = i * 2;
      const cb = at(s[base + 2]) - 128;
      const cr = at(s[base + 3]) - 128;
      for (let k = 0; k < 2 && i + k < n; k++) {
        const y = at(s[base + k]);
        out[i + k] = pack(clamp8(y + 1.402 * cr), clamp8(y - 0.344136 * cb - 0.714136 * cr), clamp8(y + 1.772 * cb), invert);
      }
    }
    return;
  }
  const planar = !d.decodedByServer && d.planarConfiguration === 1;
  for (let i = 0; i < n; i++) {
    let a, b, c;
    if (planar) {
      a = at(s[i]);
      b = at(s[n + i]);
      c = at(s[2 * n + i]);
    } else {
      a = at(s[3 * i]);
      b = at(s[3 * i + 1]);
      c = at(s[3 * i + 2]);
    }
    if (ybr) {
      const cb = b - 128;
      const cr = c - 128;
      out[i] = pack(clamp8(a + 1.402 * cr), clamp8(a - 0.344136 * cb - 0.714136 * cr), clamp8(a + 1.772 * cb), invert);
    } else {
      out[i] = pack(a, b, c, invert);
    }
  }
}

// Statistics of the modality values of the pixels whose centres lie inside `contains(x, y)` (image coordinates,
// pixel (i, j) covering [i, i+1) × [j, j+1)), within the bounding box [x0, x1) × [y0, y1).
export function regionStatistics(samples, d, box, contains) {
  if (isColor(d)) return undefined;
  const x0 = Math.max(0, Math.floor(box.x0));
  const y0 = Math.max(0, Math.floor(box.y0));
  const x1 = Math.min(d.columns, Math.ceil(box.x1));
  const y1 = Math.min(d.rows, Math.ceil(box.y1));
  let count = 0;
  let sum = 0;
  let sumSquares = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      if (!contains(x + 0.5, y + 0.5)) continue;
      const v = modalityValue(samples, y * d.columns + x, d);
      count++;
      sum += v;
      sumSquares += v * v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (count === 0) return { count: 0 };
  const mean = sum / count;
  // Population standard deviation over the pixels in the region.
  const sd = Math.sqrt(Math.max(0, sumSquares / count - mean * mean));
  return { count, mean, sd, min, max };
}
