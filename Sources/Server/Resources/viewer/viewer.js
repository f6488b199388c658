// The Atrium viewer: series from WADO-RS drawn on canvases, window/level in the browser, measurements, cine and
// layouts. `window.atriumViewer` exposes the state and a few actions for tests and benchmarks.

import { StudyClient, FrameCache, Prefetcher, HTTPFailure, describeInstance, imagesOfSeries } from './dicom.js';
import { samplesOf, renderFrame, modalityRange, isColor } from './render.js';
import { evaluate, describe, dataAttributes, draw as drawMeasurement } from './measure.js';
import { t } from './i18n.js';
import { AnnotationLayer, CaseClient } from './annotations.js';

const PRESETS = [
  { id: 'file', label: 'presetFile' },
  { id: 'lung', label: 'presetLung', center: -600, width: 1500 },
  { id: 'mediastinum', label: 'presetMediastinum', center: 50, width: 350 },
  { id: 'bone', label: 'presetBone', center: 400, width: 1800 },
  { id: 'brain', label: 'presetBrain', center: 40, width: 80 },
  { id: 'abdomen', label: 'presetAbdomen', center: 50, width: 400 },
  { id: 'full', label: 'presetFull' },
];

const TOOLS = [
  { id: 'window', label: 'toolWindow', key: 'w' },
  { id: 'pan', label: 'toolPan', key: 'p' },
  { id: 'zoom', label: 'toolZoom', key: 'z' },
  { id: 'length', label: 'toolLength', key: 'l' },
  { id: 'angle', label: 'toolAngle', key: 'a' },
  { id: 'rectangle', label: 'toolRectangle', key: 'r' },
  { id: 'ellipse', label: 'toolEllipse', key: 'e' },
];

const LAYOUTS = { '1x1': [1, 1], '1x2': [1, 2], '2x2': [2, 2] };

