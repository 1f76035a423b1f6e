import { BaseRpcContext } from '@nestjs/microservices';

/** What `@Ctx()` receives in a handler served by ServerZmq. */
export class ZmqContext extends BaseRpcContext<[topic: string]> {
  /** The ZeroMQ topic (the event pattern) the message arrived on. */
  getTopic(): string {
    return this.args[0];
  }
}
