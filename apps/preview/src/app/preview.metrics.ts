import type { MjpegStreams, PreviewRenderer, PreviewSources } from '@iev/preview-server';
import { counterReadAtScrape } from '@iev/service-runtime';
import type { ZmqServerStats } from '@iev/zmq-transport';
import { Gauge, type Registry } from 'prom-client';

interface Watched {
  sources: PreviewSources;
  renderer: PreviewRenderer;
  streams: MjpegStreams;
  frames: { stats(): ZmqServerStats };
  detections: { stats(): ZmqServerStats };
}

/** The preview's series, read from its parts at scrape time. */
export function watchPreview(registry: Registry, { sources, renderer, streams, frames, detections }: Watched): void {
  counterReadAtScrape(registry, 'iev_preview_frames_total', 'Frames the preview took from capture', () => frames.stats().dispatched);
  counterReadAtScrape(registry, 'iev_preview_detections_total', 'Detections messages the preview received', () => detections.stats().dispatched);
  counterReadAtScrape(registry, 'iev_preview_jpeg_encoded_total', 'Annotated frames encoded as JPEG (only while someone watches)', () => renderer.encoded);
  new Gauge({
    name: 'iev_preview_viewers',
    help: 'MJPEG streams open',
    registers: [registry],
    collect() {
      this.set(streams.viewerCount);
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