function element(tag, attributes = {}, children = []) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes)) {
    if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

// The patient direction of a vector in patient coordinates (PS3.3 C.7.6.1.1.1): L/R, P/A, H/F, strongest first.
function orientationLabel(v) {
  const letters = [
    [v[0], 'L', 'R'],
    [v[1], 'P', 'A'],
    [v[2], 'H', 'F'],
  ].sort((p, q) => Math.abs(q[0]) - Math.abs(p[0]));
  let out = '';
  for (const [value, positive, negative] of letters) {
    if (Math.abs(value) < 0.25) break;
    out += value > 0 ? positive : negative;
  }
  return out;
}

class Viewport {
  constructor(app, slot) {
    this.app = app;
    this.slot = slot;
    this.images = [];
    this.index = 0;
    this.series = undefined;
    this.measurements = new Map();
    this.pending = undefined;
    this.canvas = element('canvas', { class: 'display' });
    this.imageCanvas = document.createElement('canvas');
    this.imageContext = this.imageCanvas.getContext('2d', { willReadFrequently: true });
    this.imageData = undefined;
    this.renderedKey = '';
    this.corners = ['top-left', 'top-right', 'bottom-left', 'bottom-right'].map((c) => element('div', { class: `corner ${c}` }));
    this.markers = ['top', 'bottom', 'left', 'right'].map((c) => element('div', { class: `marker ${c}` }));
    this.scrollbar = element('input', { type: 'range', class: 'scrollbar', min: '0', max: '0', value: '0', step: '1' });
    this.scrollbar.addEventListener('input', () => this.show(Number(this.scrollbar.value)));
    // A teaching case's annotations, read-only, over the image (only when the viewer shows a case).
    this.annotationLayer = new AnnotationLayer();
    this.root = element('div', { class: 'viewport', 'data-slot': String(slot) }, [
      this.canvas, this.annotationLayer.svg, ...this.corners, ...this.markers, this.scrollbar,
    ]);
    this.resetView();
    this.attachPointer();
    // The viewport's size, kept from the observer so that painting never forces a layout.
    new ResizeObserver((entries) => {
      const box = entries[entries.length - 1].contentRect;
      this.size = { width: box.width, height: box.height };
      this.paint();
    }).observe(this.root);
  }

  resetView() {
    const keep = this.view;
    this.view = {
      center: keep?.center ?? 40, width: keep?.width ?? 400, invert: false, zoom: 1, panX: 0, panY: 0, rotation: 0,
      flipH: false, flipV: false, windowSet: keep?.windowSet ?? false,
    };
  }

  get image() {
    return this.images[this.index];
  }

  async setSeries(series) {
    this.series = series;
    this.images = [];
    this.measurements = new Map();
    this.index = 0;
    this.view = undefined;
    this.resetView();
    this.renderedKey = '';
    this.corners[0].textContent = t('loading');
    this.paint();
    const images = await this.app.client.seriesImages(series.uid);
    if (this.series !== series) return;
    this.images = images;
    this.scrollbar.max = String(Math.max(0, images.length - 1));
    const d = images[0]?.instance;
    this.cineRate = d?.frameTime ? 1000 / d.frameTime : d?.cineRate || (d?.numberOfFrames > 1 ? 15 : 10);
    this.app.prefetcher.pump();
    // The image named in the address (a teaching case's key image) is shown first.
    const named = images.findIndex((im) => im.instance.sopInstanceUID === this.app.firstImageUID);
    this.show(Math.max(0, named));
  }

  show(index) {
    if (this.images.length === 0) return;
    this.index = Math.max(0, Math.min(this.images.length - 1, Math.round(index)));
    if (this.scrollbar.value !== String(this.index)) this.scrollbar.value = String(this.index);
    this.pending = undefined;
    const image = this.image;
    if (!this.app.cache.has(image.key)) {
      this.app.prefetcher.frame(image).then(
        () => {
          if (this.image === image) this.draw();
        },
        (error) => {
          this.corners[1].textContent = `${t('failed')}: ${error.message}`;
        });
    }
    this.draw();
    this.app.prefetcher.pump();
    this.app.updateMeasurementList();
  }

  // Renders the current frame into the image canvas (when frame or window changed), then paints.
  draw() {
    const image = this.image;
    if (!image) return this.paint();
    const buffer = this.app.cache.get(image.key);
    if (buffer) {
      const d = image.instance;
      let samples;
      try {
        samples = samplesOf(buffer, d);
      } catch (error) {
        this.corners[1].textContent = `${t('failed')}: ${error.message}`;
        return;
      }
      this.samples = samples;
      if (!this.view.windowSet && !isColor(d)) this.applyPreset('file', false);
      const key = `${image.key}|${this.view.center}|${this.view.width}|${this.view.invert}`;
      if (key !== this.renderedKey) {
        if (this.imageCanvas.width !== d.columns || this.imageCanvas.height !== d.rows || !this.imageData) {
          this.imageCanvas.width = d.columns;
          this.imageCanvas.height = d.rows;
          this.imageData = this.imageContext.createImageData(d.columns, d.rows);
        }
        renderFrame(samples, d, this.imageData, this.view);
        this.imageContext.putImageData(this.imageData, 0, 0);
        this.renderedKey = key;
        this.app.framesRendered++;
      }
      this.displayedKey = image.key;
    }
    this.paint();
    if (buffer) this.app.firstImage();
  }

  // The map from image coordinates to device pixels of the display canvas.
  matrix() {
    const d = this.image?.instance;
    const w = this.canvas.width;
    const h = this.canvas.height;
    if (!d) return new DOMMatrix();
    const aspect = d.pixelSpacing ? d.pixelSpacing[0] / d.pixelSpacing[1] : 1;
    const turned = this.view.rotation % 2 === 1;
    const shownW = turned ? d.rows * aspect : d.columns;
    const shownH = turned ? d.columns : d.rows * aspect;
    const fit = Math.min(w / shownW, h / shownH);
    const scale = fit * this.view.zoom;
    const dpr = window.devicePixelRatio || 1;
    return new DOMMatrix()
      .translate(w / 2 + this.view.panX * dpr, h / 2 + this.view.panY * dpr)
      .rotate(this.view.rotation * 90)
      .scale(this.view.flipH ? -scale : scale, (this.view.flipV ? -scale : scale) * aspect)
      .translate(-d.columns / 2, -d.rows / 2);
  }

  // Client (CSS pixel) coordinates to image coordinates.
  toImage(clientX, clientY) {
    const r = this.canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const p = this.matrix().inverse().transformPoint(new DOMPoint((clientX - r.left) * dpr, (clientY - r.top) * dpr));
    return { x: p.x, y: p.y };
  }

  // Image coordinates to client (CSS pixel) coordinates.
  toClient(x, y) {
    const r = this.canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    const p = this.matrix().transformPoint(new DOMPoint(x, y));
    return { x: r.left + p.x / dpr, y: r.top + p.y / dpr };
  }

  paint() {
    const dpr = window.devicePixelRatio || 1;
    const size = this.size || { width: this.root.clientWidth, height: this.root.clientHeight };
    const width = Math.max(1, Math.round(size.width * dpr));
    const height = Math.max(1, Math.round(size.height * dpr));
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    const ctx = this.canvas.getContext('2d', { alpha: false });
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, width, height);
    const image = this.image;
    if (!image || this.displayedKey === undefined) {
      this.updateText();
      return;
    }
    const m = this.matrix();
    ctx.setTransform(m);
    ctx.imageSmoothingEnabled = this.view.zoom < 3;
    ctx.drawImage(this.imageCanvas, 0, 0);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    for (const measurement of this.measurements.get(image.key) || []) drawMeasurement(ctx, measurement, m, dpr, false);
    if (this.pending) drawMeasurement(ctx, this.pending, m, dpr, true);
    const annotations = this.app.annotations[image.instance.sopInstanceUID];
    if (annotations || this.annotationLayer.svg.childElementCount) {
      this.annotationLayer.draw(annotations, (x, y) => {
        const p = m.transformPoint(new DOMPoint(x, y));
        return { x: p.x / dpr, y: p.y / dpr };
      });
    }
    this.updateText();
  }

  updateText() {
    const d = this.image?.instance;
    // Text is written only when it changes: while scrolling, needless DOM writes cost layout time every frame.
    const set = (e, value) => {
      if (e.textContent !== value) e.textContent = value;
    };
    if (!d) {
      for (const mk of this.markers) set(mk, '');
      return;
    }
    set(this.corners[0], [this.app.studyFacts.patientName || d.patientName, d.studyDate, `${d.modality} ${d.seriesNumber ?? ''} ${d.seriesDescription}`]
      .filter((s) => s && s.trim())
      .join('\n'));
    const loaded = this.displayedKey === this.image.key;
    set(this.corners[1], `${t('image')} ${this.index + 1}/${this.images.length}${loaded ? '' : ' · ' + t('loading')}`);
    set(this.corners[2], isColor(d) ? '' : `W ${Math.round(this.view.width)} L ${Math.round(this.view.center)}`);
    set(this.corners[3], `${Math.round(this.view.zoom * 100)}%`);
    const o = d.orientation;
    if (o && o.length === 6) {
      const m = this.matrix();
      const inverse = new DOMMatrix([m.a, m.b, m.c, m.d, 0, 0]).inverse();
      const direction = (sx, sy) => {
        const p = inverse.transformPoint(new DOMPoint(sx, sy));
        return [0, 1, 2].map((k) => p.x * o[k] + p.y * o[k + 3]);
      };
      const toward = { right: direction(1, 0), left: direction(-1, 0), bottom: direction(0, 1), top: direction(0, -1) };
      for (const mk of this.markers) {
        const side = mk.classList[1];
        const v = toward[side];
        const n = Math.hypot(...v) || 1;
        set(mk, orientationLabel(v.map((x) => x / n)));
      }
    } else {
      for (const mk of this.markers) set(mk, '');
    }
  }

  applyPreset(id, repaint = true) {
    const d = this.image?.instance;
    if (!d || isColor(d)) return;
    const preset = PRESETS.find((p) => p.id === id);
    if (!preset) return;
    if (preset.center !== undefined) {
      this.view.center = preset.center;
      this.view.width = preset.width;
    } else if (id === 'file' && d.windowCenter !== undefined && d.windowWidth !== undefined) {
      this.view.center = d.windowCenter;
      this.view.width = d.windowWidth;
    } else if (this.samples) {
      const range = modalityRange(this.samples, d);
      this.view.width = Math.max(1, range.max - range.min + 1);
      this.view.center = range.min + this.view.width / 2;
    }
    this.view.windowSet = true;
    if (repaint) this.draw();
  }

  setWindow(center, width) {
    this.view.center = center;
    this.view.width = Math.max(1, width);
    this.view.windowSet = true;
    this.draw();
  }

  addMeasurement(kind, points) {
    const image = this.image;
    if (!image) return undefined;
    const m = { kind, points };
    m.result = evaluate(m, image.instance, this.displayedKey === image.key ? this.samples : undefined);
    if (!this.measurements.has(image.key)) this.measurements.set(image.key, []);
    this.measurements.get(image.key).push(m);
    this.paint();
    this.app.updateMeasurementList();
    return m;
  }

  attachPointer() {
    const c = this.canvas;
    c.addEventListener('contextmenu', (event) => event.preventDefault());
    c.addEventListener('pointerdown', (event) => {
      this.app.setActive(this);
      c.setPointerCapture(event.pointerId);
      const tool = event.button === 1 ? 'pan' : event.button === 2 ? 'zoom' : this.app.tool;
      const p = this.toImage(event.clientX, event.clientY);
      if (tool === 'angle' && this.pending && this.pending.kind === 'angle' && this.pending.points.length === 3) {
        this.drag = { tool, stage: 'third' };
        this.pending.points[2] = p;
        this.paint();
        return;
      }
      this.drag = { tool, x: event.clientX, y: event.clientY, start: p, view: { ...this.view } };
      if (['length', 'angle', 'rectangle', 'ellipse'].includes(tool)) {
        this.pending = { kind: tool, points: [p, { ...p }] };
      }
    });
    c.addEventListener('pointermove', (event) => {
      const drag = this.drag;
      const p = this.toImage(event.clientX, event.clientY);
      if (!drag) {
        if (this.pending && this.pending.kind === 'angle' && this.pending.points.length === 3) {
          this.pending.points[2] = p;
          this.paint();
        }
        return;
      }
      if (drag.stage === 'third') {
        this.pending.points[2] = p;
        this.paint();
        return;
      }
      const dx = event.clientX - drag.x;
      const dy = event.clientY - drag.y;
      if (drag.tool === 'window') {
        const d = this.image?.instance;
        if (!d || isColor(d)) return;
        const step = Math.max(1, drag.view.width / 256);
        this.view.width = Math.max(1, drag.view.width + dx * step);
        this.view.center = drag.view.center + dy * step;
        this.view.windowSet = true;
        this.draw();
      } else if (drag.tool === 'pan') {
        this.view.panX = drag.view.panX + dx;
        this.view.panY = drag.view.panY + dy;
        this.paint();
      } else if (drag.tool === 'zoom') {
        this.view.zoom = Math.max(0.1, Math.min(40, drag.view.zoom * Math.exp(-dy / 150)));
        this.paint();
      } else if (this.pending) {
        this.pending.points[1] = p;
        this.paint();
      }
    });
    const finish = (event) => {
      const drag = this.drag;
      this.drag = undefined;
      if (!drag || !this.pending) return;
      const p = this.toImage(event.clientX, event.clientY);
      if (drag.stage === 'third') {
        this.pending.points[2] = p;
        const done = this.pending;
        this.pending = undefined;
        this.addMeasurement('angle', done.points);
        return;
      }
      this.pending.points[1] = p;
      const [a, b] = this.pending.points;
      if (Math.hypot(a.x - b.x, a.y - b.y) < 0.5) {
        this.pending = undefined;
        this.paint();
        return;
      }
      if (this.pending.kind === 'angle') {
        this.pending.points.push({ ...p });
        this.paint();
        return;
      }
      const done = this.pending;
      this.pending = undefined;
      this.addMeasurement(done.kind, done.points);
    };
    c.addEventListener('pointerup', finish);
    c.addEventListener('pointercancel', () => {
      this.drag = undefined;
    });
    c.addEventListener(
      'wheel',
      (event) => {
        event.preventDefault();
        this.app.setActive(this);
        if (event.ctrlKey) {
          this.view.zoom = Math.max(0.1, Math.min(40, this.view.zoom * Math.exp(-event.deltaY / 500)));
          this.paint();
          return;
        }
        if (event.deltaY !== 0) this.show(this.index + Math.sign(event.deltaY));
      },
      { passive: false });
  }
}

