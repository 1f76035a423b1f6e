import { AllSourcesSilence } from '@iev/service-runtime';
import { ServerZmq } from '@iev/zmq-transport';
import type { TextEvent } from '@iev/telemetry-sinks';
import { Registry } from 'prom-client';
import { TelemetryMetrics } from './telemetry.metrics';

const FORGET_MS = 3_600_000;

describe('TelemetryMetrics: forgetting silent sources', () => {
  afterEach(() => jest.useRealTimers());

  function metricsOf(registry: Registry): TelemetryMetrics {
    const server = new ServerZmq({ endpoint: 'ipc:///nonexistent/detections', bind: false, delivery: 'queue' });
    const detections = new AllSourcesSilence({ limitMs: 0, clock: () => performance.now(), telling: { began: () => undefined, ended: () => undefined } });
    return new TelemetryMetrics(registry, server, detections);
  }

  const sourcesWithSeries = async (registry: Registry) =>
    [...(await registry.metrics()).matchAll(/^iev_telemetry_seconds_since_detections\{source_id="([^"]+)"/gm)].map(([, sourceId]) => sourceId).sort();

  // Inference down (crash-looping on a bad model, its container stopped) stops its announcements as well as its
  // detections: its cameras are no less announced ones, whose silence is the fault the alert is for.
  it("keeps a camera inference announced when its detections last came, though inference's announcements stopped with them", async () => {
    jest.useFakeTimers();
    const registry = new Registry();
    const metrics = metricsOf(registry);
    metrics.announced({ runId: 'run1', sourceIds: ['door'], repeatMs: 500, complete: true });
    metrics.received('door');
    metrics.received('gate');
    // Inference stops: no more announcements, no more detections, for longer than TELEMETRY_FORGET_SOURCE_MS.
    jest.advanceTimersByTime(FORGET_MS);

    expect(metrics.forgetSilent(FORGET_MS).map(({ sourceId }) => sourceId)).toEqual(['gate']);
    expect(await sourcesWithSeries(registry)).toEqual(['door']);
  });

  it('forgets a camera whose detections last came while no announcement listed it (inference replaced by one whose cameras are capture modules)', () => {
    jest.useFakeTimers();
    const metrics = metricsOf(new Registry());
    metrics.announced({ runId: 'run1', sourceIds: ['door'], repeatMs: 500, complete: true });
    metrics.received('door');
    jest.advanceTimersByTime(10_000);
    // The announcements lapsed; door's detections now come from a capture module.
    metrics.received('door');
    jest.advanceTimersByTime(FORGET_MS);

    expect(metrics.forgetSilent(FORGET_MS).map(({ sourceId }) => sourceId)).toEqual(['door']);
  });

  it('counts the text events sent per source and type, and forgets a forgotten source\'s counts', async () => {
    jest.useFakeTimers();
    const registry = new Registry();
    const metrics = metricsOf(registry);
    const event = (sourceId: string, type: TextEvent['type']) => ({ type, sourceId, lineId: 1, text: 'BUS 42' }) as TextEvent;
    metrics.received('gate');
    for (const type of ['text-appeared', 'text-changed', 'text-changed', 'text-gone'] as const) metrics.textEventSent(event('gate', type));
    metrics.received('door');
    metrics.textEventSent(event('door', 'text-appeared'));
    const counts = async () => [...(await registry.metrics()).matchAll(/^iev_telemetry_text_events_total\{(.*)\} (\d+)$/gm)].map(([, labels, count]) => `${labels} ${count}`).sort();

    expect(await counts()).toEqual([
      'source_id="door",type="text-appeared" 1',
      'source_id="gate",type="text-appeared" 1',
      'source_id="gate",type="text-changed" 2',
      'source_id="gate",type="text-gone" 1',
    ]);
    jest.advanceTimersByTime(FORGET_MS);
    metrics.received('door');
    expect(metrics.forgetSilent(FORGET_MS).map(({ sourceId }) => sourceId)).toEqual(['gate']);
    expect(await counts()).toEqual(['source_id="door",type="text-appeared" 1']);
    // The sink, told to forget gate after the metrics did, says its lines still in view gone (TELEMETRY_TEXT_GONE_MS
    // longer than TELEMETRY_FORGET_SOURCE_MS, a camera slower than a frame in 20 s): not counted, its series stays gone.
    metrics.textEventSent(event('gate', 'text-gone'));
    expect(await counts()).toEqual(['source_id="door",type="text-appeared" 1']);
  });
});
