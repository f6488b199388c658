// The slide viewer: a whole-slide image's pyramid (GET /api/wsi/series/{uid}) drawn on a canvas from its tiles
// (GET /api/wsi/series/{uid}/tiles/{level}/{column}/{row}), with pan and zoom across levels, an overview with the
// view's rectangle, a scale bar in µm, and annotations (point, line, polygon, ellipse) measured in µm and µm² and
// stored as DICOM Microscopy Bulk Simple Annotations (PUT /api/wsi/series/{uid}/annotations).
// Coordinates: "slide" coordinates are pixels of the base level (level 0); the view maps them to the screen.

const strings = JSON.parse(document.getElementById('slide-strings')?.textContent || '{}');
const facts = JSON.parse(document.getElementById('slide-facts')?.textContent || '{}');
const t = (key) => strings[key] ?? key;
const numberFormat = new Intl.NumberFormat(document.documentElement.lang || 'zh-CN', { maximumFractionDigits: 1 });

const app = document.getElementById('slide-app');
const state = {
  pyramid: null,
  series: facts.series || '',
  view: { cx: 0, cy: 0, scale: 1 },
  focalPlane: 0,
  opticalPath: '',
  tiles: new Map(), // url → { image, ready }
  annotations: [],
  tool: 'pan',
  drawing: null,
  dirty: false,
};
const MAX_TILES = 600;

function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

// Layout: toolbar, then the canvas with the overview and scale bar over it, then annotations and a status line.
const toolbar = element('div', { class: 'toolbar', role: 'toolbar' });
const stage = element('div', { class: 'stage' });
const canvas = element('canvas', { id: 'slide-canvas', class: 'display' });
const overview = element('canvas', { id: 'slide-overview', class: 'overview' });
const scaleBar = element('div', { id: 'scale-bar', class: 'scale-bar' }, [element('span', { class: 'bar' }), element('span', { class: 'label' })]);
const side = element('aside', {}, [element('h2', { text: t('annotations') }), element('ul', { id: 'annotation-list', class: 'annotation-list' })]);
const status = element('div', { id: 'slide-status', class: 'status', role: 'status' });
stage.append(canvas, overview, scaleBar);
app.append(toolbar, element('main', {}, [stage, side]), status);

const tools = ['pan', 'point', 'line', 'polygon', 'ellipse'];
for (const tool of tools) {
  const button = element('button', { type: 'button', 'data-tool': tool, text: t(`tool.${tool}`) });
  button.addEventListener('click', () => selectTool(tool));
  toolbar.append(button);
}
const zoomIn = element('button', { type: 'button', id: 'zoom-in', text: t('zoomIn') });
const zoomOut = element('button', { type: 'button', id: 'zoom-out', text: t('zoomOut') });
const fit = element('button', { type: 'button', id: 'zoom-fit', text: t('fit') });
const save = element('button', { type: 'button', id: 'save-annotations', text: t('save') });
const planes = element('select', { id: 'focal-plane', 'aria-label': t('focalPlane') });
zoomIn.addEventListener('click', () => zoomAt(canvas.width / 2, canvas.height / 2, 2));
zoomOut.addEventListener('click', () => zoomAt(canvas.width / 2, canvas.height / 2, 0.5));
fit.addEventListener('click', () => fitView());
save.addEventListener('click', () => saveAnnotations());
planes.addEventListener('change', () => {
  state.focalPlane = Number(planes.value);
  draw();
});
// Several optical paths (e.g. fluorescence channels, or brightfield beside them): one shown at a time.
const paths = element('select', { id: 'optical-path', 'aria-label': t('opticalPath') });
paths.addEventListener('change', () => {
  state.opticalPath = paths.value;
  draw();
});
toolbar.append(zoomIn, zoomOut, fit, planes, paths, save);

function selectTool(tool) {
  state.tool = tool;
  state.drawing = null;
  for (const button of toolbar.querySelectorAll('[data-tool]')) button.classList.toggle('selected', button.dataset.tool === tool);
  canvas.style.cursor = tool === 'pan' ? 'grab' : 'crosshair';
  draw();
}

function setStatus(text, error = false) {
  status.textContent = text;
  status.classList.toggle('error', error);
}

