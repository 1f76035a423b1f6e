import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EdgeHubEmulator } from '@iev/edge-hub-emulator';
import { detectionsCodec, DETECTIONS_TOPIC, epochMs, type DetectedBox, type Detections } from '@iev/frame-protocol';
import { ClientZmq } from '@iev/zmq-transport';
import { lastValueFrom } from 'rxjs';
import { round } from '../stats';
import { runBenchStage, type BenchStage } from './bench-modules';

export interface UpstreamBenchOptions {
  workspaceRoot: string;
  /** Messages in the throughput burst. */
  burst: number;
  /** Steady rate during the outage phase, detections per second. */
  rate: number;
  outageSeconds: number;
}

export interface UpstreamBenchReport {
  burst: { messages: number; seconds: number; messagesPerSecond: number; bytesPerMessage: number };
  outage: { sent: number; delivered: number; lost: number; duplicates: number; inOrder: boolean; outageSeconds: number; drainSeconds: number };
}

/**
 * The built telemetry module under the emulated edgeHub (real SDK, MQTT over TLS): how many messages a second
 * it sends upstream, one per frame, and what arrives when edgeHub goes away for a while and comes back.
 */
export function benchUpstream(options: UpstreamBenchOptions, log: (line: string) => void): Promise<UpstreamBenchReport> {
  // The stage stops telemetry and removes the folder, also when a signal interrupts the bench (runBenchStage).
  return runBenchStage('iev-bench-upstream-', log, (stage) => benchInStage(stage, options, log));
}

async function benchInStage({ dir, startModule, stopModules, unlessInterrupted }: BenchStage, options: UpstreamBenchOptions, log: (line: string) => void) {
  const hub = await EdgeHubEmulator.start({
    stateDir: dir,
    modules: [{ id: 'telemetry' }],
    routes: { upstream: 'FROM /messages/modules/telemetry/outputs/* INTO $upstream' },
    // Every message, however large the burst: the bench counts and orders them from its own starting points.
    keepUpstream: Infinity,
  });
  const endpoint = `ipc://${join(dir, 'detections')}`;
  const publisher = new ClientZmq({ endpoint, bind: true, sendHighWaterMark: options.burst * 2, codecs: { [DETECTIONS_TOPIC]: detectionsCodec } });
  await publisher.connect();
  const queue = String(options.burst * 2);
  await startModule(options.workspaceRoot, 'telemetry', {
    ...hub.moduleEnv('telemetry'),
    DETECTIONS_CONNECT: endpoint,
    TELEMETRY_QUEUE_CAPACITY: queue,
    TELEMETRY_UPSTREAM_QUEUE: queue,
  });
  let sequence = 0;
  const send = () => lastValueFrom(publisher.emit(DETECTIONS_TOPIC, sampleDetections(sequence++)), { defaultValue: undefined });
  const sequences = (from: number) => hub.upstreamMessages().slice(from).map((message) => JSON.parse(message.body.toString()).frame.sequence as number);
  const pause = (ms: number) => unlessInterrupted(sleep(ms));
  let ticker: NodeJS.Timeout | undefined;
  try {
    log('waiting for telemetry to connect and deliver a first message...');
    const probing = setInterval(() => void send(), 250);
    try {
      await unlessInterrupted(hub.waitForUpstream(1, 30_000));
    } finally {
      clearInterval(probing);
    }

    log(`burst: ${options.burst} detections, one upstream message each`);
    const burstStart = hub.upstreamMessages().length;
    const started = performance.now();
    for (let i = 0; i < options.burst; i++) await unlessInterrupted(send());
    await unlessInterrupted(hub.waitForUpstream(burstStart + options.burst, 120_000));
    const seconds = (performance.now() - started) / 1000;
    const burstMessages = hub.upstreamMessages().slice(burstStart);
    const bytesPerMessage = burstMessages.reduce((sum, message) => sum + message.body.length, 0) / burstMessages.length;

    log(`outage: ${options.rate}/s steady, edgeHub stopped for ${options.outageSeconds} s`);
    const outageStart = hub.upstreamMessages().length;
    const firstSequence = sequence;
    ticker = setInterval(() => void send(), 1000 / options.rate);
    await pause(2000);
    await unlessInterrupted(hub.stopBroker());
    await pause(options.outageSeconds * 1000);
    await unlessInterrupted(hub.startBroker());
    const restartedAt = performance.now();
    await pause(2000);
    clearInterval(ticker);
    const sent = sequence - firstSequence;
    await unlessInterrupted(hub.waitForUpstream(outageStart + sent, 60_000).catch(() => undefined));
    const drainSeconds = (performance.now() - restartedAt) / 1000;
    const arrived = sequences(outageStart);
    const unique = new Set(arrived);
    return {
      burst: { messages: options.burst, seconds: round(seconds, 2), messagesPerSecond: round(options.burst / seconds, 0), bytesPerMessage: round(bytesPerMessage, 0) },
      outage: {
        sent,
        delivered: unique.size,
        lost: sent - unique.size,
        duplicates: arrived.length - unique.size,
        inOrder: arrived.every((value, i) => i === 0 || value > arrived[i - 1]),
        outageSeconds: options.outageSeconds,
        drainSeconds: round(drainSeconds, 2),
      },
    };
  } finally {
    clearInterval(ticker); // sends no more on the publisher closed below, when interrupted during the outage
    await stopModules(); // telemetry first, while edgeHub is still there
    await publisher.close();
    await hub.stop();
  }
}

export function formatUpstreamBench(report: UpstreamBenchReport): string {
  const { burst, outage } = report;
  return [
    'telemetry → edgeHub (emulated, MQTT over TLS, real SDK), one message per frame',
    `throughput      ${burst.messagesPerSecond} messages/s (${burst.messages} in ${burst.seconds} s, ${burst.bytesPerMessage} bytes each)`,
    `edgeHub outage  ${outage.outageSeconds} s: sent ${outage.sent}, delivered ${outage.delivered}, lost ${outage.lost}, duplicates ${outage.duplicates}, in order: ${outage.inOrder ? 'yes' : 'no'}`,
    `                all delivered ${outage.drainSeconds} s after edgeHub came back`,
  ].join('\n');
}

function sampleDetections(sequence: number): Detections {
  const box: DetectedBox = { points: [[120, 80], [260, 80], [260, 110], [120, 110]], score: 0.93 };
  return {
    frame: { sourceId: 'camera0', sequence, captureTimeMs: epochMs() },
    width: 640,
    height: 480,
    modelId: 'ch_pp_inf_dynamic@7ceb8792',
    boxes: Array.from({ length: 8 }, () => structuredClone(box)),
    timings: { transportMs: 15, preprocessMs: 1, inferenceMs: 40, postprocessMs: 1.4 },
    publishedAtMs: epochMs(),
  };
}