class ViewerApp {
  constructor(root, studyUID, seriesUID, source = {}) {
    this.root = root;
    this.firstSeriesUID = seriesUID;
    // What the page tells of the study: its patient name as people read it in the interface's language.
    this.studyFacts = readJSON('viewer-study');
    // A teaching case (`source.base`): its de-identified images from the library, its key image first, its annotations.
    this.client = source.base ? new CaseClient(source.base, describeInstance, imagesOfSeries, HTTPFailure) : new StudyClient('/dicom-web', studyUID);
    this.firstImageUID = source.image || '';
    this.annotations = source.annotations || {};
    this.cache = new FrameCache(1536 * 1024 * 1024);
    this.prefetcher = new Prefetcher(this.client, this.cache, () => this.onFrameLoaded());
    this.prefetcher.sources = () => {
      const list = this.viewports.filter((v) => v.images.length > 0);
      list.sort((a, b) => (a === this.active ? -1 : b === this.active ? 1 : 0));
      return list.map((v) => ({ images: v.images, index: v.index }));
    };
    this.viewports = [];
    this.series = [];
    this.tool = 'window';
    this.layout = '1x1';
    this.framesRendered = 0;
    this.firstImageTime = undefined;
    this.cine = undefined;
    this.waitingForFirst = [];
    this.build();
  }