async function load() {
  if (!state.series) {
    setStatus(t('noSeries'), true);
    return;
  }
  const response = await fetch(`/api/wsi/series/${state.series}`, { credentials: 'same-origin' });
  if (!response.ok) {
    setStatus(`${t('loadFailed')} (${response.status})`, true);
    return;
  }
  state.pyramid = await response.json();
  state.pyramid.focalPlanes.forEach((z, index) => {
    planes.append(element('option', { value: String(index), text: `${t('focalPlane')} ${numberFormat.format(z)} µm` }));
  });
  planes.hidden = state.pyramid.focalPlanes.length < 2;
  const opticalPaths = state.pyramid.opticalPaths || [];
  for (const identifier of opticalPaths) {
    paths.append(element('option', { value: identifier, text: `${t('opticalPath')} ${identifier}` }));
  }
  state.opticalPath = opticalPaths[0] || '';
  paths.hidden = opticalPaths.length < 2;
  const stored = await fetch(`/api/wsi/series/${state.series}/annotations`, { credentials: 'same-origin' });
  if (stored.ok) state.annotations = (await stored.json()).annotations || [];
  resize();
  fitView();
  selectTool('pan');
  renderList();
  document.body.dataset.ready = 'true';
}

function baseLevel() {
  return state.pyramid.levels[0];
}

// µm per base pixel across (pixel spacing is in mm: rows, then columns).
function micronsPerPixel() {
  const spacing = baseLevel().pixelSpacing;
  return spacing ? { x: spacing[1] * 1000, y: spacing[0] * 1000 } : null;
}

function resize() {
  const box = stage.getBoundingClientRect();
  canvas.width = Math.max(1, Math.floor(box.width));
  canvas.height = Math.max(1, Math.floor(box.height));
  draw();
}

function fitView() {
  const base = baseLevel();
  state.view.scale = Math.min(canvas.width / base.width, canvas.height / base.height);
  state.view.cx = base.width / 2;
  state.view.cy = base.height / 2;
  draw();
}

function zoomAt(sx, sy, factor) {
  const before = toSlide(sx, sy);
  const base = baseLevel();
  const minimum = Math.min(canvas.width / base.width, canvas.height / base.height) / 4;
  state.view.scale = Math.min(8, Math.max(minimum, state.view.scale * factor));
  const after = toSlide(sx, sy);
  state.view.cx += before.x - after.x;
  state.view.cy += before.y - after.y;
  draw();
}

function toSlide(sx, sy) {
  const v = state.view;
  return { x: v.cx + (sx - canvas.width / 2) / v.scale, y: v.cy + (sy - canvas.height / 2) / v.scale };
}

function toScreen(x, y) {
  const v = state.view;
  return { x: (x - v.cx) * v.scale + canvas.width / 2, y: (y - v.cy) * v.scale + canvas.height / 2 };
}

// The level drawn: the coarsest whose pixels are still no larger than a screen pixel.
function levelFor(scale) {
  let chosen = 0;
  state.pyramid.levels.forEach((level, index) => {
    if (level.downsample <= 1 / scale + 1e-9) chosen = index;
  });
  return chosen;
}

function tileURL(level, column, row) {
  // The first optical path is the server's default: its URLs carry no path, so they stay the same as a single path's.
  const first = (state.pyramid.opticalPaths || [])[0] || '';
  const path = state.opticalPath && state.opticalPath !== first ? `&path=${encodeURIComponent(state.opticalPath)}` : '';
  return `/api/wsi/series/${state.series}/tiles/${level}/${column}/${row}?z=${state.focalPlane}${path}`;
}

function tile(level, column, row) {
  const url = tileURL(level, column, row);
  let entry = state.tiles.get(url);
  if (entry) {
    state.tiles.delete(url);
    state.tiles.set(url, entry); // most recently used last
    return entry;
  }
  entry = { image: new Image(), ready: false };
  entry.image.decoding = 'async';
  entry.image.onload = () => {
    entry.ready = true;
    scheduleDraw();
  };
  entry.image.src = url;
  state.tiles.set(url, entry);
  while (state.tiles.size > MAX_TILES) state.tiles.delete(state.tiles.keys().next().value);
  return entry;
}

