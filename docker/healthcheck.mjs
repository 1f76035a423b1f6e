// HEALTHCHECK of every module image: healthy while the module's /live on METRICS_PORT answers 2xx.
// Node's own fetch, so the images need no curl or wget.
const url = `http://127.0.0.1:${process.env.METRICS_PORT}/live`;
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(4000) });
  process.exit(response.ok ? 0 : 1);
} catch {
  process.exit(1);
}