  build() {
    const toolButtons = TOOLS.map((tool) =>
      element('button', {
        type: 'button', class: 'tool', 'data-tool': tool.id, title: `${t(tool.label)} (${tool.key.toUpperCase()})`, text: t(tool.label),
        onclick: () => this.setTool(tool.id),
      }));
    this.presetSelect = element(
      'select', { class: 'preset', title: t('preset'), onchange: () => this.applyPreset(this.presetSelect.value) },
      [element('option', { value: '', text: t('preset') }), ...PRESETS.map((p) => element('option', { value: p.id, text: t(p.label) }))]);
    const layoutButtons = Object.keys(LAYOUTS).map((id) =>
      element('button', { type: 'button', class: 'layout', 'data-layout': id, text: id.replace('x', '×'), onclick: () => this.setLayout(id) }));
    const action = (label, key, f) => element('button', { type: 'button', class: 'action', title: `${t(label)} (${key})`, text: t(label), onclick: f });
    this.fpsInput = element('input', { type: 'number', class: 'fps', min: '1', max: '60', value: '', title: t('fps') });
    this.cineButton = element('button', { type: 'button', class: 'cine', text: `▶ ${t('cine')}`, onclick: () => this.toggleCine() });
    const toolbar = element('header', { class: 'toolbar' }, [
      element('span', { class: 'group' }, toolButtons),
      this.presetSelect,
      element('span', { class: 'group' }, [
        action('invert', 'I', () => this.withActive((v) => { v.view.invert = !v.view.invert; v.draw(); })),
        action('flipH', 'H', () => this.withActive((v) => { v.view.flipH = !v.view.flipH; v.paint(); })),
        action('flipV', 'V', () => this.withActive((v) => { v.view.flipV = !v.view.flipV; v.paint(); })),
        action('rotateLeft', '[', () => this.rotate(-1)),
        action('rotateRight', ']', () => this.rotate(1)),
        action('reset', 'X', () => this.withActive((v) => { v.resetView(); v.view.windowSet = false; v.draw(); })),
      ]),
      element('span', { class: 'group' }, [this.cineButton, this.fpsInput, element('span', { text: t('fps') })]),
      element('span', { class: 'group' }, [element('span', { text: t('layout') }), ...layoutButtons]),
    ]);
    this.seriesList = element('ul', { class: 'series-list' });
    this.measurementList = element('ul', { class: 'measurement-list' });
    this.grid = element('section', { class: 'grid' });
    this.status = element('footer', { class: 'status', text: t('help') });
    this.root.append(
      toolbar,
      element('main', {}, [
        element('aside', { class: 'series' }, [element('h2', { text: t('series') }), this.seriesList]),
        this.grid,
        element('aside', { class: 'measurements' }, [
          element('h2', { text: t('measurements') }), this.measurementList,
          element('button', { type: 'button', class: 'clear', text: t('clear'), onclick: () => this.clearMeasurements() }),
        ]),
      ]),
      this.status);
    document.addEventListener('keydown', (event) => this.onKey(event));
    this.setTool('window');
  }