// The tiles of `level` the view covers, widened by `margin` tiles on each side (prefetch).
function visibleTiles(levelIndex, margin) {
  const level = state.pyramid.levels[levelIndex];
  const size = { x: level.tileWidth * level.downsample, y: level.tileHeight * level.downsample };
  const topLeft = toSlide(0, 0);
  const bottomRight = toSlide(canvas.width, canvas.height);
  const clamp = (value, most) => Math.max(0, Math.min(most, value));
  return {
    c0: clamp(Math.floor(topLeft.x / size.x) - margin, level.tilesAcross - 1),
    c1: clamp(Math.floor(bottomRight.x / size.x) + margin, level.tilesAcross - 1),
    r0: clamp(Math.floor(topLeft.y / size.y) - margin, level.tilesDown - 1),
    r1: clamp(Math.floor(bottomRight.y / size.y) + margin, level.tilesDown - 1),
    size,
  };
}

let pending = false;
function scheduleDraw() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    draw();
  });
}

function draw() {
  if (!state.pyramid) return;
  const context = canvas.getContext('2d');
  context.imageSmoothingEnabled = false;
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, canvas.width, canvas.height);
  const chosen = levelFor(state.view.scale);
  // Coarser levels first, as a backdrop while the chosen level's tiles arrive.
  for (let index = state.pyramid.levels.length - 1; index >= chosen; index--) {
    const range = visibleTiles(index, 0);
    for (let row = range.r0; row <= range.r1; row++) {
      for (let column = range.c0; column <= range.c1; column++) {
        const url = tileURL(index, column, row);
        const entry = index === chosen ? tile(index, column, row) : state.tiles.get(url);
        if (!entry?.ready) continue;
        const at = toScreen(column * range.size.x, row * range.size.y);
        const end = toScreen((column + 1) * range.size.x, (row + 1) * range.size.y);
        context.drawImage(entry.image, Math.round(at.x), Math.round(at.y), Math.round(end.x) - Math.round(at.x), Math.round(end.y) - Math.round(at.y));
      }
    }
  }
  const around = visibleTiles(chosen, 1);
  for (let row = around.r0; row <= around.r1; row++) for (let column = around.c0; column <= around.c1; column++) tile(chosen, column, row);
  drawAnnotations(context);
  drawOverview();
  drawScaleBar();
  canvas.dataset.level = String(chosen);
  setStatus(`${t('level')} ${chosen} · ×${numberFormat.format(state.view.scale * baseLevel().downsample)}`);
}

function drawOverview() {
  const levels = state.pyramid.levels;
  const smallest = levels[levels.length - 1];
  const width = 200;
  const height = Math.round((width * smallest.height) / smallest.width);
  overview.width = width;
  overview.height = height;
  const context = overview.getContext('2d');
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, width, height);
  const index = levels.length - 1;
  const scale = width / smallest.width;
  for (let row = 0; row < smallest.tilesDown; row++) {
    for (let column = 0; column < smallest.tilesAcross; column++) {
      const entry = tile(index, column, row);
      if (entry.ready) context.drawImage(entry.image, column * smallest.tileWidth * scale, row * smallest.tileHeight * scale, smallest.tileWidth * scale, smallest.tileHeight * scale);
    }
  }
  const base = baseLevel();
  const topLeft = toSlide(0, 0);
  const bottomRight = toSlide(canvas.width, canvas.height);
  const ratio = width / base.width;
  context.strokeStyle = '#d32f2f';
  context.lineWidth = 2;
  context.strokeRect(topLeft.x * ratio, topLeft.y * ratio, (bottomRight.x - topLeft.x) * ratio, (bottomRight.y - topLeft.y) * ratio);
}

// A bar of a round length in µm, about a fifth of the canvas wide.
function drawScaleBar() {
  const microns = micronsPerPixel();
  if (!microns) {
    scaleBar.hidden = true;
    return;
  }
  scaleBar.hidden = false;
  const target = ((canvas.width / 5) / state.view.scale) * microns.x;
  const power = Math.pow(10, Math.floor(Math.log10(target)));
  const length = [1, 2, 5, 10].map((m) => m * power).filter((v) => v <= target).pop() || power;
  const pixels = (length / microns.x) * state.view.scale;
  scaleBar.querySelector('.bar').style.width = `${pixels}px`;
  scaleBar.querySelector('.label').textContent = length >= 1000 ? `${numberFormat.format(length / 1000)} mm` : `${numberFormat.format(length)} µm`;
  scaleBar.dataset.microns = String(length);
  scaleBar.dataset.pixels = String(pixels);
}

