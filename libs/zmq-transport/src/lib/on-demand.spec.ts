import { Logger } from '@nestjs/common';
import { frameCodec, type Frame } from '@iev/frame-protocol';
import { networkInterfaces } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Dealer, Router } from 'zeromq';
import { eventually, freePort, waitUntil } from '@iev/testing';
import { Closer, emitted, freeTcpEndpoint, gate, ipcEndpoints, testFrame } from '../test-support/zmq';
import { ClientZmqOnDemand, type ClientZmqOnDemandOptions } from './client-zmq-on-demand';
import { MAX_PATTERN_BYTES, MAX_REQUEST_PART_BYTES } from './on-demand-wire';
import { ServerZmqOnDemand } from './server-zmq-on-demand';

jest.setTimeout(20_000);

const ipc = ipcEndpoints();
afterAll(() => ipc.removeAll());

const FRAMES = 'frames';
const opened = new Closer();
afterEach(() => opened.closeAll());
beforeAll(() => Logger.overrideLogger(false));

function producer(endpoint: string, options: Partial<ClientZmqOnDemandOptions> = {}): ClientZmqOnDemand {
  return opened.add(new ClientZmqOnDemand({ endpoint, codecs: { [FRAMES]: frameCodec }, ...options }));
}

/**
 * A consumer whose handler records each frame's sequence and, when `hold` is given, stays busy until it resolves;
 * `follow`: it takes only frames the other consumers take.
 */
async function consumer(endpoint: string, hold?: (frame: Frame) => Promise<void>, follow = false) {
  const handled: number[] = [];
  const server = opened.add(new ServerZmqOnDemand({ endpoint, codecs: { [FRAMES]: frameCodec }, requestRepeatMs: 100, follow }));
  server.addHandler(
    FRAMES,
    async (frame: Frame) => {
      handled.push(frame.sequence);
      await hold?.(frame);
    },
    true,
  );
  await new Promise<void>((resolve, reject) => server.listen((error) => (error ? reject(error) : resolve())));
  return { server, handled };
}

