import { BaseRpcContext } from '@nestjs/microservices';

/** What `@Ctx()` receives in a handler served by ServerZmq. */
export class ZmqContext extends BaseRpcContext<[topic: string, endpoint: string]> {
  /** The ZeroMQ topic (the event pattern) the message arrived on. */
  getTopic(): string {
    return this.args[0];
  }

  /** The endpoint of the socket it arrived on: which producer sent it when a server takes messages from several. */
  getEndpoint(): string {
    return this.args[1];
  }
}
