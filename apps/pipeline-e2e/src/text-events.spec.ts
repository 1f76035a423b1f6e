import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TextEvent } from '@iev/telemetry-sinks';
import { startPipeline, type ModuleProcess } from './module-process';

const eventLines = (lines: string[]) => lines.filter((line) => line.startsWith('{"type":"text-')).map((line) => JSON.parse(line) as TextEvent);
/** As the demo's signs are compared: case and spaces aside (the reader may merge or split words). */
const normalized = (text: string) => text.toLowerCase().replace(/\s+/g, '');

/** Demo signs that say the same all video long (libs/detection-pipeline demo-signs.ts, DEMO_STEADY_LINES). */
const STEADY = ['BUS 42', 'Central', 'Platform 4', '+ PHARMACY', 'MAIN ST', 'max 2h'].map(normalized);
/** Texts of the demo's lines that change (DEMO_CHANGING_LINES): OPEN/CLOSED every few seconds, the countdown, the price. */
const CHANGING = [['OPEN', 'CLOSED'], ['arrives in 3 min', 'arrives in 2 min', 'NOW BOARDING'], ['FUEL 1.89', 'FUEL 1.94']].map((texts) => texts.map(normalized));

describe('text events from the demo video: capture → inference → telemetry (TELEMETRY_EVENTS=on)', () => {
  let dir: string;
  let modules: ModuleProcess[];
  let telemetry: ModuleProcess;
  let capture: ModuleProcess;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'iev-e2e-events-'));
    modules = startPipeline(dir, { telemetry: { CONSOLE_FORMAT: 'json', TELEMETRY_EVENTS: 'on' }, inference: { INFERENCE_THREADS: undefined } });
    [telemetry, , capture] = modules;
  });

  afterAll(async () => {
    await Promise.all(modules.map((module) => module.stop('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  });

  it("says when the signs' lines appear and change, each under its own line id, and that they have gone once the camera stops", async () => {
    const steadyAppeared = (events: TextEvent[]) => new Set(events.filter((event) => event.type === 'text-appeared' && STEADY.includes(normalized(event.text))).map((event) => normalized(event.text)));
    const signChanged = (event: TextEvent) =>
      event.type === 'text-changed' && CHANGING.some((texts) => texts.includes(normalized(event.previousText)) && texts.includes(normalized(event.text)));
    const seen = await telemetry.waitFor(
      (lines) => {
        const events = eventLines(lines);
        return steadyAppeared(events).size >= 4 && events.some(signChanged) ? events : undefined;
      },
      'four steady signs appeared and a changing sign changed',
      120_000,
    );

    const appeared = seen.filter((event) => event.type === 'text-appeared');
    // A line appears once while in view: the ids of a run are never reused, and a line goes only once the tracker can no
    // longer bring it back. (Inference stalled past TELEMETRY_TEXT_GONE_MS makes its lines go and, frames resuming, come
    // back under their ids: appeared, gone, appeared, never appeared twice without a gone.)
    const inViewNow = new Set<number>();
    for (const event of seen) {
      if (event.type === 'text-appeared') expect(inViewNow.has(event.lineId) ? `line ${event.lineId} appeared again while in view` : 'ok').toBe('ok');
      if (event.type === 'text-gone') inViewNow.delete(event.lineId);
      else inViewNow.add(event.lineId);
    }
    for (const event of seen) expect(event).toMatchObject({ sourceId: 'camera0', runId: expect.any(String), lineId: expect.any(Number), textScore: expect.any(Number), captureTimeMs: expect.any(Number) });
    const change = seen.find(signChanged);
    expect(change && appeared.some((event) => event.lineId === change.lineId)).toBe(true);

    // The camera stops: every line still in view goes, 2 s (TELEMETRY_TEXT_GONE_MS) after its last frame.
    const eventsBeforeStop = eventLines(telemetry.stdout).length;
    await capture.stop('SIGINT');
    const inView = (events: TextEvent[]) => {
      const lines = new Set(events.filter((event) => event.type !== 'text-gone').map((event) => event.lineId));
      for (const event of events) if (event.type === 'text-gone') lines.delete(event.lineId);
      return lines;
    };
    const all = await telemetry.waitFor((lines) => (inView(eventLines(lines)).size === 0 ? eventLines(lines) : undefined), 'every line gone', 15_000);
    const goneAfterStop = all.slice(eventsBeforeStop).filter((event) => event.type === 'text-gone');
    // Each steady sign's line goes, whatever it read last: under load a re-read may change BUS 42 to `BUS 42(`.
    const textsSent = (lineId: number) => all.filter((event) => event.lineId === lineId && event.type !== 'text-gone').map((event) => event.text);
    const steadyGone = new Set(goneAfterStop.flatMap((event) => textsSent(event.lineId).map(normalized)).filter((text) => STEADY.includes(text)));
    expect([...steadyGone]).toEqual(expect.arrayContaining([...steadyAppeared(seen)]));
    for (const event of goneAfterStop) {
      if (event.type !== 'text-gone') continue;
      // A gone line names the text last sent for it.
      expect(event.text).toBe(textsSent(event.lineId).at(-1));
      expect(event.durationMs).toBe(event.lastSeenCaptureTimeMs - event.firstSeenCaptureTimeMs);
      expect(event.captureTimeMs).toBe(event.lastSeenCaptureTimeMs);
    }
  });
});
