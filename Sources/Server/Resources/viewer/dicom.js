// DICOMweb access for the viewer: QIDO-RS series lists, WADO-RS metadata (DICOM JSON, PS3.18 F.2) and frames as
// native little-endian pixels, with a frame cache and a prefetch queue.

export const NATIVE_FRAME_ACCEPT =
  'multipart/related; type="application/octet-stream"; transfer-syntax=1.2.840.10008.1.2.1';

// Transfer syntaxes whose frames WADO-RS returns as stored, without decoding (PS3.5 A.1, A.2, A.3, A.5).
const NATIVE_SYNTAXES = new Set([
  '1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99',
]);

export function values(ds, tag) {
  const e = ds && ds[tag];
  return e && Array.isArray(e.Value) ? e.Value : undefined;
}

export function number(ds, tag, index = 0) {
  const v = values(ds, tag);
  if (!v || v.length <= index) return undefined;
  const n = Number(v[index]);
  return Number.isFinite(n) ? n : undefined;
}

export function numbers(ds, tag) {
  const v = values(ds, tag);
  if (!v) return undefined;
  const out = v.map(Number);
  return out.every(Number.isFinite) ? out : undefined;
}

export function text(ds, tag) {
  const v = values(ds, tag);
  if (!v || v.length === 0) return '';
  const first = v[0];
  // A Person Name (PS3.18 F.2.2): the page normally gives the name as people read it; this is the fallback, its
  // components spaced instead of joined by '^'.
  if (first && typeof first === 'object') {
    const chinese = (document.documentElement.lang || '').startsWith('zh');
    const groups = chinese ? [first.Ideographic, first.Phonetic, first.Alphabetic] : [first.Alphabetic, first.Ideographic, first.Phonetic];
    return (groups.find((g) => g && g.replace(/\^/g, '').trim()) || '').split('^').filter((c) => c.trim()).join(' ');
  }
  return String(first).trim();
}

export class HTTPFailure extends Error {
  constructor(status, url) {
    super(`HTTP ${status} for ${url}`);
    this.status = status;
  }
}

async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: 'application/dicom+json' }, credentials: 'same-origin' });
  if (!response.ok) throw new HTTPFailure(response.status, url);
  const body = await response.text();
  return body.trim() === '' ? [] : JSON.parse(body);
}

// The Image Pixel Module and the attributes the viewer needs, read once from an instance's metadata.
export function describeInstance(ds) {
  const photometric = (text(ds, '00280004') || 'MONOCHROME2').toUpperCase();
  const transferSyntax = text(ds, '00083002');
  const bitsAllocated = number(ds, '00280100') || 16;
  const bitsStored = number(ds, '00280101') || bitsAllocated;
  const spacing = numbers(ds, '00280030') || numbers(ds, '00181164');
  return {
    sopInstanceUID: text(ds, '00080018'),
    seriesInstanceUID: text(ds, '0020000E'),
    studyInstanceUID: text(ds, '0020000D'),
    instanceNumber: number(ds, '00200013'),
    rows: number(ds, '00280010') || 0,
    columns: number(ds, '00280011') || 0,
    samplesPerPixel: number(ds, '00280002') || 1,
    bitsAllocated,
    bitsStored,
    highBit: number(ds, '00280102') ?? bitsStored - 1,
    signed: number(ds, '00280103') === 1,
    planarConfiguration: number(ds, '00280006') || 0,
    photometric,
    numberOfFrames: Math.max(1, number(ds, '00280008') || 1),
    // Frames of compressed instances arrive decoded by the server: interleaved, YBR already converted to RGB.
    decodedByServer: transferSyntax !== '' && !NATIVE_SYNTAXES.has(transferSyntax),
    slope: number(ds, '00281053') ?? 1,
    intercept: number(ds, '00281052') ?? 0,
    rescaleType: text(ds, '00281054'),
    windowCenter: number(ds, '00281050'),
    windowWidth: number(ds, '00281051'),
    pixelSpacing: spacing && spacing.length >= 2 && spacing[0] > 0 && spacing[1] > 0 ? spacing : undefined,
    orientation: numbers(ds, '00200037'),
    position: numbers(ds, '00200032'),
    frameTime: number(ds, '00181063'),
    cineRate: number(ds, '00180040'),
    modality: text(ds, '00080060'),
    seriesDescription: text(ds, '0008103E'),
    seriesNumber: number(ds, '00200011'),
    patientName: text(ds, '00100010'),
    studyDate: text(ds, '00080020'),
  };
}