  async start() {
    try {
      this.series = await this.client.seriesList();
    } catch (error) {
      this.fail(error);
      return;
    }
    if (this.series.length === 0) {
      this.fail(new HTTPFailure(404, ''));
      return;
    }
    // A series named in the address (`&series=UID`), or the series of a case's key image, goes to the first viewport.
    if (this.firstImageUID && this.client instanceof CaseClient) {
      const named = (await this.client.metadata()).map(describeInstance).find((d) => d.sopInstanceUID === this.firstImageUID);
      if (named) this.firstSeriesUID = named.seriesInstanceUID;
    }
    this.layoutOrder = [...this.series];
    const first = this.layoutOrder.findIndex((s) => s.uid === this.firstSeriesUID);
    if (first > 0) this.layoutOrder.unshift(...this.layoutOrder.splice(first, 1));
    for (const s of this.series) {
      const item = element('li', {}, [
        element('button', {
          type: 'button', 'data-series': s.uid,
          text: `${s.number ?? ''} ${s.modality} ${s.description}`.trim() + (s.count ? ` (${s.count} ${t('images')})` : ''),
          onclick: () => this.active && this.active.setSeries(s).catch((e) => this.fail(e)),
        }),
      ]);
      this.seriesList.append(item);
    }
    this.setLayout('1x1');
  }