describe('ClientZmqOnDemand + ServerZmqOnDemand', () => {
  it('hands a consumer that becomes free the newest frame, and sends nothing it did not ask for', async () => {
    const endpoint = ipc.endpoint('newest');
    const client = producer(endpoint);
    await client.connect();
    const busy = gate();
    const { server, handled } = await consumer(endpoint, (frame) => (frame.sequence === 0 ? busy.opened : Promise.resolve()));

    await client.whenWanted(FRAMES);
    await emitted(client, FRAMES, testFrame('cam', 0));
    await waitUntil(() => handled.length === 1, 'the first frame');
    for (let sequence = 1; sequence <= 5; sequence++) await emitted(client, FRAMES, testFrame('cam', sequence));
    busy.open();
    await waitUntil(() => handled.length === 2, 'the frame after the busy one');

    expect(handled).toEqual([0, 5]);
    expect(client.stats()).toMatchObject({ sent: 2, unclaimed: 4 });
    expect(server.stats()).toMatchObject({ received: 2, dispatched: 2, skipped: 0, malformed: 0 });
  });

  it('does not send again the frame a consumer had once it is heard from after being forgotten for its silence (the producer stopped, say)', async () => {
    const endpoint = ipc.endpoint('silent');
    // Forgotten 200 ms after its last request; busy with its first frame for 600 ms, it says nothing meanwhile.
    const client = producer(endpoint, { peerTimeoutMs: 200 });
    await client.connect();
    const handled: number[] = [];
    const server = opened.add(new ServerZmqOnDemand({ endpoint, codecs: { [FRAMES]: frameCodec }, requestRepeatMs: 5000 }));
    server.addHandler(FRAMES, async (frame: Frame) => {
      handled.push(frame.sequence);
      if (frame.sequence === 0) await sleep(600);
    }, true);
    await new Promise<void>((resolve, reject) => server.listen((error) => (error ? reject(error) : resolve())));

    await client.whenWanted(FRAMES);
    await emitted(client, FRAMES, testFrame('cam', 0));
    await waitUntil(() => handled.length === 1, 'the first frame');
    await sleep(600 + 300);
    expect(handled).toEqual([0]);
    await emitted(client, FRAMES, testFrame('cam', 1));
    await waitUntil(() => handled.length === 2, 'the next frame');
    expect(handled).toEqual([0, 1]);
  });

  it('lets a producer wait for demand: whenWanted resolves only once a consumer has had the newest and asks again', async () => {
    const endpoint = ipc.endpoint('demand');
    const client = producer(endpoint);
    await client.connect();
    expect(client.wanted(FRAMES)).toBe(false);
    const { handled } = await consumer(endpoint);

    const produced: number[] = [];
    for (let sequence = 0; sequence < 5; sequence++) {
      await client.whenWanted(FRAMES);
      await emitted(client, FRAMES, testFrame('cam', sequence));
      produced.push(sequence);
    }
    await waitUntil(() => handled.length === 5, 'five frames');
    expect(handled).toEqual(produced);
    expect(client.stats().unclaimed).toBe(0);
  });

  it('gives each of two consumers the newest frame at its own pace', async () => {
    const endpoint = ipc.endpoint('two');
    const client = producer(endpoint);
    await client.connect();
    const fast = await consumer(endpoint);
    const slow = await consumer(endpoint, () => new Promise((resolve) => setTimeout(resolve, 150)));

    for (let sequence = 0; sequence < 40; sequence++) {
      await emitted(client, FRAMES, testFrame('cam', sequence));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await waitUntil(() => fast.handled.includes(39), 'the last frame at the fast consumer');

    expect(fast.handled.length).toBeGreaterThan(30);
    expect(slow.handled.length).toBeGreaterThan(1);
    expect(slow.handled.length).toBeLessThan(10);
    for (const { handled } of [fast, slow]) expect([...handled].sort((a, b) => a - b)).toEqual(handled);
  });

  it('gives a follower only frames the other consumer takes, and decodes none for it alone', async () => {
    const endpoint = ipc.endpoint('follow');
    const client = producer(endpoint);
    await client.connect();
    // The follower is free far more often than the leader: alone, it would ask for a frame every time.
    const follower = await consumer(endpoint, undefined, true);
    const leader = await consumer(endpoint, () => sleep(40));
    await waitUntil(() => client.stats().consumers === 2, 'both consumers');

    const produced: number[] = [];
    for (let sequence = 0; sequence < 12; sequence++) {
      await client.whenWanted(FRAMES);
      await emitted(client, FRAMES, testFrame('cam', sequence));
      produced.push(sequence);
    }
    await waitUntil(() => leader.handled.length === 12, 'every frame at the leader');
    await waitUntil(() => follower.handled.length === 12, 'every frame at the follower');
    expect(follower.handled).toEqual(produced); // each frame the leader took, once
    expect(client.stats().unclaimed).toBe(0);
  });

  it('serves a follower like any consumer once the one it follows has gone', async () => {
    const endpoint = ipc.endpoint('follow-alone');
    const client = producer(endpoint, { peerTimeoutMs: 300 });
    await client.connect();
    const follower = await consumer(endpoint, undefined, true);
    const leader = await consumer(endpoint);
    await waitUntil(() => client.stats().consumers === 2, 'both consumers');
    await client.whenWanted(FRAMES);
    await emitted(client, FRAMES, testFrame('cam', 0));
    await waitUntil(() => follower.handled.length === 1, 'the first frame at the follower');

    await leader.server.close();
    await waitUntil(() => client.stats().consumers === 1, 'the leader forgotten');
    await client.whenWanted(FRAMES); // the follower's own want, now
    await emitted(client, FRAMES, testFrame('cam', 1));
    await waitUntil(() => follower.handled.length === 2, 'a frame for the follower alone');
    expect(leader.handled).toEqual([0]);
  });

  it('starts in any order and carries on across a producer restart', async () => {
    const endpoint = await freeTcpEndpoint();
    const { handled } = await consumer(endpoint);
    const first = producer(endpoint);
    await first.connect();
    await first.whenWanted(FRAMES);
    await emitted(first, FRAMES, testFrame('cam', 1));
    await waitUntil(() => handled.includes(1), 'a frame from the first producer');
    await first.close();

    const second = producer(endpoint);
    // ZeroMQ releases the port in its own thread after close(): bind again until it is free, as a restarted module would find it.
    await eventually(() => second.connect().then(() => true, () => undefined), 'the port to be free again');
    await second.whenWanted(FRAMES); // the consumer's request reaches the new producer on reconnect (or its repeat)
    await emitted(second, FRAMES, testFrame('cam', 2));
    await waitUntil(() => handled.includes(2), 'a frame from the restarted producer');
  });

  // Some containers run without IPv6, loopback included.
  const hasIpv6Loopback = Object.values(networkInterfaces()).some((addresses) => addresses?.some(({ family, address }) => family === 'IPv6' && address === '::1'));
  (hasIpv6Loopback ? it : it.skip)(
    `carries frames over IPv6: bound on tcp://[::], taken over tcp://[::1] and over tcp://127.0.0.1${hasIpv6Loopback ? '' : ' (skipped: this machine has no IPv6 loopback, ::1)'}`,
    async () => {
      const port = await freePort();
      const client = producer(`tcp://[::]:${port}`);
      await client.connect();
      const overIpv6 = await consumer(`tcp://[::1]:${port}`);
      const overIpv4 = await consumer(`tcp://127.0.0.1:${port}`);
      await waitUntil(() => client.stats().consumers === 2, 'both consumers');

      await client.whenWanted(FRAMES);
      await emitted(client, FRAMES, testFrame('cam', 0));
      await waitUntil(() => overIpv6.handled.length === 1 && overIpv4.handled.length === 1, 'the frame at both consumers');
    },
  );

  it('holds a sent buffer until the consumer asks again, so the producer knows when it may reuse it', async () => {
    const endpoint = ipc.endpoint('holds');
    const client = producer(endpoint);
    await client.connect();
    const busy = gate();
    const { handled } = await consumer(endpoint, () => busy.opened);
    const frame = { ...testFrame('cam', 0), width: 64, height: 64, stride: 64, pixels: Buffer.alloc(64 * 64) };

    await client.whenWanted(FRAMES);
    await emitted(client, FRAMES, frame);
    await emitted(client, FRAMES, testFrame('cam', 1)); // frame 0 is no longer the newest
    await waitUntil(() => handled.length === 1, 'the frame');
    expect(client.holds(frame.pixels.buffer)).toBe(true);

    busy.open();
    await waitUntil(() => !client.holds(frame.pixels.buffer), 'the buffer to be released by the next request');
  });

  it('forgets a consumer that has gone: it no longer counts as waiting', async () => {
    const endpoint = ipc.endpoint('gone');
    const client = producer(endpoint, { peerTimeoutMs: 300 });
    await client.connect();
    const { server } = await consumer(endpoint);
    await client.whenWanted(FRAMES);
    expect(client.stats().consumers).toBe(1);

    await server.close();
    await waitUntil(() => client.stats().consumers === 0, 'the consumer to be forgotten');
    expect(client.wanted(FRAMES)).toBe(false);
  });

  it('keeps a consumer whose handler is busy for longer than the producer waits for a silent one', async () => {
    const endpoint = ipc.endpoint('busy-long');
    const client = producer(endpoint, { peerTimeoutMs: 300 });
    await client.connect();
    const busy = gate();
    const { handled } = await consumer(endpoint, () => busy.opened);
    await client.whenWanted(FRAMES);
    await emitted(client, FRAMES, testFrame('cam', 0));
    await waitUntil(() => handled.length === 1, 'the frame');

    await sleep(1000);
    // Still there, and wanting nothing while busy: a frame now would be for nobody.
    expect(client.stats().consumers).toBe(1);
    expect(client.wanted(FRAMES)).toBe(false);
    busy.open();
    await client.whenWanted(FRAMES);
  });

  /** A producer, and a bare DEALER connected to it that sends whatever a test writes. */
  async function producerAndRawPeer(endpoint: string) {
    const client = producer(endpoint);
    await client.connect();
    const raw = opened.add(new Dealer({ linger: 0 }));
    raw.connect(endpoint);
    return { client, raw };
  }

  it('counts and drops malformed requests and a pattern too many, and goes on serving that peer and the others', async () => {
    const endpoint = ipc.endpoint('malformed');
    const { client, raw } = await producerAndRawPeer(endpoint);
    const longPattern = 'f'.repeat(MAX_PATTERN_BYTES + 1);
    for (const request of [[FRAMES, '1'], [FRAMES, 'many', '0'], [FRAMES, '-1', '0'], [FRAMES, '1', '0x1'], [FRAMES, '1', '0', 'extra'], [FRAMES, '1'.repeat(40), '0'], [longPattern, '1', '0']]) await raw.send(request);
    // Sixteen patterns are remembered for a peer; a seventeenth is refused (DemandLedger throws), and counted.
    for (let pattern = 0; pattern < 16; pattern++) await raw.send([`other-${pattern}`, '0', '0']);
    await raw.send(['one-too-many', '1', '0']);
    await raw.send(['other-0', '1', '0']);
    const { handled } = await consumer(endpoint);

    await client.whenWanted('other-0');
    await emitted(client, 'other-0', 'after the refusal');
    expect((await raw.receive()).map(String)).toEqual(['other-0', '1', '"after the refusal"']);
    await client.whenWanted(FRAMES);
    await emitted(client, FRAMES, testFrame('cam', 0));
    await waitUntil(() => handled.length === 1, 'the frame at the other consumer');
    expect(client.stats().malformedRequests).toBe(8);
  });

  it('cuts off a peer whose request part is larger than any request, and serves the others', async () => {
    const endpoint = ipc.endpoint('oversized');
    const { client, raw } = await producerAndRawPeer(endpoint);
    await raw.send([Buffer.alloc(MAX_REQUEST_PART_BYTES + 1, 'x'), '1', '0']);
    const { handled } = await consumer(endpoint);

    await client.whenWanted(FRAMES);
    await emitted(client, FRAMES, testFrame('cam', 0));
    await waitUntil(() => handled.length === 1, 'the frame at the well-behaved consumer');
    expect(client.stats()).toMatchObject({ consumers: 1, malformedRequests: 0 });
  });
});

describe('ServerZmqOnDemand against a producer that sends garbage', () => {
  it('asks it again backing off to ~10 requests a second, and serves it again once it sends frames', async () => {
    const endpoint = ipc.endpoint('garbage');
    const garbage = opened.add(new Router({ linger: 0 }));
    await garbage.bind(endpoint);
    let answerWithFrame = false;
    let ordinal = 0;
    void (async () => {
      for await (const [identity] of garbage) {
        const parts = answerWithFrame ? frameCodec.encode(testFrame('cam', ordinal)) : [Buffer.from('not a frame')];
        await garbage.send([identity, FRAMES, String(++ordinal), ...parts]);
      }
    })().catch(() => undefined); // ends when the socket closes
    const { server, handled } = await consumer(endpoint);

    await waitUntil(() => server.stats().malformed >= 10, 'ten malformed frames');
    const before = server.stats().malformed;
    await sleep(1000);
    // 10 ms doubling to 100 ms between requests: ~10 in a second once backed off (this consumer's 100 ms repeat
    // adds about as many), not the thousands of a request at once after each.
    expect(server.stats().malformed - before).toBeLessThanOrEqual(25);

    answerWithFrame = true;
    await waitUntil(() => handled.length >= 5, 'frames once the producer sends good ones');
  });
});
