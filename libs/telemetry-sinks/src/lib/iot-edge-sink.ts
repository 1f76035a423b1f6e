import type { Detections } from '@iev/frame-protocol';
import { EdgeNotConnectedError, jsonMessage, OutboundQueue, type OutboundQueueStats } from '@iev/iot-edge';
import type { Message } from 'azure-iot-device';
import type { Logger } from 'pino';
import type { DetectionsSink } from './console-sink';
import { DetectionsAggregator, type AggregationSettings, type UpstreamPayload } from './detections-aggregator';

/** What the sink needs of the module's IoT Edge connection. */
export interface OutputEventSender {
  sendOutputEvent(outputName: string, message: Message): Promise<void>;
}

export interface IotEdgeSinkOptions {
  /** The module output the messages leave on; routes in the deployment manifest take it from there. */
  outputName: string;
  /** Messages held while edgeHub is unreachable; beyond it the oldest are dropped and counted. */
  queueCapacity: number;
  aggregation: AggregationSettings;
  logger: Logger;
}

/**
 * Sends detections upstream with sendOutputEvent: JSON (application/json, utf-8) with the source id, model
 * and message type as message properties, per frame or aggregated. A bounded queue with retry and backoff
 * rides out edgeHub outages; messages dropped at its bound are counted and announced in the next message
 * (`droppedMessagesBefore` in the body, `droppedBefore` as a property).
 */
export class IotEdgeSink implements DetectionsSink {
  private readonly queue: OutboundQueue<UpstreamPayload>;
  private readonly aggregator: DetectionsAggregator;
  private sender: OutputEventSender | undefined;

  /** Messages queue from the start; they leave once attach() hands over the module's IoT Edge connection. */
  constructor(private readonly options: IotEdgeSinkOptions) {
    this.queue = new OutboundQueue({
      capacity: options.queueCapacity,
      send: (payload, droppedBefore) => {
        if (!this.sender) return Promise.reject(new EdgeNotConnectedError('no IoT Edge connection yet'));
        return this.sender.sendOutputEvent(options.outputName, toMessage(payload, droppedBefore));
      },
      onSendError: (error, attempt) => {
        // One line per outage, then every tenth attempt: an outage must not flood the logs.
        if (attempt === 1 || attempt % 10 === 0) options.logger.warn({ err: error, attempt, queued: this.queue.stats().queued }, 'upstream send failed; retrying');
      },
      onDrop: () => {
        const { dropped } = this.queue.stats();
        if (dropped === 1 || dropped % 100 === 0) options.logger.warn({ dropped, capacity: options.queueCapacity }, 'upstream queue full: dropping the oldest messages');
      },
    });
    this.aggregator = new DetectionsAggregator(options.aggregation, (payload) => this.queue.push(payload));
  }

  attach(sender: OutputEventSender): void {
    this.sender = sender;
    this.queue.wake();
  }

  async write(detections: Detections): Promise<void> {
    this.aggregator.add(detections);
  }

  configure(aggregation: AggregationSettings): void {
    this.aggregator.configure(aggregation);
  }

  /** Retry now: edgeHub is back. */
  resume(): void {
    this.queue.wake();
  }

  stats(): OutboundQueueStats {
    return this.queue.stats();
  }

  async close(timeoutMs: number): Promise<void> {
    this.aggregator.close();
    const emptied = await this.queue.flush(timeoutMs);
    this.queue.close();
    if (!emptied) this.options.logger.warn({ unsent: this.queue.stats().queued }, 'stopping with upstream messages unsent');
  }
}

function toMessage(payload: UpstreamPayload, droppedBefore: number): Message {
  const sourceId = payload.type === 'detections' ? payload.frame.sourceId : payload.sourceId;
  const properties: Record<string, string | number> = { sourceId, modelId: payload.modelId, messageType: payload.type };
  if (droppedBefore > 0) properties['droppedBefore'] = droppedBefore;
  return jsonMessage(droppedBefore > 0 ? { ...payload, droppedMessagesBefore: droppedBefore } : payload, properties);
}