// Measurements in µm and µm², from base-level pixels and the pixel spacing.
export function measure(annotation) {
  const microns = micronsPerPixel() || { x: 1, y: 1 };
  const p = annotation.points.map(([x, y]) => [x * microns.x, y * microns.y]);
  if (annotation.type === 'line') {
    let length = 0;
    for (let i = 1; i < p.length; i++) length += Math.hypot(p[i][0] - p[i - 1][0], p[i][1] - p[i - 1][1]);
    return { length };
  }
  if (annotation.type === 'polygon') {
    let twice = 0;
    let perimeter = 0;
    for (let i = 0; i < p.length; i++) {
      const [x1, y1] = p[i];
      const [x2, y2] = p[(i + 1) % p.length];
      twice += x1 * y2 - x2 * y1;
      perimeter += Math.hypot(x2 - x1, y2 - y1);
    }
    return { area: Math.abs(twice) / 2, length: perimeter };
  }
  if (annotation.type === 'ellipse') {
    // Four points: the ends of the major axis, then of the minor axis (DICOM ELLIPSE).
    const a = Math.hypot(p[1][0] - p[0][0], p[1][1] - p[0][1]) / 2;
    const b = Math.hypot(p[3][0] - p[2][0], p[3][1] - p[2][1]) / 2;
    return { area: Math.PI * a * b };
  }
  return {};
}

function describe(annotation) {
  const m = measure(annotation);
  const parts = [t(`tool.${annotation.type}`)];
  if (m.length !== undefined && annotation.type === 'line') parts.push(`${numberFormat.format(m.length)} µm`);
  if (m.area !== undefined) parts.push(`${numberFormat.format(m.area)} µm²`);
  return parts.join(' · ');
}

function renderList() {
  const list = document.getElementById('annotation-list');
  list.replaceChildren();
  if (state.annotations.length === 0) list.append(element('li', { class: 'empty', text: t('noAnnotations') }));
  state.annotations.forEach((annotation, index) => {
    const m = measure(annotation);
    const remove = element('button', { type: 'button', class: 'remove', 'aria-label': t('remove'), text: '×' });
    remove.addEventListener('click', () => {
      state.annotations.splice(index, 1);
      state.dirty = true;
      renderList();
      draw();
    });
    const item = element('li', { 'data-type': annotation.type }, [element('span', { text: describe(annotation) }), remove]);
    if (m.area !== undefined) item.dataset.area = String(m.area);
    if (m.length !== undefined) item.dataset.length = String(m.length);
    list.append(item);
  });
  save.disabled = !state.dirty;
}

function drawAnnotations(context) {
  const shapes = state.drawing ? [...state.annotations, state.drawing] : state.annotations;
  context.lineWidth = 2;
  for (const annotation of shapes) {
    const points = annotation.points.map(([x, y]) => toScreen(x, y));
    context.strokeStyle = annotation === state.drawing ? '#ff9800' : '#1565c0';
    context.fillStyle = context.strokeStyle;
    context.beginPath();
    if (annotation.type === 'point') {
      context.arc(points[0].x, points[0].y, 4, 0, 2 * Math.PI);
      context.fill();
      continue;
    }
    if (annotation.type === 'ellipse' && points.length === 4) {
      const center = { x: (points[0].x + points[1].x) / 2, y: (points[0].y + points[1].y) / 2 };
      const a = Math.hypot(points[1].x - points[0].x, points[1].y - points[0].y) / 2;
      const b = Math.hypot(points[3].x - points[2].x, points[3].y - points[2].y) / 2;
      const angle = Math.atan2(points[1].y - points[0].y, points[1].x - points[0].x);
      context.ellipse(center.x, center.y, a, b, angle, 0, 2 * Math.PI);
      context.stroke();
      continue;
    }
    points.forEach((p, i) => (i === 0 ? context.moveTo(p.x, p.y) : context.lineTo(p.x, p.y)));
    if (annotation.type === 'polygon' && annotation !== state.drawing) context.closePath();
    context.stroke();
  }
}