  fail(error) {
    const status = error instanceof HTTPFailure ? error.status : 0;
    const message = status === 401 ? t('signIn') : status === 403 ? t('forbidden') : status === 404 ? t('notFound') : `${t('failed')}: ${error.message}`;
    this.status.textContent = message;
    this.status.classList.add('error');
  }

  setLayout(id) {
    const [rows, columns] = LAYOUTS[id] || LAYOUTS['1x1'];
    this.layout = id;
    const count = rows * columns;
    while (this.viewports.length > count) this.viewports.pop().root.remove();
    this.grid.style.gridTemplateRows = `repeat(${rows}, 1fr)`;
    this.grid.style.gridTemplateColumns = `repeat(${columns}, 1fr)`;
    while (this.viewports.length < count) {
      const v = new Viewport(this, this.viewports.length);
      this.viewports.push(v);
      this.grid.append(v.root);
      const order = this.layoutOrder || this.series;
      const s = order[(this.viewports.length - 1) % Math.max(1, order.length)];
      if (s) v.setSeries(s).catch((e) => this.fail(e));
    }
    if (!this.viewports.includes(this.active)) this.setActive(this.viewports[0]);
    for (const b of this.root.querySelectorAll('button.layout')) b.classList.toggle('selected', b.dataset.layout === id);
    for (const v of this.viewports) v.paint();
  }

  setActive(v) {
    if (this.active === v) return;
    this.active = v;
    for (const w of this.viewports) w.root.classList.toggle('active', w === v);
    this.updateMeasurementList();
  }

  withActive(f) {
    if (this.active) f(this.active);
  }

  setTool(id) {
    this.tool = id;
    for (const b of this.root.querySelectorAll('button.tool')) b.classList.toggle('selected', b.dataset.tool === id);
    this.withActive((v) => {
      v.pending = undefined;
      v.paint();
    });
  }

