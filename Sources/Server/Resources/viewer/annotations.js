// The read-only annotation layer of a teaching case's key images: arrows, ellipses and text labels stored in image
// pixel coordinates, drawn as SVG over the viewport at the positions the current view (zoom, pan, rotation, flips)
// gives them. Labels are set as text, never parsed as markup.

const SVG = 'http://www.w3.org/2000/svg';

function node(tag, attributes) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, String(v));
  return e;
}

export class AnnotationLayer {
  constructor() {
    this.svg = node('svg', { class: 'annotation-layer', 'aria-hidden': 'true' });
    this.key = '';
  }

  // Draws `annotations` (each {kind, points: [[x, y], …], label}); `toLocal(x, y)` maps image coordinates to CSS
  // pixels of the viewport.
  draw(annotations, toLocal) {
    const shapes = [];
    for (const [index, a] of (annotations || []).entries()) {
      const p = (a.points || []).map(([x, y]) => toLocal(x, y));
      if (p.length === 0) continue;
      const g = node('g', { class: `annotation annotation-${a.kind}`, 'data-kind': a.kind, 'data-index': index });
      if (a.kind === 'arrow' && p.length === 2) {
        const [tail, head] = p;
        g.append(node('line', { class: 'annotation-shape', x1: tail.x, y1: tail.y, x2: head.x, y2: head.y }));
        const length = Math.hypot(head.x - tail.x, head.y - tail.y) || 1;
        const ux = (head.x - tail.x) / length;
        const uy = (head.y - tail.y) / length;
        const h = 12;
        const points = [
          [head.x, head.y], [head.x - ux * h - (uy * h) / 2, head.y - uy * h + (ux * h) / 2],
          [head.x - ux * h + (uy * h) / 2, head.y - uy * h - (ux * h) / 2],
        ];
        g.append(node('polygon', { class: 'annotation-head', points: points.map((q) => q.join(',')).join(' ') }));
      } else if (a.kind === 'ellipse' && p.length === 2) {
        // The box's corners under the view's transform: with a rotation of a quarter turn the box stays a box.
        const c = a.points;
        const corners = [[c[0][0], c[0][1]], [c[1][0], c[0][1]], [c[1][0], c[1][1]], [c[0][0], c[1][1]]].map(([x, y]) => toLocal(x, y));
        const xs = corners.map((q) => q.x);
        const ys = corners.map((q) => q.y);
        const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
        g.append(node('ellipse', { class: 'annotation-shape', cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, rx: (x1 - x0) / 2, ry: (y1 - y0) / 2 }));
      }
      if (a.label) {
        const text = node('text', { class: 'annotation-label', x: p[0].x, y: p[0].y });
        text.textContent = a.label;
        g.append(text);
      }
      shapes.push(g);
    }
    this.svg.replaceChildren(...shapes);
  }
}

// The images of a teaching case for the viewer: the case's de-identified copies, read from the library (metadata as
// DICOM JSON, frames as native little-endian samples), grouped by series like a study.
export class CaseClient {
  constructor(base, describe, imagesOfSeries, HTTPFailure) {
    this.base = base;
    this.describe = describe;
    this.imagesOfSeries = imagesOfSeries;
    this.HTTPFailure = HTTPFailure;
  }

  async metadata() {
    if (!this.instances) {
      const url = `${this.base}/metadata`;
      const response = await fetch(url, { headers: { Accept: 'application/dicom+json' }, credentials: 'same-origin' });
      if (!response.ok) throw new this.HTTPFailure(response.status, url);
      this.instances = await response.json();
    }
    return this.instances;
  }

  async seriesList() {
    const bySeries = new Map();
    for (const ds of await this.metadata()) {
      const d = this.describe(ds);
      if (!bySeries.has(d.seriesInstanceUID)) {
        bySeries.set(d.seriesInstanceUID, { uid: d.seriesInstanceUID, modality: d.modality, description: d.seriesDescription, number: d.seriesNumber, count: 0 });
      }
      bySeries.get(d.seriesInstanceUID).count++;
    }
    return [...bySeries.values()].sort((a, b) => (a.number ?? 0) - (b.number ?? 0));
  }

  async seriesImages(seriesUID) {
    const all = await this.metadata();
    return this.imagesOfSeries(all.filter((ds) => this.describe(ds).seriesInstanceUID === seriesUID));
  }

  async frameBytes(image) {
    const url = `${this.base}/frames/${encodeURIComponent(image.instance.sopInstanceUID)}/${image.frame}`;
    const response = await fetch(url, { credentials: 'same-origin' });
    if (!response.ok) throw new this.HTTPFailure(response.status, url);
    return await response.arrayBuffer();
  }
}
