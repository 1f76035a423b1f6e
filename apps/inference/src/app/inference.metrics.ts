import { HangWatch, InFlightTimes, type ChainedFrame, type ReadBatch } from '@iev/detection-pipeline';
import { OwnSilence, RateMeter, SourceActivity } from '@iev/service-runtime';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** How long a removed camera's frames may still be in flight: its series go after that (SourceActivity's stale time). */
const SOURCE_LEAVES_AFTER_MS = 5000;
/** How often sources are checked for staleness: an outage counts (and is logged) whether or not anyone scrapes meanwhile. */
const STALE_CHECK_MS = 1000;
/**
 * A camera not decoded here (a capture module's) that sent no frame for this long is forgotten, by default
 * (INFERENCE_FORGET_SOURCE_MS): one removed from the deployment or renamed stayed stale on /health, in the reported
 * sources and in its series for good. Telemetry's default (TELEMETRY_FORGET_SOURCE_MS): an hour of outage is told
 * before its figures go.
 */
export const FORGET_SILENT_SOURCE_MS = 60 * 60_000;

/** A piece stuck in a stage, in words: what it is and for how long it has been there. */
const inDetection = ({ key: { sourceId, sequence }, ms }: { key: ChainedFrame; ms: number }) => `${sourceId} #${sequence} has been in detection for ${Math.round(ms / 1000)} s`;
const atRecognitionModel = ({ key: { reasons, sources, inline }, ms }: { key: ReadBatch; ms: number }) =>
  `reading: ${inline ? `${inline.sourceId}'s frame (lines: ${inline.lines})` : `a batch (lines: ${reasons.length}, sources: ${sources})`} has been at the recognition model for ${Math.round(ms / 1000)} s`;

/** A gauge of how long the oldest piece of work has been in a stage (0 while none is), read at scrape. */
function oldestGauge(registry: Registry, name: string, help: string, times: Pick<InFlightTimes<unknown>, 'oldest'>): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set((times.oldest()?.ms ?? 0) / 1000);
    },
  });
}

/** Prometheus metrics of the inference module, and each source's activity for /health. */
export class InferenceMetrics {
  readonly framesProcessed: Counter<'source_id'>;
  readonly framesSkipped: Counter<'source_id'>;
  readonly framesRejected: Counter<'reason' | 'source_id'>;
  readonly latencySeconds: Histogram<'source_id'>;
  readonly boxes: Counter;
  /** Boxes left out, their centre in an ignore region of their camera (IGNORE_REGIONS): a clock overlay's, every frame. */
  readonly boxesIgnored: Counter<'source_id'>;
  readonly lines: Counter<'outcome'>;
  /** Lines the recognizer read, by why the tracker asked (new, resized, changed, refresh): what REC_* settings trade. */
  readonly linesRead: Counter<'reason'>;
  readonly textAfterSeconds: Histogram<'source_id'>;
  readonly stageSeconds: Histogram<'stage'>;
  /** Lines per recognition batch, and how many sources they came from (batches hold several cameras' lines). */
  readonly recognitionBatchLines: Histogram;
  readonly recognitionBatchSources: Histogram;
  readonly lastFrameAt: Gauge;
  /** Read from the transport at scrape: a capture that sends garbage shows on its own endpoint. */
  readonly messagesMalformed: Counter<'endpoint'>;
  /** Frames detected per second, all sources together: the fps reported in the module twin. */
  readonly rate = new RateMeter();
  /** Each source's rate, skips, latency and last frame; a source that delivers no frame asked of it for 5 s is stale, its outage counted. */
  readonly sources: SourceActivity;
  /**
   * This process's own silences on the monotonic clock, for the chain's times (SourceActivity keeps its own for its
   * sources): the wall clock, which NTP steps, would take an hour off every frame's time in detection at a board's
   * first sync without RTC, and hide a hang that long.
   */
  private readonly ownSilence = new OwnSilence(STALE_CHECK_MS);
  /** The clock the chain and reading are timed on: monotonic, less this process's own silence. */
  private readonly activeClock = () => performance.now() - this.ownSilence.ms;
  /**
   * Frames' times through detection (the model, publishing), on a clock that leaves out this process's own
   * silence: a frame there far longer than frames take is a stage hung (InFlightTimes), said once and on /health.
   */
  readonly chain = new InFlightTimes<ChainedFrame>(this.activeClock);
  /**
   * Recognition batches' times at the model, on the chain's clock: with tracking, reading runs beside the chain and
   * holds no frame in it, so a recognition model run that never returns shows only here (on a GPU, or with two
   * streams on the CPU, detection goes on and lines are just never read). Without (REC_REFRESH_MS=0) a frame's boxes
   * are read inline: its read holds the frame in the chain, whose hang is then told here, not as detection's.
   */
  readonly reading = new InFlightTimes<ReadBatch>(this.activeClock);
  /** A frame stuck in detection, and a batch stuck in reading: each episode said once, and its end. */
  private readonly chainWatch: HangWatch<ChainedFrame>;
  private readonly readingWatch: HangWatch<ReadBatch>;
  /**
   * Rejects once a frame has been stuck in detection, or a batch at the recognition model, for `hangExitMs`
   * (HANG_EXIT_MS), saying what hung and for how long: the module's reason to exit. Never with hangExitMs 0.
   */
  readonly hungTooLong: Promise<never>;
  private giveUp!: (reason: Error) => void;
  /** The metrics labelled by source_id, whose series a removed camera leaves behind. */
  private readonly perSource: Array<Counter<string> | Histogram<string>>;
  /** Removed cameras whose series are still to go, once their frames in flight are done. */
  private readonly leaving = new Map<string, NodeJS.Timeout>();
  private readonly staleCheck: NodeJS.Timeout;

