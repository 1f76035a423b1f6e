import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '@iev/testing';
import { DetectionsPublisher } from './detections-publisher';
import { ModuleProcess } from './module-process';

/** Telemetry's series labelled by source. */
const PER_SOURCE = ['iev_telemetry_seconds_since_detections', 'iev_telemetry_detections_total', 'iev_telemetry_capture_to_sink_seconds_count'];

/**
 * The built telemetry module, subscribed over ZeroMQ to a publisher that announces its cameras as inference with
 * CAPTURE_SOURCES does (its SourcesAnnouncer, on the sources topic beside the detections).
 */
describe("telemetry's per-source series of cameras inference removes", () => {
  let dir: string;
  let publisher: DetectionsPublisher;
  let telemetry: ModuleProcess;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'iev-telemetry-removed-'));
  });

  afterEach(async () => {
    await telemetry?.stop('SIGKILL');
    await publisher?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // A capture module removed from the deployment (or its SOURCE_ID renamed) is never announced gone: before, its series
  // stayed, and its silence alerting, until telemetry restarted.
  it('forgets a camera no announcement lists once silent for TELEMETRY_FORGET_SOURCE_MS, logged once, keeps an announced one however silent, and takes the first back as new', async () => {
    const endpoint = `ipc://${join(dir, 'detections')}`;
    // gate: a capture module's camera; door: one inference decodes and announces.
    publisher = new DetectionsPublisher(endpoint, 'camera0', 'door', 'gate');
    publisher.announce(() => ['camera0', 'door'], 500);
    telemetry = new ModuleProcess('telemetry', { DETECTIONS_CONNECT: endpoint, TELEMETRY_SINK: 'console', CONSOLE_FORMAT: 'json', METRICS_PORT: '0', TELEMETRY_FORGET_SOURCE_MS: '2000' });
    const port = await telemetry.metricsPort();
    const series = async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return [...new Set([...text.matchAll(/^(\w+)\{[^}]*source_id="([^"]+)"/gm)].filter(([, name]) => PER_SOURCE.includes(name)).map(([, , sourceId]) => sourceId))].sort();
    };
    const seriesOf = (sourceIds: string[], timeoutMs: number) =>
      eventually(async () => ((await series()).join() === sourceIds.join() || undefined), () => `the series of ${sourceIds.join(', ')} alone`, { timeoutMs, intervalMs: 100 });
    await seriesOf(['camera0', 'door', 'gate'], 20_000);

    publisher.sources.delete('gate');
    publisher.sources.delete('door');
    await seriesOf(['camera0', 'door'], 5000);
    await sleep(2500);
    expect(await series()).toEqual(['camera0', 'door']);
    const forgotten = () => telemetry.logs().filter(({ msg }) => String(msg).includes('forgotten'));
    expect(forgotten()).toEqual([expect.objectContaining({ level: 30, sourceId: 'gate', msg: expect.stringMatching(/^gate: no detections for [23] s and not a camera inference announces: forgotten/) })]);

    // Back: new, its series from its first detections (a counter that starts over is a reset to Prometheus).
    publisher.sources.set('gate', 0);
    await seriesOf(['camera0', 'door', 'gate'], 5000);
    expect(forgotten()).toHaveLength(1);
  }, 60_000);

  it('forgets a camera at its removal, keeps it forgotten while its detections still in flight arrive, keeps a camera never announced, and takes one added back', async () => {
    const endpoint = `ipc://${join(dir, 'detections')}`;
    // gate: a capture module's camera, which inference does not announce.
    publisher = new DetectionsPublisher(endpoint, 'camera0', 'door', 'gate');
    let announced = ['camera0', 'door'];
    const announcer = publisher.announce(() => announced, 500);
    telemetry = new ModuleProcess('telemetry', { DETECTIONS_CONNECT: endpoint, TELEMETRY_SINK: 'console', METRICS_PORT: '0' });
    const port = await telemetry.metricsPort();
    let last: string[] = [];
    const series = async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      last = [...text.matchAll(/^(\w+)\{[^}]*source_id="([^"]+)"/gm)].filter(([, name]) => PER_SOURCE.includes(name)).map(([, name, sourceId]) => `${name} ${sourceId}`).sort();
      return last;
    };
    const everySeries = (...sourceIds: string[]) => sourceIds.flatMap((sourceId) => PER_SOURCE.map((name) => `${name} ${sourceId}`)).sort();
    const seriesBecome = (sourceIds: string[], timeoutMs: number) =>
      eventually(async () => ((await series()).join() === everySeries(...sourceIds).join() || undefined), () => `the series of ${sourceIds.join(', ')} alone; they are ${last.join(', ')}`, { timeoutMs, intervalMs: 100 });
    await seriesBecome(['camera0', 'door', 'gate'], 20_000);
    // An announcement that lists door heard (they come every 500 ms): only a camera listed to it is one it removes.
    await sleep(1000);

    // The twin removes door: its detections still in flight as it goes (a second more of them) count nowhere per source.
    announced = ['camera0'];
    announcer.announce();
    await seriesBecome(['camera0', 'gate'], 5000);
    await sleep(1000);
    publisher.sources.delete('door');
    await sleep(500);
    expect(await series()).toEqual(everySeries('camera0', 'gate'));

    // Added again by the twin: its series come back with its detections.
    announced = ['camera0', 'door'];
    announcer.announce();
    publisher.sources.set('door', 1000);
    await seriesBecome(['camera0', 'door', 'gate'], 5000);
  }, 60_000);
});
