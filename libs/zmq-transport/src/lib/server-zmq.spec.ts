import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { frameCodec, ProtocolError, type Frame } from '@iev/frame-protocol';
import { filter, firstValueFrom, Observable } from 'rxjs';
import { Publisher, type Subscriber } from 'zeromq';
import { waitUntil } from '@iev/testing';
import { Closer, emitted, freeTcpEndpoint, gate, ipcEndpoints, publishUntil, testFrame } from '../test-support/zmq';
import { ClientZmq } from './client-zmq';
import { ServerZmq, type ServerZmqOptions } from './server-zmq';
import type { MalformedMessage, ZmqServerStats } from './zmq-event-server';
import { ZmqStatus } from './zmq-socket';

jest.setTimeout(20_000);

const ipc = ipcEndpoints();
afterAll(() => ipc.removeAll());

const FRAMES = 'frames';
const frameKey = (frame: Frame) => `${frame.sourceId}:${frame.sequence}`;

const opened = new Closer();
afterEach(() => opened.closeAll());

// Handler failures below are deliberate; Nest's logger would only add noise.
beforeAll(() => Logger.overrideLogger(false));

function listen(server: ServerZmq): Promise<void> {
  return new Promise((resolve, reject) => server.listen((error) => (error ? reject(error) : resolve())));
}

/** A ServerZmq on `endpoint` whose frames handler records every frame and may hold a frame for a while. */
async function startFrameServer(endpoint: string, options: Partial<ServerZmqOptions> = {}, holdFrame?: (frame: Frame) => Promise<void>) {
  const handled: string[] = [];
  const server = opened.add(new ServerZmq({ endpoint, codecs: { [FRAMES]: frameCodec }, ...options }));
  server.addHandler(
    FRAMES,
    async (frame: Frame) => {
      handled.push(frameKey(frame));
      await holdFrame?.(frame);
    },
    true,
  );
  await listen(server);
  return { server, handled };
}

function frameClient(endpoint: string, sendHighWaterMark?: number): ClientZmq {
  return opened.add(new ClientZmq({ endpoint, sendHighWaterMark, codecs: { [FRAMES]: frameCodec } }));
}

/**
 * A 'queue' ServerZmq whose JSON "events" handler records `n` and returns what `handle` returns, plus a
 * connected client; warm-up events carry n = 0.
 */
async function startEventServer(endpoint: string, handle: (n: number) => unknown) {
  const handled: number[] = [];
  const server = opened.add(new ServerZmq({ endpoint, delivery: 'queue' }));
  server.addHandler(
    'events',
    async ({ n }: { n: number }) => {
      handled.push(n);
      return handle(n);
    },
    true,
  );
  await listen(server);
  const client = opened.add(new ClientZmq({ endpoint }));
  const emit = (n: number) => emitted(client, 'events', { n });
  await publishUntil('warm-up events arrive', () => emit(0), () => handled.length > 0);
  return { server, handled, emit };
}

function delta(after: ZmqServerStats, before: ZmqServerStats): ZmqServerStats {
  return {
    received: after.received - before.received,
    dispatched: after.dispatched - before.dispatched,
    skipped: after.skipped - before.skipped,
    malformed: after.malformed - before.malformed,
    handlerErrors: after.handlerErrors - before.handlerErrors,
    refusedPeers: after.refusedPeers - before.refusedPeers,
  };
}