// An ellipse dragged from corner to corner of its bounding box, as DICOM's four axis end points.
function ellipseFrom(start, end) {
  const cx = (start.x + end.x) / 2;
  const cy = (start.y + end.y) / 2;
  const rx = Math.abs(end.x - start.x) / 2;
  const ry = Math.abs(end.y - start.y) / 2;
  const [major, minor] = rx >= ry ? [[[cx - rx, cy], [cx + rx, cy]], [[cx, cy - ry], [cx, cy + ry]]] : [[[cx, cy - ry], [cx, cy + ry]], [[cx - rx, cy], [cx + rx, cy]]];
  return [...major, ...minor];
}

function finish(annotation) {
  state.annotations.push(annotation);
  state.drawing = null;
  state.dirty = true;
  renderList();
  draw();
}

let drag = null;
canvas.addEventListener('pointerdown', (event) => {
  const at = toSlide(event.offsetX, event.offsetY);
  if (state.tool === 'pan') {
    drag = { x: event.offsetX, y: event.offsetY, cx: state.view.cx, cy: state.view.cy };
    canvas.setPointerCapture(event.pointerId);
    return;
  }
  if (state.tool === 'point') {
    finish({ type: 'point', points: [[at.x, at.y]] });
  } else if (state.tool === 'polygon') {
    if (!state.drawing) state.drawing = { type: 'polygon', points: [] };
    state.drawing.points.push([at.x, at.y]);
    draw();
  } else {
    drag = { start: at };
    state.drawing = { type: state.tool, points: [[at.x, at.y], [at.x, at.y]] };
    canvas.setPointerCapture(event.pointerId);
  }
});
canvas.addEventListener('pointermove', (event) => {
  if (!drag) return;
  if (state.tool === 'pan') {
    state.view.cx = drag.cx - (event.offsetX - drag.x) / state.view.scale;
    state.view.cy = drag.cy - (event.offsetY - drag.y) / state.view.scale;
    scheduleDraw();
    return;
  }
  const at = toSlide(event.offsetX, event.offsetY);
  state.drawing.points = state.tool === 'ellipse' ? ellipseFrom(drag.start, at) : [[drag.start.x, drag.start.y], [at.x, at.y]];
  scheduleDraw();
});
canvas.addEventListener('pointerup', () => {
  if (drag && state.tool !== 'pan' && state.drawing) finish(state.drawing);
  drag = null;
});
canvas.addEventListener('dblclick', () => {
  if (state.tool === 'polygon' && state.drawing) {
    // The double click's second press added a point at the same place as the first.
    const points = state.drawing.points;
    if (points.length > 1) points.pop();
    if (points.length >= 3) finish(state.drawing);
  }
});
canvas.addEventListener('wheel', (event) => {
  event.preventDefault();
  zoomAt(event.offsetX, event.offsetY, event.deltaY < 0 ? 1.25 : 0.8);
}, { passive: false });
window.addEventListener('resize', resize);
window.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') {
    state.drawing = null;
    draw();
  } else if (event.key === 'Enter' && state.drawing?.type === 'polygon' && state.drawing.points.length >= 3) {
    finish(state.drawing);
  }
});

async function saveAnnotations() {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || '';
  const response = await fetch(`/api/wsi/series/${state.series}/annotations`, {
    method: 'PUT',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
    body: JSON.stringify({ annotations: state.annotations }),
  });
  if (response.ok) {
    state.dirty = false;
    renderList();
    setStatus(t('saved'));
    document.body.dataset.saved = String(Date.now());
  } else {
    setStatus(`${t('saveFailed')} (${response.status})`, true);
  }
}

// For tests and people who link to a place: show slide point (x, y) at the centre with `scale` screen pixels per
// base pixel.
window.slideViewer = {
  setView(cx, cy, scale) {
    state.view = { cx, cy, scale };
    draw();
  },
  state,
  measure,
};

load().catch((error) => setStatus(`${t('loadFailed')}: ${error}`, true));
