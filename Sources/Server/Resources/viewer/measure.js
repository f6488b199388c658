// Measurements in image coordinates (x along columns, y along rows, pixel (i, j) covering [i, i+1) × [j, j+1)),
// converted to millimetres with Pixel Spacing (0028,0030): row spacing (between rows) first, then column spacing.

import { regionStatistics } from './render.js';
import { t } from './i18n.js';

function spacing(d) {
  return d.pixelSpacing ? { x: d.pixelSpacing[1], y: d.pixelSpacing[0], unit: 'mm' } : { x: 1, y: 1, unit: 'px' };
}

export function unitOf(d) {
  if (d.rescaleType) return d.rescaleType === 'US' ? '' : d.rescaleType;
  return d.modality === 'CT' ? 'HU' : '';
}

// Computes the figures of measurement `m` on an image described by `d` with samples `samples`.
export function evaluate(m, d, samples) {
  const s = spacing(d);
  const [a, b, c] = m.points;
  if (m.kind === 'length') {
    const value = Math.hypot((b.x - a.x) * s.x, (b.y - a.y) * s.y);
    return { length: value, unit: s.unit };
  }
  if (m.kind === 'angle') {
    const u = { x: (a.x - b.x) * s.x, y: (a.y - b.y) * s.y };
    const v = { x: (c.x - b.x) * s.x, y: (c.y - b.y) * s.y };
    const cosine = (u.x * v.x + u.y * v.y) / (Math.hypot(u.x, u.y) * Math.hypot(v.x, v.y) || 1);
    return { degrees: (Math.acos(Math.max(-1, Math.min(1, cosine))) * 180) / Math.PI };
  }
  const box = { x0: Math.min(a.x, b.x), y0: Math.min(a.y, b.y), x1: Math.max(a.x, b.x), y1: Math.max(a.y, b.y) };
  let contains;
  let area;
  if (m.kind === 'rectangle') {
    contains = (x, y) => x >= box.x0 && x < box.x1 && y >= box.y0 && y < box.y1;
    area = (box.x1 - box.x0) * (box.y1 - box.y0) * s.x * s.y;
  } else {
    const cx = (box.x0 + box.x1) / 2;
    const cy = (box.y0 + box.y1) / 2;
    const rx = (box.x1 - box.x0) / 2 || 1e-9;
    const ry = (box.y1 - box.y0) / 2 || 1e-9;
    contains = (x, y) => ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1;
    area = Math.PI * rx * ry * s.x * s.y;
  }
  const stats = samples ? regionStatistics(samples, d, box, contains) : undefined;
  return { area, areaUnit: s.unit === 'mm' ? 'mm²' : 'px²', stats, unit: unitOf(d) };
}

function fixed(v, digits) {
  return Number.isFinite(v) ? v.toFixed(digits) : '—';
}

// One line of text for the measurement list and the label on the image.
export function describe(m) {
  const r = m.result;
  if (m.kind === 'length') return `${t('length')} ${fixed(r.length, 1)} ${r.unit}`;
  if (m.kind === 'angle') return `${t('angle')} ${fixed(r.degrees, 1)}°`;
  const name = t(m.kind);
  const area = `${t('area')} ${fixed(r.area, 1)} ${r.areaUnit}`;
  if (!r.stats || !r.stats.count) return `${name} ${area}`;
  const u = r.unit ? ` ${r.unit}` : '';
  const st = r.stats;
  return `${name} ${t('mean')} ${fixed(st.mean, 1)}${u} ${t('sd')} ${fixed(st.sd, 1)} ${t('min')} ${fixed(st.min, 1)} ${t('max')} ${fixed(st.max, 1)} ${area}`;
}

// Machine-readable figures for the list entry's data attributes (full precision).
export function dataAttributes(m) {
  const r = m.result;
  const out = { kind: m.kind };
  if (m.kind === 'length') out.length = r.length;
  if (m.kind === 'angle') out.degrees = r.degrees;
  if (m.kind === 'rectangle' || m.kind === 'ellipse') {
    out.area = r.area;
    if (r.stats && r.stats.count) {
      out.mean = r.stats.mean;
      out.sd = r.stats.sd;
      out.min = r.stats.min;
      out.max = r.stats.max;
      out.count = r.stats.count;
    }
  }
  return out;
}

// Draws `m` (image coordinates mapped through `matrix`, a DOMMatrix) on a 2D context in device pixels.
export function draw(ctx, m, matrix, scale, highlight) {
  const p = m.points.map((q) => matrix.transformPoint(new DOMPoint(q.x, q.y)));
  ctx.save();
  ctx.lineWidth = 1.5 * scale;
  ctx.strokeStyle = highlight ? '#ffd54f' : '#4fc3f7';
  ctx.fillStyle = ctx.strokeStyle;
  ctx.font = `${12 * scale}px sans-serif`;
  ctx.beginPath();
  if (m.kind === 'length' || m.kind === 'angle') {
    ctx.moveTo(p[0].x, p[0].y);
    for (const q of p.slice(1)) ctx.lineTo(q.x, q.y);
    ctx.stroke();
    for (const q of p) ctx.fillRect(q.x - 2 * scale, q.y - 2 * scale, 4 * scale, 4 * scale);
  } else if (m.kind === 'rectangle') {
    const corners = [
      [m.points[0].x, m.points[0].y], [m.points[1].x, m.points[0].y], [m.points[1].x, m.points[1].y], [m.points[0].x, m.points[1].y],
    ].map(([x, y]) => matrix.transformPoint(new DOMPoint(x, y)));
    ctx.moveTo(corners[0].x, corners[0].y);
    for (const q of corners.slice(1)) ctx.lineTo(q.x, q.y);
    ctx.closePath();
    ctx.stroke();
  } else {
    const cx = (m.points[0].x + m.points[1].x) / 2;
    const cy = (m.points[0].y + m.points[1].y) / 2;
    const rx = Math.abs(m.points[1].x - m.points[0].x) / 2;
    const ry = Math.abs(m.points[1].y - m.points[0].y) / 2;
    for (let k = 0; k <= 64; k++) {
      const angle = (k / 64) * 2 * Math.PI;
      const q = matrix.transformPoint(new DOMPoint(cx + rx * Math.cos(angle), cy + ry * Math.sin(angle)));
      if (k === 0) ctx.moveTo(q.x, q.y);
      else ctx.lineTo(q.x, q.y);
    }
    ctx.stroke();
  }
  if (m.result) {
    // Rectangles are labelled at their top right corner, ellipses at their rightmost point, lines at their end.
    const [a, b] = m.points;
    const corner =
      m.kind === 'rectangle' ? { x: Math.max(a.x, b.x), y: Math.min(a.y, b.y) }
      : m.kind === 'ellipse' ? { x: Math.max(a.x, b.x), y: (a.y + b.y) / 2 }
      : undefined;
    const anchor = corner ? matrix.transformPoint(new DOMPoint(corner.x, corner.y)) : p.reduce((best, q) => (q.x > best.x ? q : best), p[0]);
    ctx.fillText(describe(m), anchor.x + 6 * scale, anchor.y - 6 * scale);
  }
  ctx.restore();
}