  constructor(
    registry: Registry,
    malformedByEndpoint: () => ReadonlyArray<{ endpoint: string; malformed: number }>,
    private readonly logger?: Pick<Logger, 'info' | 'warn'>,
    {
      hangExitMs = 0,
      forgetSourceMs = FORGET_SILENT_SOURCE_MS,
      decodedHere = () => false,
    }: {
      hangExitMs?: number;
      /** How long a camera not decoded here may send no frame before it is forgotten (INFERENCE_FORGET_SOURCE_MS); 0: never. */
      forgetSourceMs?: number;
      /** Whether the camera is one this process decodes (CAPTURE_SOURCES, its twin): forgotten only when removed, never for silence. */
      decodedHere?: (sourceId: string) => boolean;
    } = {},
  ) {
    const registers = [registry];
    const sources = ['source_id'] as const;
    this.framesProcessed = new Counter({ name: 'iev_inference_frames_processed_total', help: 'Frames run through text detection', labelNames: sources, registers });
    this.framesSkipped = new Counter({
      name: 'iev_inference_frames_skipped_total',
      help: 'Frames never processed, from gaps in the sequence numbers (the model busy with other frames or sources, or publisher drops)',
      labelNames: sources,
      registers,
    });
    this.framesRejected = new Counter({ name: 'iev_inference_frames_rejected_total', help: 'Decoded frames that could not be processed', labelNames: ['reason', ...sources], registers });
    this.latencySeconds = new Histogram({
      name: 'iev_inference_latency_seconds',
      help: 'From capture to detections published, per source',
      labelNames: sources,
      buckets: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers,
    });
    this.boxes = new Counter({ name: 'iev_inference_boxes_total', help: 'Text boxes published: those detected outside the ignore regions (iev_inference_boxes_ignored_total)', registers });
    this.boxesIgnored = new Counter({
      name: 'iev_inference_boxes_ignored_total',
      help: 'Text boxes detected inside an ignore region of their camera (IGNORE_REGIONS): neither read nor published',
      labelNames: sources,
      registers,
    });
    this.lines = new Counter({
      name: 'iev_inference_lines_total',
      help: 'Boxes by what recognition did with them: read by the model, carried from an earlier frame, dropped below REC_MIN_SCORE',
      labelNames: ['outcome'],
      registers,
    });
    this.linesRead = new Counter({
      name: 'iev_inference_lines_read_total',
      help: 'Lines the recognizer read, by why: new (once followed for REC_CONFIRM_FRAMES), resized, changed, refresh',
      labelNames: ['reason'],
      registers,
    });
    this.textAfterSeconds = new Histogram({
      name: 'iev_inference_text_after_seconds',
      help: "From a line's first frame to the frame its first read shows with (video time: how long its text waited for the reader)",
      labelNames: sources,
      buckets: [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10],
      registers,
    });
    this.stageSeconds = new Histogram({
      name: 'iev_inference_stage_seconds',
      help: 'Time per frame in each stage',
      labelNames: ['stage'],
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2],
      registers,
    });
    this.recognitionBatchLines = new Histogram({
      name: 'iev_inference_recognition_batch_lines',
      help: 'Lines per recognition batch sent to the model',
      buckets: [1, 2, 3, 4, 5, 6],
      registers,
    });
    this.recognitionBatchSources = new Histogram({
      name: 'iev_inference_recognition_batch_sources',
      help: 'Sources whose lines shared a recognition batch',
      buckets: [1, 2, 3, 4, 6, 8],
      registers,
    });
    this.lastFrameAt = new Gauge({ name: 'iev_inference_last_frame_timestamp_seconds', help: 'When the last frame was processed', registers });
    oldestGauge(registry, 'iev_inference_oldest_frame_in_detection_seconds', 'How long the frame longest in detection (the model, reading with REC_REFRESH_MS=0, publishing) has been there: about a model run or two; growing, a stage hung', this.chain);
    oldestGauge(
      registry,
      'iev_inference_oldest_batch_in_reading_seconds',
      'How long the recognition batch at the model has been there (not its wait for a detection stream): about a batch run; growing, a recognition model run hung',
      this.reading,
    );
    this.hungTooLong = new Promise<never>((_resolve, reject) => (this.giveUp = reject));
    // Nobody need listen: metrics without a module around them must not die of an unhandled rejection.
    this.hungTooLong.catch(() => undefined);
    const giveUp = (stuck: string, what: string) => this.giveUp(new Error(`${stuck}, over HANG_EXIT_MS (${hangExitMs} ms): ${what} hung; exiting, to be started again`));
    const tooLongAfterMs = hangExitMs > 0 ? hangExitMs : undefined;
    // A frame read inline is the chain's oldest (frames are read in order) and waits on the recognition model.
    const stuckInDetection = () => (this.reading.oldest()?.key.inline ? undefined : this.chain.stuck());
    this.chainWatch = new HangWatch(
      { stuck: stuckInDetection },
      {
        stuck: (stuck) => logger?.warn({ sourceId: stuck.key.sourceId, sequence: stuck.key.sequence, seconds: Math.round(stuck.ms / 1000) }, `${inDetection(stuck)}, far longer than frames take: a model stream or publishing may be hung`),
        moving: (stuckMs) => logger?.info({ seconds: Math.round(stuckMs / 1000) }, 'detection moves again: no frame in it longer than frames take'),
        tooLong: (stuck) => giveUp(inDetection(stuck), 'a model stream or publishing'),
      },
      tooLongAfterMs,
    );
    this.readingWatch = new HangWatch(
      this.reading,
      {
        stuck: (stuck) =>
          logger?.warn(
            { lines: stuck.key.inline?.lines ?? stuck.key.reasons.length, sources: stuck.key.sources, seconds: Math.round(stuck.ms / 1000) },
            `${atRecognitionModel(stuck)}, far longer than batches take: a recognition model run may be hung`,
          ),
        moving: (stuckMs) => logger?.info({ seconds: Math.round(stuckMs / 1000) }, 'reading moves again: no batch at the recognition model longer than batches take'),
        tooLong: (stuck) => giveUp(atRecognitionModel(stuck), 'a recognition model run'),
      },
      tooLongAfterMs,
    );
    const outages = new Counter({
      name: 'iev_inference_source_outages_total',
      help: 'Times a source went 5 s, or three of its own frame intervals if longer, without delivering a frame asked of it (its capture stalled or went away)',
      labelNames: sources,
      registers,
      collect: () => this.sources.check(),
    });
    this.sources = new SourceActivity({
      staleAfterMs: SOURCE_LEAVES_AFTER_MS,
      checkEveryMs: STALE_CHECK_MS,
      onOutage: (sourceId, silentMs) => {
        outages.inc({ source_id: sourceId });
        logger?.warn({ sourceId }, `${sourceId}: no frame for ${Math.round(silentMs / 1000)} s (its capture stalled or went away)`);
      },
      onResumed: (sourceId, downMs) => logger?.info({ sourceId, downSeconds: downMs / 1000 }, `${sourceId}: frames again after ${(downMs / 1000).toFixed(1)} s`),
    });
    // Not only at scrape or /health: an outage shorter than the scrape interval would go uncounted and unsaid.
    this.staleCheck = setInterval(() => {
      this.sources.check();
      if (forgetSourceMs > 0) this.forgetSilentSources(forgetSourceMs, decodedHere);
      this.ownSilence.check(performance.now());
      this.chainWatch.check();
      this.readingWatch.check();
    }, STALE_CHECK_MS);
    this.staleCheck.unref();
    this.perSource = [this.framesProcessed, this.framesSkipped, this.framesRejected, this.latencySeconds, this.textAfterSeconds, this.boxesIgnored, outages];
    this.messagesMalformed = new Counter({
      name: 'iev_inference_messages_malformed_total',
      help: 'Messages on a frames socket that failed to decode and were dropped, per capture endpoint',
      labelNames: ['endpoint'],
      registers,
      collect() {
        this.reset();
        for (const { endpoint, malformed } of malformedByEndpoint()) this.inc({ endpoint }, malformed);
      },
    });
  }

  close(): void {
    clearInterval(this.staleCheck);
    for (const timer of this.leaving.values()) clearTimeout(timer);
  }

  /** How long the frame stuck in detection has been there, as of the last check; undefined while none is. */
  stuckInDetectionMs(): number | undefined {
    return this.chainWatch.stuckMs;
  }

  /** How long the batch stuck at the recognition model has been there, as of the last check; undefined while none is. */
  stuckInReadingMs(): number | undefined {
    return this.readingWatch.stuckMs;
  }

  /** A camera removed: gone from /health at once, and its series once its frames still in flight are done. */
  forgetSource(sourceId: string): void {
    this.sources.forget(sourceId);
    clearTimeout(this.leaving.get(sourceId));
    const timer = setTimeout(() => {
      this.leaving.delete(sourceId);
      void this.removeSeries(sourceId);
    }, SOURCE_LEAVES_AFTER_MS);
    timer.unref();
    this.leaving.set(sourceId, timer);
  }

  /** Each capture module's camera silent for `silentMs`, forgotten as a removed one is, logged once; back, it is new. */
  private forgetSilentSources(silentMs: number, decodedHere: (sourceId: string) => boolean): void {
    for (const sourceId of this.sources.silentFor(silentMs)) {
      if (decodedHere(sourceId)) continue;
      this.forgetSource(sourceId);
      this.logger?.info(
        { sourceId },
        `${sourceId}: no frame for ${silentMs / 1000} s (INFERENCE_FORGET_SOURCE_MS) and not a camera decoded here: forgotten (its figures on /health and its series), back as new with its next frame`,
      );
    }
  }

  /** A camera added, maybe again soon after it was removed: counted from now, its series kept. */
  expectSource(sourceId: string): void {
    clearTimeout(this.leaving.get(sourceId));
    this.leaving.delete(sourceId);
    this.sources.expect(sourceId);
  }

  private async removeSeries(sourceId: string): Promise<void> {
    for (const metric of this.perSource) {
      const { values } = await metric.get();
      // A histogram's bucket lines carry `le`, which is no label of its own to name a series by.
      for (const { labels: { le: _bucket, ...labels } } of values) if (labels['source_id'] === sourceId) metric.remove(labels);
    }
  }
}
