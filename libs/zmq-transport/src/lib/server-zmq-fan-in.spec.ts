import { Logger } from '@nestjs/common';
import { frameCodec, FRAMES_TOPIC, type Frame } from '@iev/frame-protocol';
import { waitUntil } from '@iev/testing';
import { Router } from 'zeromq';
import { Closer, emitted, gate, ipcEndpoints, testFrame } from '../test-support/zmq';
import { ClientZmqOnDemand } from './client-zmq-on-demand';
import { ServerZmqFanIn } from './server-zmq-fan-in';
import type { ZmqContext } from './zmq-context';
import { ZmqStatus } from './zmq-socket';

jest.setTimeout(20_000);

const ipc = ipcEndpoints();
afterAll(() => ipc.removeAll());

const opened = new Closer();
afterEach(() => opened.closeAll());
beforeAll(() => Logger.overrideLogger(false));

/** A capture stand-in: emits frames of `sourceId` each time a consumer wants one, until closed. */
function producer(endpoint: string, sourceId: string): ClientZmqOnDemand {
  const client = opened.add(new ClientZmqOnDemand({ endpoint, codecs: { [FRAMES_TOPIC]: frameCodec } }));
  let closed = false;
  void (async () => {
    await client.connect();
    for (let sequence = 0; !closed; sequence++) {
      await client.whenWanted(FRAMES_TOPIC);
      if (!closed) await emitted(client, FRAMES_TOPIC, testFrame(sourceId, sequence));
    }
  })().catch(() => undefined); // a socket closed mid-emit ends the loop
  const close = client.close.bind(client);
  client.close = () => {
    closed = true;
    return close();
  };
  return client;
}

/** A fan-in consumer whose handler records what came from where, and may hold a frame as long as `hold` says. */
async function fanIn(endpoints: string[], hold?: (frame: Frame) => Promise<void>) {
  const handled: Array<{ sourceId: string; sequence: number; endpoint: string }> = [];
  const server = opened.add(new ServerZmqFanIn({ endpoints, codecs: { [FRAMES_TOPIC]: frameCodec }, requestRepeatMs: 100 }));
  server.addHandler(
    FRAMES_TOPIC,
    async (frame: Frame, context: ZmqContext) => {
      handled.push({ sourceId: frame.sourceId, sequence: frame.sequence, endpoint: context.getEndpoint() });
      await hold?.(frame);
    },
    true,
  );
  await new Promise<void>((resolve, reject) => server.listen((error) => (error ? reject(error) : resolve())));
  const from = (sourceId: string) => handled.filter((frame) => frame.sourceId === sourceId);
  return { server, handled, from };
}

describe('ServerZmqFanIn', () => {
  it('takes frames from every producer on a socket of its own; the handler knows which endpoint each came from', async () => {
    const endpoints = [ipc.endpoint('camera0'), ipc.endpoint('camera1')];
    producer(endpoints[0], 'camera0');
    producer(endpoints[1], 'camera1');
    const { server, from } = await fanIn(endpoints);

    await waitUntil(() => from('camera0').length >= 3 && from('camera1').length >= 3, 'frames from both cameras');
    expect(new Set(from('camera0').map((frame) => frame.endpoint))).toEqual(new Set([endpoints[0]]));
    expect(new Set(from('camera1').map((frame) => frame.endpoint))).toEqual(new Set([endpoints[1]]));
    // Each producer's frames arrive in its own order: no request dealt to the wrong producer, no ordinal mixed up.
    for (const sourceId of ['camera0', 'camera1']) {
      const sequences = from(sourceId).map((frame) => frame.sequence);
      expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    }
    const stats = server.stats();
    expect(stats.endpoints.map(({ endpoint, status }) => [endpoint, status])).toEqual(endpoints.map((endpoint) => [endpoint, ZmqStatus.CONNECTED]));
    expect(stats.received).toBe(stats.endpoints[0].received + stats.endpoints[1].received);
  });

  it('keeps serving the others while one producer stalls in the handler, sends garbage, or goes away and comes back', async () => {
    const [stalled, garbled, steady] = [ipc.endpoint('stalled'), ipc.endpoint('garbled'), ipc.endpoint('steady')];
    const stall = gate();
    producer(stalled, 'stalled');
    let steadyProducer = producer(steady, 'steady');
    const garbage = opened.add(new Router({ linger: 0 }));
    await garbage.bind(garbled);
    const { server, from } = await fanIn([stalled, garbled, steady], (frame) => (frame.sourceId === 'stalled' ? stall.opened : Promise.resolve()));

    // The garbage producer answers each request with bytes that are no frame.
    void (async () => {
      for await (const [identity] of garbage) await garbage.send([identity, FRAMES_TOPIC, '1', 'not a frame']);
    })().catch(() => undefined); // ends when the socket closes
    await waitUntil(() => from('stalled').length === 1 && from('steady').length >= 10, 'steady frames while the stalled one is held');
    await waitUntil(() => server.stats().endpoints[1].malformed >= 3, 'garbage counted');
    const [stalledLink, garbledLink, steadyLink] = server.stats().endpoints;
    expect(garbledLink).toMatchObject({ endpoint: garbled, received: garbledLink.malformed, dispatched: 0 });
    expect([stalledLink.malformed, steadyLink.malformed]).toEqual([0, 0]);

    await steadyProducer.close();
    const before = from('steady').length;
    steadyProducer = producer(steady, 'steady');
    await waitUntil(() => from('steady').length >= before + 3, 'frames from the producer that came back');
    stall.open();
    await waitUntil(() => from('stalled').length >= 2, 'the stalled producer served again once its handler is free');
  });

  it('refuses no endpoint and an endpoint given twice', () => {
    expect(() => new ServerZmqFanIn({ endpoints: [] })).toThrow('at least one endpoint');
    expect(() => new ServerZmqFanIn({ endpoints: ['ipc:///tmp/a', 'ipc:///tmp/a'] })).toThrow('repeated: ipc:///tmp/a');
  });
});
