import type { PreviewRenderer, PreviewSources, RecentReads } from '@iev/preview-server';
import { counterReadAtScrape } from '@iev/service-runtime';
import type { ZmqServerStats } from '@iev/zmq-transport';
import { Counter, Gauge, type Registry } from 'prom-client';

interface Watched {
  sources: PreviewSources;
  /** What each kind of JPEG is counted by: frames while watched, line thumbnails once per better read. */
  renderers: { annotated: PreviewRenderer; plain: PreviewRenderer; read: Pick<RecentReads, 'encoded'> };
  viewers: () => number;
  frames: { stats(): ZmqServerStats };
  /** Detections messages handled: not the link's every message, which carries inference's announced cameras too. */
  detectionsReceived: () => number;
}

/** The preview's series, read from its parts at scrape time. */
export function watchPreview(registry: Registry, { sources, renderers, viewers, frames, detectionsReceived }: Watched): void {
  counterReadAtScrape(registry, 'iev_preview_frames_total', 'Frames the preview took from capture', () => frames.stats().dispatched);
  counterReadAtScrape(registry, 'iev_preview_detections_total', 'Detections messages the preview received', detectionsReceived);
  new Counter({
    name: 'iev_preview_jpeg_encoded_total',
    help: 'JPEGs encoded: frames, only while someone watches, annotated (drawn in) or plain (the page draws the boxes); read: a line cut out where it was read best',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [kind, renderer] of Object.entries(renderers)) this.inc({ kind }, renderer.encoded);
    },
  });
  new Gauge({
    name: 'iev_preview_viewers',
    help: 'MJPEG streams open (annotated and live)',
    registers: [registry],
    collect() {
      this.set(viewers());
    },
  });
  new Gauge({
    name: 'iev_preview_sources',
    help: 'Sources the preview knows, waiting or not',
    registers: [registry],
    collect() {
      this.set(sources.sourceIds().length);
    },
  });
}
