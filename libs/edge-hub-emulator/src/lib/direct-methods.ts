import type { Logger } from 'pino';
import { methodRequestTopic } from './topics';

export interface MethodResult {
  status: number;
  payload: unknown;
}

interface PendingMethod {
  moduleId: string;
  resolve: (result: MethodResult) => void;
  timer: NodeJS.Timeout;
}

/** IoT Hub's limit for a direct method's request and response payloads (128 KB). */
export const MAX_METHOD_PAYLOAD_BYTES = 128 * 1024;

/** Sends a message to a connected module (MQTT publish), resolved once handed to its connection. */
export type SendToModule = (topic: string, payload: string) => Promise<void>;

/** Direct method calls in flight, as IoT Hub keeps them: a request id each, answered by the module or timed out (504). */
export class DirectMethods {
  private readonly pending = new Map<string, PendingMethod>();
  private nextRequestId = 1;

  constructor(private readonly log: Logger) {}

  /**
   * Sends the call to a module that listens for methods; resolves with its answer, or a 504 after the timeout. A
   * payload over 128 KB is refused with a 400 without reaching the module, as IoT Hub (and edgeHub) refuse it.
   */
  async call(moduleId: string, methodName: string, payload: unknown, timeoutMs: number, send: SendToModule): Promise<MethodResult> {
    const body = JSON.stringify(payload ?? null);
    if (Buffer.byteLength(body) > MAX_METHOD_PAYLOAD_BYTES) {
      const message = `the payload of ${methodName} is ${Buffer.byteLength(body)} bytes, over the ${MAX_METHOD_PAYLOAD_BYTES} bytes a direct method may carry`;
      this.log.warn({ moduleId, methodName }, message);
      return { status: 400, payload: { message } };
    }
    const requestId = (this.nextRequestId++).toString(16);
    const result = new Promise<MethodResult>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        this.log.warn({ moduleId, methodName }, `${moduleId} did not answer ${methodName} within ${timeoutMs} ms`);
        resolve({ status: 504, payload: { errorCode: 504101, message: `${moduleId} did not answer ${methodName} within ${timeoutMs} ms` } });
      }, timeoutMs);
      this.pending.set(requestId, { moduleId, resolve, timer });
    });
    this.log.info({ moduleId, methodName, payload }, `invoking ${moduleId}.${methodName}`);
    await send(methodRequestTopic(methodName, requestId), body);
    return result;
  }

  /** A module's answer to a call (`$iothub/methods/res/<status>/?$rid=...`); one over 128 KB fails the call with a 400. */
  answer(moduleId: string, requestId: string, status: number, payload: Buffer): void {
    const pending = this.pending.get(requestId);
    if (!pending || pending.moduleId !== moduleId) {
      this.log.warn({ moduleId, requestId }, `${moduleId} answered a method call that is not pending (late, after a 504?)`);
      return;
    }
    clearTimeout(pending.timer);
    this.pending.delete(requestId);
    const result =
      payload.length > MAX_METHOD_PAYLOAD_BYTES
        ? { status: 400, payload: { message: `${moduleId}'s answer is ${payload.length} bytes, over the ${MAX_METHOD_PAYLOAD_BYTES} bytes a direct method may carry` } }
        : { status, payload: jsonOrText(payload) };
    this.log.info({ moduleId, ...result }, `${moduleId} answered ${status}`);
    pending.resolve(result);
  }

  /** Answers every call in flight with a 503, as the hub stops. */
  cancelAll(): void {
    for (const [requestId, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.resolve({ status: 503, payload: { message: 'the simulator stopped' } });
      this.pending.delete(requestId);
    }
  }
}

/** A method answer's payload: JSON when it parses, else the text; undefined when empty. */
function jsonOrText(payload: Buffer): unknown {
  const text = payload.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
