import { AnnouncedCameras, type SourcesAnnouncement } from '@iev/frame-protocol';
import { counterReadAtScrape, RateMeter, type AllSourcesSilence } from '@iev/service-runtime';
import type { ServerZmq } from '@iev/zmq-transport';
import type { OutboundQueueStats } from '@iev/iot-edge';
import { TEXT_EVENT_TYPES, type TextEvent } from '@iev/telemetry-sinks';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export class TelemetryMetrics {
  /** Per source (`source_id`): one telemetry serves every camera's detections. */
  private readonly messages: Counter<'source_id'>;
  private readonly sinkErrors: Counter<'source_id'>;
  private readonly endToEndSeconds: Histogram<'source_id'>;
  /** TELEMETRY_EVENTS=on: the events sent, per source and type. */
  private readonly textEvents: Counter<'source_id' | 'type'>;
  /** Detections of a camera inference removed, still in flight at its removal, kept out of what the sink keeps of a camera. */
  private readonly droppedAfterRemovalTotal: Counter;
  /** Detections per second reaching the sink: the fps reported in the module twin. */
  readonly rate = new RateMeter();
  /** The cameras inference decodes itself, as it announces them: one it removed has its series forgotten. */
  private readonly cameras = new AnnouncedCameras();
  /**
   * The sources whose detections last came while inference's announcements listed them: inference stopped (its
   * announcements lapsing with its detections) leaves them announced cameras, whose silence is a fault, not a removal.
   */
  private readonly announcedWhenLastHeard = new Set<string>();

  constructor(
    registry: Registry,
    server: ServerZmq,
    /** Each source's detections' arrivals (TelemetryWatch), their ages a gauge. */
    private readonly detections: AllSourcesSilence,
  ) {
    const registers = [registry];
    const labelNames = ['source_id'] as const;
    this.messages = new Counter({ name: 'iev_telemetry_detections_total', help: 'Detections messages written to the sink', labelNames, registers });
    this.sinkErrors = new Counter({ name: 'iev_telemetry_sink_errors_total', help: 'Detections the sink failed to write', labelNames, registers });
    this.textEvents = new Counter({
      name: 'iev_telemetry_text_events_total',
      help: 'Text events (TELEMETRY_EVENTS=on) sent, to the console or the upstream queue, by type: text-appeared, text-changed, text-gone',
      labelNames: ['source_id', 'type'],
      registers,
    });
    // No source label: a removed camera's series are gone, and one of its own here would bring a series of it back.
    this.droppedAfterRemovalTotal = new Counter({
      name: 'iev_telemetry_removed_camera_detections_dropped_total',
      help: 'Detections of a camera inference had removed, still in flight at its removal, dropped where the sink keeps something of a camera (text events, summaries)',
      registers,
    });
    this.endToEndSeconds = new Histogram({
      name: 'iev_telemetry_capture_to_sink_seconds',
      help: 'From the frame leaving the decoder to its detections reaching telemetry',
      labelNames,
      buckets: [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers,
    });
    counterReadAtScrape(
      registry,
      'iev_telemetry_detections_dropped_total',
      'Detections dropped, oldest first, because the sink fell TELEMETRY_QUEUE_CAPACITY behind',
      () => server.stats().skipped,
    );
    counterReadAtScrape(registry, 'iev_telemetry_messages_malformed_total', 'Messages on the detections socket that failed to decode', () => server.stats().malformed);
    new Gauge({
      name: 'iev_telemetry_seconds_since_detections',
      help: "Seconds since the source's last detections message (one a frame inference processed, boxes or none)",
      labelNames,
      registers,
      collect() {
        // Afresh: a source forgotten since the last scrape has no series.
        this.reset();
        for (const { sourceId, ms } of detections.ages()) this.set({ source_id: sourceId }, ms / 1000);
      },
    });
  }

  /**
   * A detections message of the source arrived (before the sink takes it: a sink failing is not silence). Returns
   * whether it is taken: one of a camera inference removed, still in flight as it was removed, is not, until the camera
   * is announced again; counted, its per-source series would come back for good, and written into what the sink keeps
   * of a camera (its lines, a summary), what it was told to forget of it would start again (DetectionsController).
   */
  received(sourceId: string): boolean {
    if (this.removed(sourceId)) return false;
    this.detections.arrived(sourceId);
    if (this.cameras.lists(sourceId, performance.now())) this.announcedWhenLastHeard.add(sourceId);
    else this.announcedWhenLastHeard.delete(sourceId);
    return true;
  }

  /** The sink took the detections, `ageSeconds` after their frame left the decoder. */
  written(sourceId: string, ageSeconds: number): void {
    this.rate.mark();
    if (this.removed(sourceId)) return;
    this.messages.inc({ source_id: sourceId });
    this.endToEndSeconds.observe({ source_id: sourceId }, ageSeconds);
  }

  /**
   * The sink sent a text event. Not counted for a source forgotten (removed, or silent), nor one whose detections
   * are left out (received): the sink, told to forget it after the metrics, says its lines still in view gone, which
   * would bring its series back for good.
   */
  textEventSent({ sourceId, type }: TextEvent): void {
    if (this.detections.has(sourceId)) this.textEvents.inc({ source_id: sourceId, type });
  }

  /** Detections of a removed camera still in flight, kept from the sink (DetectionsController). */
  droppedAfterRemoval(): void {
    this.droppedAfterRemovalTotal.inc();
  }

  /** The sink failed to write the source's detections. */
  sinkFailed(sourceId: string): void {
    if (!this.removed(sourceId)) this.sinkErrors.inc({ source_id: sourceId });
  }

  /**
   * Inference's announcement of the cameras it decodes (CAPTURE_SOURCES): each one it removed (its twin) has its
   * series forgotten at once, so that its silence grows no more and fires no alert. A camera never announced (a capture
   * module's, which may come back) keeps its series while its silence is what an alert is for (forgetSilent). Returns
   * the cameras removed, for the sink to forget too.
   */
  announced(announcement: SourcesAnnouncement): string[] {
    const removed = this.cameras.take(announcement, performance.now());
    for (const sourceId of removed) this.forget(sourceId);
    return removed;
  }

  /**
   * Forgets each source inference does not announce (a capture module's camera) whose detections have not arrived for
   * `silentMs`: one removed from the deployment or renamed would otherwise keep its series, and its silence alerting,
   * until telemetry restarts. Returns them; one that comes back is new. An announced camera's silence is a fault of
   * its own and stays, also once inference stops and its announcements lapse.
   */
  forgetSilent(silentMs: number): Array<{ sourceId: string; ms: number }> {
    const now = performance.now();
    const silent = this.detections.ages().filter(({ sourceId, ms }) => ms >= silentMs && !this.cameras.lists(sourceId, now) && !this.announcedWhenLastHeard.has(sourceId));
    for (const { sourceId } of silent) this.forget(sourceId);
    return silent;
  }

  private forget(sourceId: string): void {
    this.detections.forget(sourceId);
    this.announcedWhenLastHeard.delete(sourceId);
    for (const metric of [this.messages, this.sinkErrors, this.endToEndSeconds]) metric.remove({ source_id: sourceId });
    for (const type of TEXT_EVENT_TYPES) this.textEvents.remove({ source_id: sourceId, type });
  }

  private removed(sourceId: string): boolean {
    return this.cameras.removes(sourceId, performance.now());
  }

  /** Upstream (IoT Edge) message counts, read from the sink's queue at scrape time. */
  countUpstream(registry: Registry, stats: () => OutboundQueueStats): void {
    counterReadAtScrape(registry, 'iev_telemetry_upstream_sent_total', 'Messages sent upstream through edgeHub', () => stats().sent);
    counterReadAtScrape(registry, 'iev_telemetry_upstream_dropped_total', 'Upstream messages dropped, oldest first, while edgeHub was unreachable', () => stats().dropped);
    counterReadAtScrape(registry, 'iev_telemetry_upstream_failed_attempts_total', 'Upstream sends that failed and were retried', () => stats().failedAttempts);
    counterReadAtScrape(
      registry,
      'iev_telemetry_upstream_resent_total',
      'Upstream messages sent again after a send that may have reached edgeHub (its acknowledgement lost): possible duplicates, same messageId',
      () => stats().resent,
    );
    new Gauge({
      name: 'iev_telemetry_upstream_queued',
      help: 'Upstream messages waiting for edgeHub',
      registers: [registry],
      collect() {
        this.set(stats().queued);
      },
    });
  }
}
