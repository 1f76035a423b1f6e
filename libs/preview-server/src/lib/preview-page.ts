import { LABEL_FONT_FAMILY, REGION_SHADE } from '@iev/frame-annotation';
import { MAX_VIEWER_FPS, MIN_VIEWER_FPS } from './mjpeg-streams';

/**
 * The preview page: plain HTML with a little script, no framework and no build step. Each source is a <canvas> fed by
 * the one /live.mjpeg stream of every source (a browser opens at most six connections to a host: a stream per source
 * would leave a sixth camera undrawn and the figures unpolled), read with fetch: every part, named by its `x-source`, is a plain JPEG with the plan of its outlines and labels in an
 * `x-picture` header, which the page draws over it (the browser's fonts and drawing, so the edge device only encodes
 * the frame). The figures and the modules' health are polled from /api/sources every second, and beside each picture
 * the lines read from /api/sources/<id>/reads, newest first (their thumbnails at URLs the browser keeps a day).
 */
export const PREVIEW_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>iot-edge-vision preview</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 1rem; background: #111; color: #eee; }
  h1 { font-size: 1.2rem; }
  #modules span { display: inline-block; margin-right: 1rem; padding: 0.2rem 0.5rem; border-radius: 4px; }
  .up { background: #1b5e20; } .down { background: #b71c1c; } .unhealthy { background: #e65100; } .unknown { background: #555; }
  .source { display: inline-block; vertical-align: top; margin: 0 1rem 1rem 0; }
  .source canvas { display: block; max-width: 100%; background: #000; }
  .source a { color: #8ab4f8; margin-right: 1rem; }
  .waiting { padding: 4rem 2rem; background: #222; color: #aaa; }
  .figures { color: #ccc; }
  .stalled canvas { opacity: 0.4; }
  .stall { color: #ff8a80; }
  .source canvas[hidden] { display: none; }
  .view { display: flex; gap: 0.5rem; align-items: flex-start; }
  .reads { list-style: none; margin: 0; padding: 0; width: 14rem; max-height: 480px; overflow-y: auto; font-size: 13px; }
  .reads:empty { display: none; }
  .reads li { padding: 0.25rem 0; border-bottom: 1px solid #333; }
  .reads img { display: block; max-width: 100%; max-height: 48px; margin-bottom: 0.2rem; }
  .reads img[hidden] { display: none; }
  .reads .age { color: #999; margin-left: 0.5rem; }
  .reads .earlier-run { opacity: 0.6; }
</style>
</head>
<body>
<h1>iot-edge-vision preview</h1>
<div id="modules"></div>
<div id="sources"></div>
<script>
const cards = new Map();
function card(source) {
  let entry = cards.get(source.sourceId);
  if (!entry) {
    const root = document.createElement('div');
    root.className = 'source';
    root.dataset.source = source.sourceId;
    const title = document.createElement('h2');
    title.textContent = source.sourceId;
    const waiting = document.createElement('div');
    waiting.className = 'waiting';
    waiting.textContent = 'waiting for ' + source.sourceId;
    const canvas = document.createElement('canvas');
    canvas.hidden = true;
    const stall = document.createElement('div');
    stall.className = 'stall';
    const figures = document.createElement('div');
    figures.className = 'figures';
    const reads = document.createElement('ol');
    reads.className = 'reads';
    const view = document.createElement('div');
    view.className = 'view';
    view.append(waiting, canvas, reads);
    const base = '/sources/' + encodeURIComponent(source.sourceId);
    const links = document.createElement('div');
    links.innerHTML = '<a href="' + base + '/latest.jpg">latest.jpg</a><a href="' + base + '/stream.mjpeg">annotated MJPEG</a>' +
      '<a href="/api/sources/' + encodeURIComponent(source.sourceId) + '/reads">reads (JSON)</a>';
    root.append(title, view, stall, figures, links);
    document.getElementById('sources').append(root);
    entry = { root, waiting, canvas, stall, figures, reads };
    cards.set(source.sourceId, entry);
  }
  return entry;
}
/** The parts of a multipart stream, each as its headers (lower-case names), body, and size with its headers. */
async function* parts(reader) {
  let buffered = new Uint8Array(0);
  const more = async () => {
    const { value, done } = await reader.read();
    if (done) throw new Error('the stream ended');
    const joined = new Uint8Array(buffered.length + value.length);
    joined.set(buffered);
    joined.set(value, buffered.length);
    buffered = joined;
  };
  const blankLine = () => {
    for (let i = 0; i + 3 < buffered.length; i++) if (buffered[i] === 13 && buffered[i + 1] === 10 && buffered[i + 2] === 13 && buffered[i + 3] === 10) return i;
    return -1;
  };
  for (;;) {
    let end;
    while ((end = blankLine()) < 0) await more();
    const headers = {};
    for (const line of new TextDecoder().decode(buffered.subarray(0, end)).split('\\r\\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length']);
    while (buffered.length < end + 4 + length) await more();
    yield { headers, body: buffered.slice(end + 4, end + 4 + length), size: end + 4 + length };
    buffered = buffered.subarray(end + 4 + length);
  }
}
/**
 * The camera's ignore regions, shaded under the boxes: whatever text lies inside is neither read nor published. As
 * the preview shades them in the JPEGs it draws (REGION_SHADE).
 */
function shadeRegions(context, regions) {
  for (const points of regions) {
    context.beginPath();
    points.forEach(([x, y], i) => (i === 0 ? context.moveTo(x, y) : context.lineTo(x, y)));
    context.closePath();
    context.fillStyle = '${REGION_SHADE.fill}';
    context.fill('evenodd');
    context.strokeStyle = '${REGION_SHADE.stroke}';
    context.lineWidth = ${REGION_SHADE.lineWidth};
    context.stroke();
  }
}
function drawOverlay(context, overlay) {
  context.lineJoin = 'round';
  for (const outline of overlay.outlines) {
    context.beginPath();
    outline.points.forEach(([x, y], i) => (i === 0 ? context.moveTo(x, y) : context.lineTo(x, y)));
    context.closePath();
    context.strokeStyle = outline.colour;
    context.lineWidth = outline.lineWidth;
    context.setLineDash(outline.dash || []);
    context.stroke();
  }
  context.setLineDash([]);
  context.font = overlay.fontSize + 'px ${LABEL_FONT_FAMILY}';
  for (const label of overlay.labels) {
    context.textAlign = label.anchor === 'end' ? 'right' : 'left';
    context.lineWidth = label.haloWidth;
    context.strokeStyle = 'black';
    context.strokeText(label.text, label.x, label.y);
    context.fillStyle = label.colour;
    context.fillText(label.text, label.x, label.y);
  }
}
/**
 * A link slower than the stream queues its pictures in TCP's buffers, megabytes of them, before the preview could see
 * it; the page sees it. Each part's x-sent-at is the preview's clock when it was sent, so (arrival - sent) is the
 * link's delay plus the clocks' offset: its smallest on a connection is the baseline (a round trip, however long, is
 * in it), and its growth is pictures queued. Only the first part of a send-time group is judged: parts sent together
 * (every camera's newest when a stream opens, cameras paced in step) wait behind each other for their own transfer,
 * which is no queue. A queue past QUEUED_LIMIT_MS that stands for STANDING_MS of arrivals, not falling by a quarter of
 * that meanwhile, makes the page reopen the stream (the backlog goes with the connection) asking for 80% of the bytes a
 * second its last parts carried, at most 80% of what it asked before, shared by its cameras (ratesFor). A page that
 * was not running (a busy machine, a background tab, a GC pause: a timer gap over PAGE_STALL_MS) restarts both, as the
 * parts then come in a burst whose delay shrinks by itself and whose arrival times tell nothing of the link (the
 * burst's bytes came during the gap: the rate after it reads high for a moment, corrected by the next reopen, where
 * counting the gap would read a fast link as slow). After raiseAfterMs
 * below CALM_MS it asks for twice the bytes, and for every picture once that is at least what every picture the preview
 * takes of each source needs. The queue is the connection's, which all cameras share (a browser opens at most six to
 * a host), so the page paces the bytes and shares them out, rather than each camera judging a queue the others fill
 * too. A lowering within RAISE_CARRIED_MS of a raise doubles the wait before the next one (up to MAX_RAISE_AFTER_MS),
 * so the page settles on a slow link.
 */
const QUEUED_LIMIT_MS = 1500;
const STANDING_MS = 1000;
const CALM_MS = 500;
const SAME_SEND_MS = 50;
const PAGE_STALL_MS = 1000;
const [RAISE_AFTER_MS, MAX_RAISE_AFTER_MS, RAISE_CARRIED_MS] = [10000, 80000, 30000];
const [MIN_VIEWER_FPS, MAX_VIEWER_FPS] = [${MIN_VIEWER_FPS}, ${MAX_VIEWER_FPS}];
/** Bytes a second the page asks the preview for, shared by its cameras (ratesFor); undefined: every picture. */
let budget;
let raiseAfterMs = RAISE_AFTER_MS;
/** When budget was raised, while it is a raise (the link may not carry it); undefined otherwise. */
let raisedAt;
/** Each source's recent part size (bytes, headers too): what a picture of it costs the link. */
const pictureBytes = new Map();
/** The most frames a second the preview takes of each source (from its figures): no use asking for more. */
const takenFps = new Map();
const taken = (sourceId) => takenFps.get(sourceId) ?? MAX_VIEWER_FPS;
/**
 * Each source's pictures a second out of \`bytesPerSecond\` (a source missing: every picture): an equal share of the
 * bytes each, so a small camera shows more pictures of its share than a large one of its own, where one rate for all
 * would hold the small camera to the large one's pace. A source whose share is more than every picture the preview
 * takes of it needs gets every picture and leaves the rest to the others; one whose share is less than MIN_VIEWER_FPS
 * needs gets that, taken from the others.
 */
function ratesFor(bytesPerSecond) {
  const rates = new Map();
  if (bytesPerSecond === undefined) return rates;
  let sharing = [...pictureBytes.keys()];
  let left = bytesPerSecond;
  while (sharing.length > 0) {
    const share = left / sharing.length;
    const bounded = sharing.filter((sourceId) => share / pictureBytes.get(sourceId) >= taken(sourceId) || share / pictureBytes.get(sourceId) <= MIN_VIEWER_FPS);
    for (const sourceId of bounded.length > 0 ? bounded : sharing) {
      const fps = Math.max(MIN_VIEWER_FPS, Math.min(taken(sourceId), share / pictureBytes.get(sourceId)));
      if (fps < taken(sourceId)) rates.set(sourceId, fps);
      left -= fps * pictureBytes.get(sourceId);
    }
    sharing = bounded.length > 0 ? sharing.filter((sourceId) => !bounded.includes(sourceId)) : [];
  }
  return rates;
}
/**
 * The stream's query for \`rates\`: while any source is paced, every source the page knows as fps.<source id> (at its
 * rate, or every picture), and fps= the lowest rate for a camera that appears meanwhile, whose
 * picture size the page does not know yet: unnamed, it would be sent every picture until the page next reopens.
 */
function streamRates(rates) {
  if (rates.size === 0) return [];
  // Every picture as the most a viewer may ask: the preview's own figure of what it takes may lag behind it.
  const named = [...pictureBytes.keys()].map((sourceId) => ['fps.' + sourceId, (rates.get(sourceId) ?? MAX_VIEWER_FPS).toFixed(2)]);
  return [...named, ['fps', Math.min(...rates.values()).toFixed(2)]];
}
/** The bytes a second \`rates\` ask for: a source sent every picture at the rate the preview takes it. */
function askedBytes(rates) {
  return [...pictureBytes].reduce((sum, [sourceId, bytes]) => sum + (rates.get(sourceId) ?? taken(sourceId)) * bytes, 0);
}
/** Takes the bytes a second a connection's pictures asked for: the next connection asks for them. */
function changeBudget(bytesPerSecond) {
  const now = performance.now();
  const lowered = bytesPerSecond !== undefined && (budget === undefined || bytesPerSecond < budget);
  // A raise lowered within RAISE_CARRIED_MS was one the link did not carry; one kept longer, or raised on, was.
  if (raisedAt !== undefined) raiseAfterMs = lowered && now - raisedAt < RAISE_CARRIED_MS ? Math.min(2 * raiseAfterMs, MAX_RAISE_AFTER_MS) : RAISE_AFTER_MS;
  raisedAt = lowered ? undefined : now;
  budget = bytesPerSecond;
}
/** When the page last ran (performance.now()), and when it last came back from not running. */
let lastRanAt = performance.now();
let resumedAt = -Infinity;
function pageRunning() {
  const now = performance.now();
  if (now - lastRanAt > PAGE_STALL_MS) resumedAt = now;
  lastRanAt = now;
  return now;
}
setInterval(pageRunning, 100);
/**
 * One connection's pictures, asked for at askedRates: the baseline delay, the last parts' arrivals and sizes since the
 * page last resumed, since when the queue is past the limit, and since when the delay has been low.
 */
function linkPace(askedBudget, askedRates) {
  let baselineMs = Infinity;
  let calmSince = performance.now();
  let groupSentAt = -Infinity;
  const recent = [];
  /** The first judged part past the limit: its arrival and queue. */
  let over;
  return {
    /** The budget the stream should have (askedBudget while it should stay): a part of \`bytes\` sent at \`sentAt\` came. */
    picture(sentAt, bytes) {
      const now = pageRunning();
      if (recent.length > 0 && recent[recent.length - 1].now < resumedAt) [recent.length, over] = [0, undefined];
      recent.push({ now, bytes });
      if (recent.length > 8) recent.shift();
      baselineMs = Math.min(baselineMs, now - sentAt);
      if (sentAt - groupSentAt < SAME_SEND_MS) return askedBudget;
      groupSentAt = sentAt;
      const queuedMs = now - sentAt - baselineMs;
      if (queuedMs <= QUEUED_LIMIT_MS) over = undefined;
      else if (!over) over = { since: now, queuedMs };
      else if (now - over.since >= STANDING_MS && queuedMs > over.queuedMs - STANDING_MS / 4) {
        // The link was full: its rate is what came between the first of the recent parts and the last.
        const bytesPerSecond = recent.slice(1).reduce((sum, part) => sum + part.bytes, 0) / ((now - recent[0].now) / 1000);
        // 80% of it, for the queue to drain; and less than now, which the link did not carry, whatever the figures say.
        return 0.8 * Math.min(bytesPerSecond, askedBytes(askedRates), askedBudget ?? Infinity);
      }
      if (queuedMs > CALM_MS) calmSince = now;
      if (askedBudget !== undefined && now - calmSince > raiseAfterMs) {
        const raised = 2 * askedBytes(askedRates);
        return raised >= askedBytes(new Map()) ? undefined : raised;
      }
      return askedBudget;
    },
  };
}
/**
 * Each source's ignore regions as the stream last sent them: a part carries them only when this connection has not
 * had them as they are (its first of the source, and the first after they change), so they are kept for the parts
 * without. Taken for a source the page does not list yet, and kept for one that leaves it: the connection sends them
 * again only once they change.
 */
const shownRegions = new Map();
/**
 * The newest part of each source the page does not list yet, drawn once it does: the stream may send a source's
 * picture before the first poll lists it, and a camera whose frames have stopped sends no other.
 */
const unlisted = new Map();
/**
 * Numbers the stream's parts as they come, which is newest last for each source. A picture is decoded before it is
 * drawn, and decodings may end out of order (a held picture, large, decoded while a newer small one came): the number,
 * not the frame's sequence, says which is newer, as a restarted capture numbers its frames from 0 again and a stopped
 * camera's picture comes again, the same frame, when its regions change.
 */
let partsCome = 0;
/** The number of the part each canvas shows. */
const shownPart = new WeakMap();
/** Draws a part of the stream on its source's canvas, with the overlay of its x-picture. */
async function draw(sourceId, headers, body) {
  const picture = { part: ++partsCome, ...JSON.parse(decodeURIComponent(headers['x-picture'])) };
  if (picture.regions) shownRegions.set(sourceId, picture.regions);
  const entry = cards.get(sourceId);
  if (entry) await paint(entry.canvas, sourceId, picture, body);
  else unlisted.set(sourceId, { picture, body });
}
async function paint(canvas, sourceId, picture, body) {
  const bitmap = await createImageBitmap(new Blob([body], { type: 'image/jpeg' }));
  if (picture.part < (shownPart.get(canvas) ?? 0)) return bitmap.close();
  shownPart.set(canvas, picture.part);
  const context = canvas.getContext('2d');
  const regions = shownRegions.get(sourceId) ?? [];
  if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) [canvas.width, canvas.height] = [bitmap.width, bitmap.height];
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  shadeRegions(context, regions);
  drawOverlay(context, picture.overlay);
  canvas.dataset.regions = regions.length;
  canvas.dataset.sequence = picture.sequence;
  canvas.dataset.paired = picture.paired;
}
/** The live stream's request: poll() aborts it when the preview stops answering, so that it reconnects. */
let streaming = new AbortController();
/** Whether the live stream is open, and when its last picture came: a slow poll beside a stream still delivering is no outage. */
let streamOpen = false;
let lastPictureAt = 0;
/** Each source's pictures a second the open stream asked for (a source missing: every picture), for its figures. */
let viewerRates = new Map();
/** Draws each picture of the stream on its source's canvas as it comes; reconnects after a second when the stream breaks. */
async function watch(path) {
  for (;;) {
    const [askedBudget, askedRates] = [budget, ratesFor(budget)];
    viewerRates = askedRates;
    try {
      streaming = new AbortController();
      const query = new URLSearchParams(streamRates(askedRates)).toString();
      const response = await fetch(query === '' ? path : path + '?' + query, { cache: 'no-store', signal: streaming.signal });
      streamOpen = true;
      const pace = linkPace(askedBudget, askedRates);
      for await (const { headers, body, size } of parts(response.body.getReader())) {
        lastPictureAt = performance.now();
        const sourceId = decodeURIComponent(headers['x-source']);
        if (cards.has(sourceId)) pictureBytes.set(sourceId, 0.75 * (pictureBytes.get(sourceId) ?? size) + 0.25 * size);
        const next = pace.picture(Number(headers['x-sent-at']), size);
        await draw(sourceId, headers, body);
        if (next !== askedBudget) {
          changeBudget(next);
          break;
        }
      }
      // Only a new rate leaves the loop: reopened at it, as closing this connection throws away its backlog.
      streaming.abort();
      continue;
    } catch (error) {
      console.warn('live stream', path, error);
    }
    streamOpen = false;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
const ago = (ms) => (ms < 60000 ? Math.round(ms / 1000) + ' s' : ms < 3600000 ? Math.round(ms / 60000) + ' min' : Math.round(ms / 3600000) + ' h') + ' ago';
/** The source's lines read, newest first: each line's item kept from poll to poll, so its thumbnail is loaded once. */
function showReads(list, reads) {
  const items = new Map([...list.children].map((item) => [item.dataset.line, item]));
  list.replaceChildren(...reads.map((read) => {
    const line = read.runId + '/' + read.lineId;
    let item = items.get(line);
    if (!item) {
      item = document.createElement('li');
      item.dataset.line = line;
      const text = document.createElement('span');
      text.className = 'text';
      const age = document.createElement('span');
      age.className = 'age';
      item.append(document.createElement('img'), text, age);
    }
    const [thumbnail, text, age] = item.children;
    // History: the same sign still in view is listed again under the new run, whose tracker cannot know it.
    item.classList.toggle('earlier-run', read.earlierRun === true);
    thumbnail.hidden = read.thumbnail === null;
    if (read.thumbnail && thumbnail.getAttribute('src') !== read.thumbnail.url) thumbnail.src = read.thumbnail.url;
    thumbnail.alt = read.best.text;
    text.textContent = read.best.text + (read.latest ? ' (latest: ' + read.latest.text + ')' : '');
    text.title = 'read at ' + read.best.textScore.toFixed(2) + (read.latest ? ', latest at ' + read.latest.textScore.toFixed(2) : '') +
      '; first seen ' + new Date(read.firstSeenMs).toLocaleTimeString();
    age.textContent = ago(read.ageMs) + (read.earlierRun ? ', before inference restarted' : '');
    return item;
  }));
}
/** Cameras whose list is on its way: on a slow link a poll is not sent again before the last is answered. */
const readsAsked = new Set();
async function pollReads(sourceId, list) {
  if (readsAsked.has(sourceId)) return;
  readsAsked.add(sourceId);
  try {
    const response = await fetch('/api/sources/' + encodeURIComponent(sourceId) + '/reads', { signal: AbortSignal.timeout(5000) });
    if (response.ok) showReads(list, (await response.json()).reads);
  } catch {
    // The figures' poll says when the preview is slow or unreachable: the list stays as it was meanwhile.
  } finally {
    readsAsked.delete(sourceId);
  }
}
function show(state) {
  document.getElementById('modules').replaceChildren(...state.modules.map((module) => {
    const badge = document.createElement('span');
    badge.className = module.status;
    badge.dataset.module = module.name;
    badge.textContent = module.name + ': ' + module.status;
    if (module.detail) badge.title = module.detail;
    return badge;
  }));
  // A source the preview forgot (silent for minutes and not expected, or removed by the inference decoding it) leaves the page.
  const listed = new Set(state.sources.map((source) => source.sourceId));
  for (const [sourceId, { root }] of cards) {
    if (listed.has(sourceId)) continue;
    root.remove();
    cards.delete(sourceId);
    pictureBytes.delete(sourceId);
    takenFps.delete(sourceId);
  }
  for (const source of state.sources) if (!source.waiting) takenFps.set(source.sourceId, Math.min(MAX_VIEWER_FPS, Math.max(MIN_VIEWER_FPS, source.previewFps)));
  for (const source of state.sources) {
    const { root, waiting, canvas, stall, figures, reads } = card(source);
    pollReads(source.sourceId, reads);
    waiting.hidden = !source.waiting;
    canvas.hidden = source.waiting;
    // What the page shows may be old: a camera that is down, or an inference that is (its boxes are then left off).
    const seconds = (ms) => Math.round(ms / 1000) + ' s';
    stall.textContent = source.framesStalled ? 'no frame for ' + seconds(source.frameAgeMs) + ': the picture is the last that came'
      : source.detectionsStalled ? 'no detections for ' + seconds(source.detectionsAgeMs) : '';
    root.classList.toggle('stalled', source.framesStalled);
    figures.textContent = source.waiting ? '' : source.width + 'x' + source.height + ' #' + source.sequence +
      ' | preview ' + source.previewFps + ' fps | detections ' + source.detectionFps + ' fps | capture-to-detection ' +
      (source.latencyMs === null ? '-' : source.latencyMs + ' ms') + ' | skipped ' + source.framesSkipped + ' | boxes ' + source.boxes +
      (source.regions.length > 0 ? ' | ignored ' + source.ignored + ' in ' + source.regions.length + ' region' + (source.regions.length === 1 ? '' : 's') : '') +
      (viewerRates.has(source.sourceId) ? ' | slow link: shown at ' + viewerRates.get(source.sourceId).toFixed(2) + ' fps' : '');
  }
  // The cards just made: their picture that came first.
  for (const [sourceId, { picture, body }] of unlisted) {
    if (!cards.has(sourceId)) continue;
    unlisted.delete(sourceId);
    paint(cards.get(sourceId).canvas, sourceId, picture, body).catch((error) => console.warn('picture of', sourceId, error));
  }
}
async function poll() {
  try {
    // Timed out: a preview that hangs, or a link that drops its packets, would otherwise leave the page as it was,
    // looking live, until TCP gives up.
    show(await (await fetch('/api/sources', { signal: AbortSignal.timeout(5000) })).json());
  } catch (error) {
    // A slow link may time the poll out while pictures still come: the page goes on showing them.
    const picturesComing = streamOpen && performance.now() - lastPictureAt < 5000;
    document.getElementById('modules').textContent = (picturesComing ? 'preview slow to answer: ' : 'preview unreachable: ') + error;
    if (!picturesComing) {
      for (const { root, stall } of cards.values()) {
        stall.textContent = 'preview unreachable: the picture is the last that came';
        root.classList.add('stalled');
      }
      streaming.abort();
    }
  }
  setTimeout(poll, 1000);
}
poll();
watch('/live.mjpeg');
</script>
</body>
</html>
`;
