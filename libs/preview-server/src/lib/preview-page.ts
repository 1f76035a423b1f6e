/**
 * The preview page: plain HTML with a little script, no framework and no build step. Each source is an <img> on its
 * MJPEG stream (the browser replaces the picture as parts arrive); the figures and the modules' health are polled
 * from /api/sources every second.
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
  .source img { display: block; max-width: 100%; background: #000; }
  .waiting { padding: 4rem 2rem; background: #222; color: #aaa; }
  .figures { color: #ccc; }
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
    const img = document.createElement('img');
    img.alt = source.sourceId;
    img.src = '/sources/' + encodeURIComponent(source.sourceId) + '/stream.mjpeg';
    const figures = document.createElement('div');
    figures.className = 'figures';
    root.append(title, waiting, img, figures);
    document.getElementById('sources').append(root);
    entry = { waiting, img, figures };
    cards.set(source.sourceId, entry);
  }
  return entry;
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
  for (const source of state.sources) {
    const { waiting, img, figures } = card(source);
    waiting.hidden = !source.waiting;
    img.hidden = source.waiting;
    figures.textContent = source.waiting ? '' : source.width + 'x' + source.height + ' #' + source.sequence +
      ' | preview ' + source.previewFps + ' fps | detections ' + source.detectionFps + ' fps | capture-to-detection ' +
      (source.latencyMs === null ? '-' : source.latencyMs + ' ms') + ' | skipped ' + source.framesSkipped + ' | boxes ' + source.boxes;
  }
}
async function poll() {
  try {
    show(await (await fetch('/api/sources')).json());
  } catch (error) {
    document.getElementById('modules').textContent = 'preview unreachable: ' + error;
  }
  setTimeout(poll, 1000);
}
poll();
</script>
</body>
</html>
`;
