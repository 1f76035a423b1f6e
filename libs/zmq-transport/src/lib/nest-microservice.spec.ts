import { Controller, Inject, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload, type MicroserviceOptions } from '@nestjs/microservices';
import { frameCodec, type Frame } from '@iev/frame-protocol';
import type { Subscriber } from 'zeromq';
import { emitted, ipcEndpoints, publishUntil, testFrame } from '../test-support/zmq';
import { ClientZmq } from './client-zmq';
import { ServerZmq } from './server-zmq';
import { ZmqContext } from './zmq-context';

jest.setTimeout(20_000);

const ipc = ipcEndpoints();
afterAll(() => ipc.removeAll());

const RECEIVED = Symbol('RECEIVED');
type Received = Array<{ frame: Frame; topic: string }>;

@Controller()
class FramesController {
  constructor(@Inject(RECEIVED) private readonly received: Received) {}

  @EventPattern('frames')
  async onFrame(@Payload() frame: Frame, @Ctx() context: ZmqContext): Promise<void> {
    this.received.push({ frame, topic: context.getTopic() });
  }
}

function framesModule(received: Received) {
  @Module({ controllers: [FramesController], providers: [{ provide: RECEIVED, useValue: received }] })
  class FramesModule {}
  return FramesModule;
}

describe('ServerZmq in a Nest microservice', () => {
  it('delivers ClientZmq.emit frames to an @EventPattern controller and closes with the app', async () => {
    const endpoint = ipc.endpoint('nest');
    const received: Received = [];
    const server = new ServerZmq({ endpoint, codecs: { frames: frameCodec } });
    const app = await NestFactory.createMicroservice<MicroserviceOptions>(framesModule(received), { strategy: server, logger: false });
    await app.listen();
    const client = new ClientZmq({ endpoint, codecs: { frames: frameCodec } });

    try {
      await publishUntil('a frame reaches the controller', () => emitted(client, 'frames', testFrame('camera0', 12)), () => received.length > 0);

      expect(received[0]).toEqual({ frame: testFrame('camera0', 12), topic: 'frames' });
      expect(server.stats()).toMatchObject({ malformed: 0, handlerErrors: 0 });
    } finally {
      await client.close();
      const socket = app.unwrap<Subscriber>();
      await app.close();
      expect(socket.closed).toBe(true);
    }
  });
});
