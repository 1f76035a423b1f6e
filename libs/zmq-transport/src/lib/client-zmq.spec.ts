import { frameCodec } from '@iev/frame-protocol';
import { filter, firstValueFrom, lastValueFrom } from 'rxjs';
import { Subscriber, type Publisher } from 'zeromq';
import { Closer, emitted, ipcEndpoints, publishUntil, testFrame } from '../test-support/zmq';
import { ClientZmq } from './client-zmq';
import { ZmqStatus } from './zmq-socket';

jest.setTimeout(20_000);

const ipc = ipcEndpoints();
afterAll(() => ipc.removeAll());

const opened = new Closer();
afterEach(() => opened.closeAll());

/** A raw zeromq subscriber, as a non-Nest consumer (the bench CLI) reads the wire. */
function rawSubscriber(endpoint: string, topic: string) {
  const socket = opened.add(new Subscriber({ linger: 0 }));
  socket.connect(endpoint);
  socket.subscribe(topic);
  const messages: Buffer[][] = [];
  void (async () => {
    for await (const message of socket) messages.push(message);
  })();
  return messages;
}

describe('ClientZmq', () => {
  it('binds lazily: no socket before the first emit, a listening PUB after it', async () => {
    const client = opened.add(new ClientZmq({ endpoint: ipc.endpoint('lazy') }));
    expect(() => client.unwrap()).toThrow('Not initialized');

    await emitted(client, 'events', { n: 1 });

    expect(client.unwrap<Publisher>().closed).toBe(false);
    await expect(firstValueFrom(client.status)).resolves.toBe(ZmqStatus.LISTENING);
  });

  it('takes emits from several callers at once in turn: zeromq.js refuses a send while one waits (EBUSY)', async () => {
    const endpoint = ipc.endpoint('turns');
    const client = opened.add(new ClientZmq({ endpoint }));
    await client.connect();
    // zeromq.js sends 512 in a row at once and makes the next wait for the event loop: a send beside that one failed.
    const emits = Array.from({ length: 2000 }, (_, n) => emitted(client, n % 2 === 0 ? 'detections' : 'sources', { n }));

    await expect(Promise.all(emits)).resolves.toHaveLength(2000);
  });

  it('puts [topic, ...codec parts] on the wire, JSON for patterns without a codec', async () => {
    const endpoint = ipc.endpoint('wire');
    const client = opened.add(new ClientZmq({ endpoint, codecs: { frames: frameCodec } }));
    await client.connect();
    const frames = rawSubscriber(endpoint, 'frames');
    const events = rawSubscriber(endpoint, 'events');

    await publishUntil('a frame arrives', () => emitted(client, 'frames', testFrame('camera0', 3)), () => frames.length > 0);
    await publishUntil('an event arrives', () => emitted(client, 'events', { n: 1 }), () => events.length > 0);

    const [topic, ...parts] = frames[0];
    expect(topic.toString()).toBe('frames');
    expect(frameCodec.decode(parts)).toEqual(testFrame('camera0', 3));
    expect(events[0].map((part) => part.toString())).toEqual(['events', '{"n":1}']);
  });

  it('tells listeners and status when a subscriber connects, even if registered before connect()', async () => {
    const endpoint = ipc.endpoint('events');
    const client = opened.add(new ClientZmq({ endpoint }));
    const accepted: string[] = [];
    client.on('accept', ({ address }) => accepted.push(address));
    const connected = firstValueFrom(client.status.pipe(filter((status) => status === ZmqStatus.CONNECTED)));
    await client.connect();

    rawSubscriber(endpoint, 'events');

    await expect(connected).resolves.toBe(ZmqStatus.CONNECTED);
    expect(accepted).toEqual([endpoint]);
  });

  it('fails send() with an error that says request/response is not supported', async () => {
    const client = opened.add(new ClientZmq({ endpoint: ipc.endpoint('send') }));

    await expect(lastValueFrom(client.send('sum', [1, 2]))).rejects.toThrow('request/response is not supported on this transport; use emit()');
  });

  it('fails connect() when the endpoint cannot be bound, and can try again', async () => {
    const client = opened.add(new ClientZmq({ endpoint: 'tcp://256.0.0.1:1' }));

    await expect(client.connect()).rejects.toThrow();
    await expect(client.connect()).rejects.toThrow();
    expect(() => client.unwrap()).toThrow('Not initialized');
  });

  it('close() is safe before connect() and twice', async () => {
    const client = new ClientZmq({ endpoint: ipc.endpoint('close') });
    await client.close();
    const socket = await client.connect();

    await client.close();
    await client.close();

    expect(socket.closed).toBe(true);
  });
});