  applyPreset(id) {
    if (id) this.withActive((v) => v.applyPreset(id));
    this.presetSelect.value = '';
  }

  rotate(step) {
    this.withActive((v) => {
      v.view.rotation = (v.view.rotation + step + 4) % 4;
      v.paint();
    });
  }

  toggleCine() {
    if (this.cine) {
      cancelAnimationFrame(this.cine.frame);
      this.cine = undefined;
      this.cineButton.classList.remove('selected');
      return;
    }
    const v = this.active;
    if (!v || v.images.length < 2) return;
    const fps = Number(this.fpsInput.value) || v.cineRate || 10;
    this.fpsInput.value = String(Math.round(fps));
    const cine = { last: performance.now(), frame: 0 };
    const tick = (now) => {
      const rate = Number(this.fpsInput.value) || fps;
      if (now - cine.last >= 1000 / rate) {
        cine.last = now;
        v.show((v.index + 1) % v.images.length);
      }
      cine.frame = requestAnimationFrame(tick);
    };
    cine.frame = requestAnimationFrame(tick);
    this.cine = cine;
    this.cineButton.classList.add('selected');
  }

  clearMeasurements() {
    this.withActive((v) => {
      if (v.image) v.measurements.delete(v.image.key);
      v.paint();
    });
    this.updateMeasurementList();
  }

  updateMeasurementList() {
    const v = this.active;
    const list = v && v.image ? v.measurements.get(v.image.key) || [] : [];
    if (list.length === 0 && this.measurementListEmpty) return;
    this.measurementListEmpty = list.length === 0;
    this.measurementList.replaceChildren(
      ...(list.length === 0
        ? [element('li', { class: 'empty', text: t('noMeasurements') })]
        : list.map((m) => {
            const li = element('li', { class: 'measurement', text: describe(m) });
            for (const [k, value] of Object.entries(dataAttributes(m))) li.dataset[k] = String(value);
            return li;
          })));
  }

  onFrameLoaded() {
    if (this.prefetcher.complete()) {
      const waiting = this.prefetchWaiters || [];
      this.prefetchWaiters = [];
      for (const resolve of waiting) resolve();
    }
  }

  firstImage() {
    if (this.firstImageTime !== undefined) return;
    performance.mark('atrium-first-image');
    this.firstImageTime = performance.now();
    for (const resolve of this.waitingForFirst) resolve(this.firstImageTime);
    this.waitingForFirst = [];
  }

  onKey(event) {
    if (event.target instanceof HTMLInputElement && event.target.type !== 'range') return;
    if (event.target instanceof HTMLSelectElement) return;
    const v = this.active;
    if (!v) return;
    const key = event.key;
    const steps = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1, PageDown: 10, PageUp: -10 };
    if (key in steps) v.show(v.index + steps[key]);
    else if (key === 'Home') v.show(0);
    else if (key === 'End') v.show(v.images.length - 1);
    else if (key === ' ') this.toggleCine();
    else if (key === 'Escape') {
      v.pending = undefined;
      v.paint();
    } else if (key === 'Delete' || key === 'Backspace') {
      const list = v.image && v.measurements.get(v.image.key);
      if (list && list.length) list.pop();
      v.paint();
      this.updateMeasurementList();
    } else if (/^[1-7]$/.test(key)) v.applyPreset(PRESETS[Number(key) - 1].id);
    else {
      const lower = key.toLowerCase();
      const tool = TOOLS.find((x) => x.key === lower);
      if (tool) this.setTool(tool.id);
      else if (lower === 'i') {
        v.view.invert = !v.view.invert;
        v.draw();
      } else if (lower === 'h') {
        v.view.flipH = !v.view.flipH;
        v.paint();
      } else if (lower === 'v') {
        v.view.flipV = !v.view.flipV;
        v.paint();
      } else if (key === '[') this.rotate(-1);
      else if (key === ']') this.rotate(1);
      else if (lower === 'x') {
        v.resetView();
        v.view.windowSet = false;
        v.draw();
      } else return;
    }
    event.preventDefault();
  }
}

