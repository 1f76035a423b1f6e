import { randomUUID } from 'node:crypto';
import type { Detections } from '@iev/frame-protocol';
import { EdgeFailureLog, EdgeNotConnectedError, jsonMessage, OutboundQueue, type OutboundQueueStats } from '@iev/iot-edge';
import type { Message } from 'azure-iot-device';
import type { Logger } from 'pino';
import type { DetectionsSink } from './console-sink';
import { DetectionsAggregator, type AggregationSettings, type UpstreamPayload } from './detections-aggregator';
import { textEventsFor, type SinkContent, type TextEvents } from './text-events';
import { fitToBudget, MESSAGE_BUDGET_BYTES, messageBytes, messagePropertiesOf, type UpstreamBody } from './message-budget';

/** What the sink needs of the module's IoT Edge connection. */
export interface OutputEventSender {
  sendOutputEvent(outputName: string, message: Message): Promise<void>;
}

export interface IotEdgeSinkOptions extends SinkContent {
  /** The module output the messages leave on; routes in the deployment manifest take it from there. */
  outputName: string;
  /** Messages held while edgeHub is unreachable; beyond it the oldest are dropped and counted. */
  queueCapacity: number;
  /** Per frame or summaries; not with events, which replace both. */
  aggregation: AggregationSettings;
  logger: Logger;
}

/** A message as queued: every attempt to send it sends it with the same id. */
interface QueuedMessage {
  /** So a consumer can drop the copy a resend makes when edgeHub stored the message but its acknowledgement was lost. */
  messageId: string;
  body: UpstreamBody;
}

/**
 * Sends detections upstream with sendOutputEvent: JSON (application/json, utf-8) with the source id, model
 * and message type as message properties, per frame, aggregated or as events about the lines (`events`), each within
 * MESSAGE_BUDGET_BYTES. A bounded
 * queue with retry and backoff rides out edgeHub outages; messages dropped at its bound are counted and announced
 * in the next message (`droppedMessagesBefore` in the body, `droppedBefore` as a property).
 */
export class IotEdgeSink implements DetectionsSink {
  private readonly queue: OutboundQueue<QueuedMessage>;
  private readonly aggregator: DetectionsAggregator;
  private readonly events: TextEvents | undefined;
  private sender: OutputEventSender | undefined;

  /** Messages queue from the start; they leave once attach() hands over the module's IoT Edge connection. */
  constructor(private readonly options: IotEdgeSinkOptions) {
    /** Messages sent when the queue-full warning was last logged: a drop after others got through is a new outage's. */
    let sentAtDropWarning: number | undefined;
    const failureLog = new EdgeFailureLog();
    this.queue = new OutboundQueue({
      capacity: options.queueCapacity,
      // A message that may have reached edgeHub is resent as it was, its drop count included (OutboundQueue).
      send: (queued, droppedBefore) => {
        if (!this.sender) return Promise.reject(new EdgeNotConnectedError('no IoT Edge connection yet', true));
        return this.sender.sendOutputEvent(options.outputName, toMessage(queued, droppedBefore));
      },
      // Without a connection nothing was handed to the SDK; any other failure may have lost only the acknowledgement.
      sendNeverLeft: (error) => error instanceof EdgeNotConnectedError,
      onSendError: (error, attempt) => {
        const queued = this.queue.stats().queued;
        // edgeHub starting after the module is the normal boot order: no outage. EdgeModule warns if it goes on.
        const awaitingFirstConnection = error instanceof EdgeNotConnectedError && error.awaitingFirstConnection;
        const level = failureLog.levelOf({ awaitingFirstConnection, attempt });
        if (awaitingFirstConnection) options.logger[level]({ queued }, 'upstream messages queue until the first connection to edgeHub');
        else options.logger[level]({ err: error, attempt, queued }, 'upstream send failed; retrying');
      },
      onDrop: () => {
        // Once per outage (the first drop since a message got through), then every hundredth drop.
        const { dropped, sent } = this.queue.stats();
        if (sent !== sentAtDropWarning || dropped % 100 === 0) {
          sentAtDropWarning = sent;
          options.logger.warn({ dropped, capacity: options.queueCapacity }, `upstream queue full (${options.queueCapacity}): dropping the oldest messages (${dropped} dropped so far)`);
        }
      },
    });
    this.aggregator = new DetectionsAggregator(options.aggregation, (payload) => this.enqueue(payload), options.textMatch);
    this.events = textEventsFor(options, (event) => this.enqueue(event));
  }

  attach(sender: OutputEventSender): void {
    this.sender = sender;
    this.queue.wake();
  }

  async write(detections: Detections): Promise<void> {
    if (this.events) this.events.add(detections);
    else this.aggregator.add(detections);
  }

  configure(aggregation: AggregationSettings): void {
    this.aggregator.configure(aggregation);
  }

  forget(sourceId: string): void {
    this.aggregator.forgetSource(sourceId);
    this.events?.forget(sourceId);
  }

  /** Events, or summaries (the twin may switch aggregation live): not one message per frame. */
  keepsPerSource(): boolean {
    return this.events !== undefined || !this.aggregator.perFrame;
  }

  /** Retry now: edgeHub is back. */
  resume(): void {
    this.queue.wake();
  }

  stats(): OutboundQueueStats {
    return this.queue.stats();
  }

  private enqueue(payload: UpstreamPayload): void {
    const body = fitToBudget(payload);
    if (!body) {
      // edgeHub would refuse it at every retry, holding back everything queued behind it.
      const bytes = messageBytes(payload, messagePropertiesOf(payload));
      this.options.logger.error({ bytes, budget: MESSAGE_BUDGET_BYTES, messageType: payload.type }, 'upstream message too large even without its boxes and texts: not sent');
      return;
    }
    this.queue.push({ messageId: randomUUID(), body });
  }

  async close(timeoutMs: number): Promise<void> {
    this.aggregator.close();
    this.events?.close();
    const emptied = await this.queue.flush(timeoutMs);
    this.queue.close();
    if (!emptied) this.options.logger.warn({ unsent: this.queue.stats().queued }, 'stopping with upstream messages unsent');
  }
}

function toMessage({ messageId, body }: QueuedMessage, droppedBefore: number): Message {
  const properties = messagePropertiesOf(body);
  if (droppedBefore > 0) properties['droppedBefore'] = droppedBefore;
  const message = jsonMessage(droppedBefore > 0 ? { ...body, droppedMessagesBefore: droppedBefore } : body, properties);
  message.messageId = messageId;
  return message;
}
