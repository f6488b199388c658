// The case form's drawing tool: arrows (drag from tail to head), ellipses (drag corner to corner) and text labels
// (click) on each key image, kept in image pixel coordinates (the image is shown scaled: positions are converted with
// its displayed size), listed with a delete button, and sent with the form as JSON in `annotations`. The server checks
// them again. Labels are set as text, never parsed as markup.

const SVG = 'http://www.w3.org/2000/svg';

function node(tag, attributes) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, String(v));
  return e;
}

const round = (v) => Math.round(v * 100) / 100;

class ImageAnnotator {
  constructor(figure) {
    this.figure = figure;
    this.sop = figure.dataset.sop;
    this.rows = Number(figure.dataset.rows);
    this.columns = Number(figure.dataset.columns);
    try {
      this.annotations = JSON.parse(figure.dataset.annotations || '[]');
    } catch {
      this.annotations = [];
    }
    this.strings = Object.fromEntries([...figure.querySelector('template.annotate-strings').content.querySelectorAll('[data-key]')].map((e) => [e.dataset.key, e.textContent]));
    this.overlay = figure.querySelector('svg.annotate-overlay');
    this.labelInput = figure.querySelector('input.annotate-label');
    this.list = figure.querySelector('ol.annotate-list');
    this.tool = 'arrow';
    for (const button of figure.querySelectorAll('button.annotate-tool')) button.addEventListener('click', () => this.setTool(button.dataset.tool));
    this.labelInput.addEventListener('input', () => this.labelInput.setCustomValidity(''));
    // Enter in the label field does not submit the case form.
    this.labelInput.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') event.preventDefault();
    });
    this.overlay.addEventListener('pointerdown', (event) => this.down(event));
    this.overlay.addEventListener('pointermove', (event) => this.move(event));
    this.overlay.addEventListener('pointerup', (event) => this.up(event));
    this.overlay.addEventListener('pointercancel', () => {
      this.pending = undefined;
      this.render();
    });
    this.setTool('arrow');
    this.render();
  }

  setTool(tool) {
    this.tool = tool;
    for (const b of this.figure.querySelectorAll('button.annotate-tool')) b.classList.toggle('selected', b.dataset.tool === tool);
  }

  // Client coordinates to image pixel coordinates, kept on the image.
  toImage(event) {
    const r = this.overlay.getBoundingClientRect();
    const x = ((event.clientX - r.left) * this.columns) / r.width;
    const y = ((event.clientY - r.top) * this.rows) / r.height;
    return [round(Math.min(this.columns, Math.max(0, x))), round(Math.min(this.rows, Math.max(0, y)))];
  }

  down(event) {
    event.preventDefault();
    const p = this.toImage(event);
    if (this.tool === 'text') {
      const label = this.labelInput.value.trim();
      if (!label) {
        this.labelInput.setCustomValidity(this.strings.needLabel || '');
        this.labelInput.reportValidity();
        return;
      }
      this.add({ kind: 'text', points: [p], label });
      return;
    }
    this.overlay.setPointerCapture(event.pointerId);
    this.pending = { kind: this.tool, points: [p, p], label: this.labelInput.value.trim() };
    this.render();
  }

  move(event) {
    if (!this.pending) return;
    this.pending.points[1] = this.toImage(event);
    this.render();
  }

  up(event) {
    if (!this.pending) return;
    const done = this.pending;
    this.pending = undefined;
    done.points[1] = this.toImage(event);
    const [[x0, y0], [x1, y1]] = done.points;
    const big = done.kind === 'ellipse' ? x0 !== x1 && y0 !== y1 : Math.hypot(x1 - x0, y1 - y0) >= 1;
    if (big) this.add(done);
    else this.render();
  }

  add(annotation) {
    this.annotations.push(annotation);
    this.labelInput.value = '';
    this.render();
  }

  remove(index) {
    this.annotations.splice(index, 1);
    this.render();
  }

  shape(a, index) {
    const g = node('g', { class: `annotation annotation-${a.kind}`, 'data-kind': a.kind, 'data-index': index });
    const [p, q] = a.points;
    const size = Math.max(this.rows, this.columns);
    if (a.kind === 'arrow' && q) {
      g.append(node('line', { class: 'annotation-shape', x1: p[0], y1: p[1], x2: q[0], y2: q[1], 'vector-effect': 'non-scaling-stroke' }));
      const length = Math.hypot(q[0] - p[0], q[1] - p[1]) || 1;
      const ux = (q[0] - p[0]) / length;
      const uy = (q[1] - p[1]) / length;
      const h = size / 20;
      const head = [q, [q[0] - ux * h - (uy * h) / 2, q[1] - uy * h + (ux * h) / 2], [q[0] - ux * h + (uy * h) / 2, q[1] - uy * h - (ux * h) / 2]];
      g.append(node('polygon', { class: 'annotation-head', points: head.map((r) => r.join(',')).join(' ') }));
    } else if (a.kind === 'ellipse' && q) {
      g.append(node('ellipse', {
        class: 'annotation-shape', cx: (p[0] + q[0]) / 2, cy: (p[1] + q[1]) / 2, rx: Math.abs(q[0] - p[0]) / 2, ry: Math.abs(q[1] - p[1]) / 2,
        'vector-effect': 'non-scaling-stroke',
      }));
    }
    if (a.label) {
      const text = node('text', { class: 'annotation-label', x: p[0], y: p[1], 'font-size': size / 16 });
      text.textContent = a.label;
      g.append(text);
    }
    return g;
  }

  render() {
    const shapes = this.annotations.map((a, i) => this.shape(a, i));
    if (this.pending) shapes.push(this.shape(this.pending, -1));
    this.overlay.replaceChildren(...shapes);
    this.list.replaceChildren(
      ...this.annotations.map((a, i) => {
        const li = document.createElement('li');
        li.dataset.kind = a.kind;
        li.dataset.index = String(i);
        li.append(`${this.strings[a.kind] || a.kind} ${i + 1}${a.label ? ': ' + a.label : ''} `);
        const remove = document.createElement('button');
        remove.type = 'button';
        remove.className = 'button small annotate-delete';
        remove.textContent = this.strings.delete || '×';
        remove.addEventListener('click', () => this.remove(i));
        li.append(remove);
        return li;
      }));
  }
}

const annotators = [...document.querySelectorAll('figure.annotate-image')].map((f) => new ImageAnnotator(f));
const field = document.getElementById('case-annotations');
if (field && annotators.length) {
  const fill = () => {
    field.value = JSON.stringify(annotators.map((a) => ({ sop: a.sop, annotations: a.annotations })));
  };
  field.form.addEventListener('submit', fill);
  fill();
}