// The interface tests and benchmarks use; it reads state and triggers what a person could do with mouse and keys.
function exposeAPI(app) {
  const viewport = (i) => (i === undefined ? app.active : app.viewports[i]);
  window.atriumViewer = {
    firstImage: () =>
      app.firstImageTime !== undefined ? Promise.resolve(app.firstImageTime) : new Promise((r) => app.waitingForFirst.push(r)),
    prefetched: () => (app.prefetcher.complete() ? Promise.resolve() : new Promise((r) => (app.prefetchWaiters = [...(app.prefetchWaiters || []), r]))),
    state: () => ({
      layout: app.layout,
      tool: app.tool,
      framesRendered: app.framesRendered,
      firstImageMs: app.firstImageTime,
      active: app.viewports.indexOf(app.active),
      cachedFrames: app.cache.frames.size,
      viewports: app.viewports.map((v) => ({
        series: v.series?.uid,
        index: v.index,
        count: v.images.length,
        sopInstanceUID: v.image?.instance.sopInstanceUID,
        frame: v.image?.frame,
        displayed: v.displayedKey === v.image?.key,
        center: v.view.center,
        width: v.view.width,
        invert: v.view.invert,
        zoom: v.view.zoom,
        rotation: v.view.rotation,
        flipH: v.view.flipH,
        flipV: v.view.flipV,
        markers: Object.fromEntries(v.markers.map((m) => [m.classList[1], m.textContent])),
      })),
    }),
    setIndex: (i, slot) => viewport(slot).show(i),
    setWindow: (center, width, slot) => viewport(slot).setWindow(center, width),
    setPreset: (id, slot) => viewport(slot).applyPreset(id),
    setTool: (id) => app.setTool(id),
    setLayout: (id) => app.setLayout(id),
    setActive: (slot) => app.setActive(app.viewports[slot]),
    addMeasurement: (kind, points, slot) => dataAttributes(viewport(slot).addMeasurement(kind, points.map(([x, y]) => ({ x, y })))),
    toClient: (x, y, slot) => viewport(slot).toClient(x, y),
    annotations: () => app.annotations,
    // The rendered frame at image resolution (before zoom and pan), as base64 RGBA.
    imagePixels: (slot) => {
      const v = viewport(slot);
      const data = v.imageContext.getImageData(0, 0, v.imageCanvas.width, v.imageCanvas.height);
      let binary = '';
      for (let i = 0; i < data.data.length; i += 0x8000) binary += String.fromCharCode(...data.data.subarray(i, i + 0x8000));
      return { width: data.width, height: data.height, rgba: btoa(binary) };
    },
    // Scrolls the active viewport one image per animation frame for `frames` frames; resolves with the rate.
    scrollBenchmark: (frames) =>
      new Promise((resolve) => {
        const v = app.active;
        let painted = 0;
        let start;
        const step = (now) => {
          if (start === undefined) start = now;
          else painted++;
          if (painted >= frames) {
            const seconds = (now - start) / 1000;
            resolve({ frames: painted, seconds, fps: painted / seconds, rendered: app.framesRendered });
            return;
          }
          v.show((v.index + 1) % v.images.length);
          requestAnimationFrame(step);
        };
        requestAnimationFrame(step);
      }),
  };
}

function readJSON(id) {
  try {
    return JSON.parse(document.getElementById(id)?.textContent || '{}');
  } catch {
    return {};
  }
}

const root = document.getElementById('viewer-app');
document.title = `Atrium · ${t('title')}`;
const parameters = new URLSearchParams(location.search);
const study = parameters.get('study');
const source = readJSON('viewer-source');
if (!root) {
  console.error('viewer: no #viewer-app element');
} else if (source.base) {
  const app = new ViewerApp(root, '', null, source);
  exposeAPI(app);
  app.start();
} else if (!study) {
  root.append(element('p', { class: 'status error', text: t('noStudy') }));
} else {
  const app = new ViewerApp(root, study, parameters.get('series'));
  exposeAPI(app);
  app.start();
}