describe('ServerZmq', () => {
  it('receives frames from a publisher that starts after it, decoded by the pattern’s codec', async () => {
    const endpoint = ipc.endpoint('subscriber-first');
    const received: Frame[] = [];
    const server = opened.add(new ServerZmq({ endpoint, codecs: { [FRAMES]: frameCodec } }));
    server.addHandler(FRAMES, async (frame: Frame) => void received.push(frame), true);
    await listen(server);
    const connected = firstValueFrom(server.status.pipe(filter((status) => status === ZmqStatus.CONNECTED)));

    const client = frameClient(endpoint);
    await publishUntil('a frame arrives', () => emitted(client, FRAMES, testFrame('camera0', 7)), () => received.length > 0);

    expect(received[0]).toEqual(testFrame('camera0', 7));
    expect(Buffer.isBuffer(received[0].pixels)).toBe(true);
    await expect(connected).resolves.toBe(ZmqStatus.CONNECTED);
  });

  it('receives frames from a publisher that was already running (tcp)', async () => {
    const endpoint = await freeTcpEndpoint();
    const client = frameClient(endpoint);
    await client.connect();

    const { handled } = await startFrameServer(endpoint);
    await publishUntil('a frame arrives', () => emitted(client, FRAMES, testFrame('camera0', 1)), () => handled.length > 0);

    expect(handled[0]).toBe('camera0:1');
  });

  it('reconnects by itself when the publisher restarts', async () => {
    const endpoint = ipc.endpoint('restart');
    const { handled } = await startFrameServer(endpoint);
    const first = frameClient(endpoint);
    await publishUntil('the first publisher gets through', () => emitted(first, FRAMES, testFrame('before-restart', 1)), () => handled.length > 0);
    await first.close();

    const second = frameClient(endpoint);
    await publishUntil('the restarted publisher gets through', () => emitted(second, FRAMES, testFrame('after-restart', 1)), () => handled.includes('after-restart:1'));

    expect(handled).toContain('before-restart:1');
  });

  it.each([
    ['latest', { delivery: 'latest' }, ['busy:0', 'burst:10'], 9],
    ['queue', { delivery: 'queue', queueCapacity: 3 }, ['busy:0', 'burst:8', 'burst:9', 'burst:10'], 7],
  ] as const)('in %s mode a busy handler next gets only the newest frame(s); the rest count as skipped', async (_, options, expectedHandled, expectedSkipped) => {
    const endpoint = ipc.endpoint(`busy-${options.delivery}`);
    const busy = gate();
    const { server, handled } = await startFrameServer(endpoint, options, (frame) => (frame.sourceId === 'busy' ? busy.opened : Promise.resolve()));
    // A high-water mark above the burst, so the publisher drops nothing and every skip is the server's.
    const client = frameClient(endpoint, 1_000);
    await publishUntil('warm-up frames arrive', () => emitted(client, FRAMES, testFrame('warm-up', 0)), () => handled.length > 0);
    // ZeroMQ keeps order per connection: once this last frame is handled, every warm-up frame is accounted for.
    await emitted(client, FRAMES, testFrame('settled', 0));
    await waitUntil(() => handled.at(-1) === 'settled:0', 'the warm-up has settled');
    const before = server.stats();

    await emitted(client, FRAMES, testFrame('busy', 0));
    await waitUntil(() => handled.at(-1) === 'busy:0', 'the handler is busy');
    for (let sequence = 1; sequence <= 10; sequence++) await emitted(client, FRAMES, testFrame('burst', sequence));
    await waitUntil(() => server.stats().received - before.received === 11, 'the whole burst is received');
    busy.open();
    await waitUntil(() => handled.at(-1) === 'burst:10', 'the newest frame is handled');

    expect(handled.slice(handled.indexOf('busy:0'))).toEqual(expectedHandled);
    expect(delta(server.stats(), before)).toEqual({ received: 11, dispatched: expectedHandled.length, skipped: expectedSkipped, malformed: 0, handlerErrors: 0, refusedPeers: 0 });
  });

  it('counts and drops malformed messages, ignores look-alike topics, and keeps serving', async () => {
    const endpoint = ipc.endpoint('malformed');
    const publisher = opened.add(new Publisher({ linger: 0 }));
    await publisher.bind(endpoint);
    const { server, handled } = await startFrameServer(endpoint);
    const reports: MalformedMessage[] = [];
    server.on('malformed', (report) => reports.push(report));
    const sendFrame = (topic: string, frame: Frame) => publisher.send([topic, ...frameCodec.encode(frame)]);
    await publishUntil('warm-up frames arrive', () => sendFrame(FRAMES, testFrame('warm-up', 0)), () => handled.length > 0);

    const [header, pixels] = frameCodec.encode(testFrame('camera0', 1));
    await publisher.send([FRAMES, randomBytes(41), randomBytes(8)]); // noise where a header should be
    await publisher.send([FRAMES, randomBytes(64)]); // one part instead of two
    await publisher.send([FRAMES]); // topic only
    await publisher.send([FRAMES, header.subarray(0, 20), pixels]); // header cut inside the fixed fields
    await publisher.send([FRAMES, header.subarray(0, 3), pixels]); // header cut inside the preamble
    await sendFrame(`${FRAMES}.debug`, testFrame('look-alike', 1)); // matches the SUB prefix filter, not the pattern
    await sendFrame(FRAMES, testFrame('camera0', 2));
    await waitUntil(() => handled.includes('camera0:2'), 'the valid frame after the garbage is handled');

    expect(reports.map(({ pattern, error }) => [pattern, error instanceof ProtocolError && error.code])).toEqual([
      [FRAMES, 'BAD_MAGIC'],
      [FRAMES, 'BAD_PART_COUNT'],
      [FRAMES, 'BAD_PART_COUNT'],
      [FRAMES, 'TRUNCATED'],
      [FRAMES, 'TRUNCATED'],
    ]);
    expect(handled.filter((key) => !key.startsWith('warm-up'))).toEqual(['camera0:2']);
    const stats = server.stats();
    expect(stats.malformed).toBe(5);
    expect(stats.received).toBe(stats.dispatched + stats.skipped + stats.malformed);
  });

  it("counts each pattern's messages apart, where a link carries several (the preview's detections and announcements)", async () => {
    const endpoint = ipc.endpoint('two-patterns');
    const publisher = opened.add(new Publisher({ linger: 0 }));
    await publisher.bind(endpoint);
    const handled: string[] = [];
    const server = opened.add(new ServerZmq({ endpoint, delivery: 'queue' }));
    for (const pattern of ['events', 'announcements']) server.addHandler(pattern, async ({ n }: { n: number }) => void handled.push(`${pattern}:${n}`), true);
    await listen(server);
    const send = (pattern: string, n: number) => publisher.send([pattern, JSON.stringify({ n })]);
    await publishUntil('warm-up events arrive', () => send('events', 0), () => handled.length > 0);
    // ZeroMQ keeps order per connection: once this one is handled, every warm-up event is accounted for.
    await send('events', -1);
    await waitUntil(() => handled.at(-1) === 'events:-1', 'the warm-up has settled');
    const before = server.patternStats('events');

    for (const n of [1, 2, 3]) await send('events', n);
    await send('announcements', 1);
    await publisher.send(['announcements', '{ not json']);
    await send('announcements', 2);
    await waitUntil(() => handled.includes('events:3') && handled.includes('announcements:2'), 'the events and announcements are handled');

    const events = server.patternStats('events');
    expect({ ...events, received: events.received - before.received, dispatched: events.dispatched - before.dispatched }).toEqual({ received: 3, dispatched: 3, skipped: 0, malformed: 0, handlerErrors: 0 });
    expect(server.patternStats('announcements')).toEqual({ received: 3, dispatched: 2, skipped: 0, malformed: 1, handlerErrors: 0 });
    expect(server.stats()).toEqual({ received: events.received + 3, dispatched: events.dispatched + 2, skipped: 0, malformed: 1, handlerErrors: 0, refusedPeers: 0 });
  });

  it('caps a message part at the protocol maximum by default, and disconnects a peer that sends more than its cap', async () => {
    const capped = opened.add(new ServerZmq({ endpoint: ipc.endpoint('default-cap') }));
    capped.addHandler('events', async () => undefined, true);
    await listen(capped);
    expect(capped.unwrap<Subscriber>().maxMessageSize).toBe(16_384 * 16_384 * 4);

    const endpoint = ipc.endpoint('oversized');
    const handled: string[] = [];
    const server = opened.add(new ServerZmq({ endpoint, delivery: 'queue', maxMessageBytes: 1024 }));
    server.addHandler('events', async ({ text }: { text: string }) => void handled.push(text), true);
    await listen(server);
    const client = opened.add(new ClientZmq({ endpoint }));
    const disconnected = new Promise<void>((resolve) => server.on('disconnect', () => resolve()));
    await publishUntil('warm-up events arrive', () => emitted(client, 'events', { text: 'warm-up' }), () => handled.length > 0);

    const before = server.stats();
    await emitted(client, 'events', { text: 'x'.repeat(2000) });
    // ZeroMQ drops a peer that breaks the protocol for good (no reconnect): nothing of the part reached JavaScript.
    await disconnected;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(handled.every((text) => text === 'warm-up')).toBe(true);
    expect(server.stats().received).toBe(before.received);
  });

  it('counts a failing handler and goes on with the next message', async () => {
    const { server, handled, emit } = await startEventServer(ipc.endpoint('handler-error'), (n) => {
      if (n === 1) throw new Error('handler bug');
    });

    await emit(1);
    await emit(2);
    await waitUntil(() => handled.includes(2), 'the event after the failure is handled');

    expect(handled.filter((n) => n > 0)).toEqual([1, 2]);
    expect(server.stats().handlerErrors).toBe(1);
  });

  it('waits for an observable returned by the handler to complete before dispatching the next message', async () => {
    const completes = gate();
    const { server, handled, emit } = await startEventServer(ipc.endpoint('observable'), (n) =>
      n === 1 ? new Observable<never>((subscriber) => void completes.opened.then(() => subscriber.complete())) : undefined,
    );
    await emit(1);
    await waitUntil(() => handled.includes(1), 'the observable handler runs');

    await emit(2);
    await waitUntil(() => server.stats().received === server.stats().dispatched + 1, 'the next event is received');
    expect(handled.at(-1)).toBe(1);
    completes.open();
    await waitUntil(() => handled.includes(2), 'the next event is handled');
  });

  it('refuses request/response handlers, which PUB/SUB cannot answer', async () => {
    const server = opened.add(new ServerZmq({ endpoint: ipc.endpoint('rpc') }));
    server.addHandler('sum', async () => 3, false);

    await expect(listen(server)).rejects.toThrow('ServerZmq serves @EventPattern handlers only');
  });

  it('rejects a queue capacity that would not bound anything', () => {
    expect(() => new ServerZmq({ endpoint: ipc.endpoint('capacity'), delivery: 'queue', queueCapacity: 0 })).toThrow(RangeError);
  });

  it('close() closes the socket and stops both loops', async () => {
    const { server } = await startFrameServer(ipc.endpoint('close'));
    const socket = server.unwrap<Subscriber>();

    await server.close();

    expect(socket.closed).toBe(true);
    expect(() => server.unwrap()).toThrow('Not initialized');
  });
});