function cross(a, b) {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

// Orders instances along the slice normal when every one has a position and orientation, else by Instance Number;
// a multi-frame instance contributes one image per frame.
export function imagesOfSeries(instances) {
  const list = instances.map(describeInstance).filter((d) => d.rows > 0 && d.columns > 0);
  const located = list.every((d) => d.position && d.position.length === 3 && d.orientation && d.orientation.length === 6);
  if (located && list.length > 1) {
    const normal = cross(list[0].orientation.slice(0, 3), list[0].orientation.slice(3, 6));
    const depth = (d) => d.position[0] * normal[0] + d.position[1] * normal[1] + d.position[2] * normal[2];
    list.sort((a, b) => depth(a) - depth(b) || (a.instanceNumber ?? 0) - (b.instanceNumber ?? 0));
  } else {
    list.sort((a, b) => (a.instanceNumber ?? 0) - (b.instanceNumber ?? 0));
  }
  const images = [];
  for (const d of list) {
    for (let f = 1; f <= d.numberOfFrames; f++) images.push({ instance: d, frame: f, key: `${d.sopInstanceUID}#${f}` });
  }
  return images;
}

export class StudyClient {
  constructor(base, studyUID) {
    this.base = base;
    this.studyUID = studyUID;
  }

  seriesURL(seriesUID) {
    return `${this.base}/studies/${encodeURIComponent(this.studyUID)}/series/${encodeURIComponent(seriesUID)}`;
  }

  async seriesList() {
    const list = await getJSON(`${this.base}/studies/${encodeURIComponent(this.studyUID)}/series`);
    return list
      .map((s) => ({
        uid: text(s, '0020000E'),
        modality: text(s, '00080060'),
        description: text(s, '0008103E'),
        number: number(s, '00200011'),
        count: number(s, '00201209'),
      }))
      .filter((s) => s.uid)
      .sort((a, b) => (a.number ?? 0) - (b.number ?? 0));
  }

  async seriesImages(seriesUID) {
    return imagesOfSeries(await getJSON(`${this.seriesURL(seriesUID)}/metadata`));
  }

  async frameBytes(image) {
    const d = image.instance;
    const url = `${this.seriesURL(d.seriesInstanceUID)}/instances/${encodeURIComponent(d.sopInstanceUID)}/frames/${image.frame}`;
    const response = await fetch(url, { headers: { Accept: NATIVE_FRAME_ACCEPT }, credentials: 'same-origin' });
    if (!response.ok) throw new HTTPFailure(response.status, url);
    const type = response.headers.get('content-type') || '';
    const body = new Uint8Array(await response.arrayBuffer());
    const boundary = /boundary="?([^";]+)"?/i.exec(type);
    if (!type.toLowerCase().startsWith('multipart/') || !boundary) return body.slice().buffer;
    return firstPart(body, boundary[1]).slice().buffer;
  }
}

function indexOf(haystack, needle, from) {
  outer: for (let i = from; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function lastIndexOf(haystack, needle) {
  outer: for (let i = haystack.length - needle.length; i >= 0; i--) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

// The body of the single part of a multipart/related response (RFC 2046 5.1): after the part's header block,
// up to the CRLF before the closing delimiter.
function firstPart(body, boundary) {
  const encoder = new TextEncoder();
  const start = indexOf(body, encoder.encode('\r\n\r\n'), 0);
  const end = lastIndexOf(body, encoder.encode(`\r\n--${boundary}`));
  if (start < 0 || end < start + 4) throw new Error('malformed multipart response');
  return body.subarray(start + 4, end);
}

// Frames by key, least recently used dropped first once the byte budget is exceeded.
export class FrameCache {
  constructor(budgetBytes) {
    this.budgetBytes = budgetBytes;
    this.bytes = 0;
    this.frames = new Map();
  }

  get(key) {
    const v = this.frames.get(key);
    if (v) {
      this.frames.delete(key);
      this.frames.set(key, v);
    }
    return v;
  }

  has(key) {
    return this.frames.has(key);
  }

  set(key, value) {
    if (this.frames.has(key)) return;
    this.frames.set(key, value);
    this.bytes += value.byteLength;
    while (this.bytes > this.budgetBytes && this.frames.size > 1) {
      const [oldest, v] = this.frames.entries().next().value;
      this.frames.delete(oldest);
      this.bytes -= v.byteLength;
    }
  }
}

// Loads frames with a few requests in flight, the ones nearest each viewport's current image first.
export class Prefetcher {
  constructor(client, cache, onFrame, concurrency = 6) {
    this.client = client;
    this.cache = cache;
    this.onFrame = onFrame;
    this.concurrency = concurrency;
    this.inFlight = new Set();
    this.failed = new Set();
    this.sources = () => [];
    this.waiters = new Map();
  }

  // Resolves with the frame's bytes, loading it first (ahead of the queue) when needed.
  async frame(image) {
    const cached = this.cache.get(image.key);
    if (cached) return cached;
    if (!this.waiters.has(image.key)) this.waiters.set(image.key, []);
    const promise = new Promise((resolve, reject) => this.waiters.get(image.key).push({ resolve, reject }));
    this.load(image);
    return promise;
  }

  nextWanted() {
    // Near the cache's budget only the neighbourhood of each shown image is loaded, so that prefetching never
    // evicts what it has just fetched.
    const full = this.cache.bytes > 0.9 * this.cache.budgetBytes;
    for (const { images, index } of this.sources()) {
      const reach = full ? Math.min(images.length, 16) : images.length;
      for (let distance = 0; distance < reach; distance++) {
        for (const i of [index + distance, index - distance]) {
          if (i < 0 || i >= images.length) continue;
          const key = images[i].key;
          if (!this.cache.has(key) && !this.inFlight.has(key) && !this.failed.has(key)) return images[i];
        }
      }
    }
    return undefined;
  }

  pump() {
    while (this.inFlight.size < this.concurrency) {
      const next = this.nextWanted();
      if (!next) break;
      this.load(next);
    }
  }

  load(image) {
    if (this.inFlight.has(image.key)) return;
    this.inFlight.add(image.key);
    this.client
      .frameBytes(image)
      .then((buffer) => {
        this.cache.set(image.key, buffer);
        for (const w of this.waiters.get(image.key) || []) w.resolve(buffer);
        this.onFrame(image);
      })
      .catch((error) => {
        this.failed.add(image.key);
        for (const w of this.waiters.get(image.key) || []) w.reject(error);
      })
      .finally(() => {
        this.waiters.delete(image.key);
        this.inFlight.delete(image.key);
        this.pump();
      });
  }

  // Whether every image of every source is cached.
  complete() {
    const sources = this.sources();
    return sources.length > 0 && sources.every(({ images }) => images.every((im) => this.cache.has(im.key) || this.failed.has(im.key)));
  }
}
