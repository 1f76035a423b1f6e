import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// eslint-disable-next-line @nx/enforce-module-boundaries -- specs only: the real SDK against the emulated edgeHub (a tool)
import { EdgeHubEmulator, type JsonObject } from '@iev/edge-hub-emulator';
import { EdgeModule } from '@iev/iot-edge';
import { Backoff } from '@iev/service-runtime';
import pino from 'pino';
import { Registry } from 'prom-client';
import { telemetryTwinSettings } from './telemetry-twin';
import { readTelemetryConfig, type telemetryTwinSpec } from './telemetry.config';

const lastDesired = (reported: JsonObject) => reported['lastDesired'] as { version?: number; status?: string; error?: string | null } | undefined;

describe("telemetry's twin with TELEMETRY_EVENTS=on (real SDK, emulated edgeHub)", () => {
  let dir: string;
  let hub: EdgeHubEmulator;
  let edge: EdgeModule<typeof telemetryTwinSpec> | undefined;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'iev-telemetry-twin-'));
    hub = await EdgeHubEmulator.start({ stateDir: dir, modules: [{ id: 'telemetry', desired: { aggregateFrames: 1, aggregateIntervalMs: 0 } }] });
  });

  afterAll(async () => {
    await edge?.close();
    process.env = savedEnv;
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes the values that mean no aggregation, as a fleet sets them everywhere, and refuses real aggregation naming it', async () => {
    const aggregations: unknown[] = [];
    Object.assign(process.env, hub.moduleEnv('telemetry'));
    edge = EdgeModule.start<typeof telemetryTwinSpec>({
      name: 'telemetry',
      logger: pino({ level: 'silent' }),
      registry: new Registry(),
      backoff: new Backoff(100, 1000, 0),
      // A report still in flight at close gives up sooner than the 15 s that kept Jest from exiting.
      requestTimeoutMs: 3000,
      settings: telemetryTwinSettings(readTelemetryConfig({ TELEMETRY_EVENTS: 'on' }), { configure: (aggregation) => void aggregations.push(aggregation) }),
    });

    // The deployment's document: neutral values are applied, not rejected.
    const applied = await hub.waitForReported('telemetry', (reported) => lastDesired(reported)?.status !== undefined, 20_000);
    expect(lastDesired(applied)).toMatchObject({ status: 'applied' });

    const version = await hub.patchDesired('telemetry', { aggregateIntervalMs: 10_000 });
    const rejected = await hub.waitForReported('telemetry', (reported) => lastDesired(reported)?.version === version, 20_000);
    expect(lastDesired(rejected)).toMatchObject({ status: 'rejected', error: expect.stringMatching(/^TELEMETRY_EVENTS=on sends events about the lines instead of frames or their summaries: unset aggregateIntervalMs=10000/) });
    expect(rejected['settings']).toEqual({ aggregateFrames: 1, aggregateIntervalMs: 0 });

    // Removed again: back to none, taken.
    const removed = await hub.patchDesired('telemetry', { aggregateIntervalMs: null });
    expect(lastDesired(await hub.waitForReported('telemetry', (reported) => lastDesired(reported)?.version === removed, 20_000))).toMatchObject({ status: 'applied' });
    // Events have no aggregation to configure.
    expect(aggregations).toEqual([]);
  });
});
