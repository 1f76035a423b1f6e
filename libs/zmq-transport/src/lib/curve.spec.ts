import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import { frameCodec, type Frame } from '@iev/frame-protocol';
import { eventually, waitUntil } from '@iev/testing';
import { curveKeyPair, Reply, type Publisher, type Router } from 'zeromq';
import { Closer, emitted, freeTcpEndpoint, publishUntil, testFrame } from '../test-support/zmq';
import { ClientZmq } from './client-zmq';
import { ClientZmqOnDemand } from './client-zmq-on-demand';
import { curvePublicKey, isZ85Key } from './curve-keys';
import { ServerZmq } from './server-zmq';
import { ServerZmqOnDemand } from './server-zmq-on-demand';
import type { CurveOptions } from './zmq-socket';

jest.setTimeout(20_000);

const FRAMES = 'frames';
const opened = new Closer();
afterEach(() => opened.closeAll());
beforeAll(() => Logger.overrideLogger(false));

/** How long a peer that must get nothing is given to get something anyway. */
const NOTHING_WINDOW_MS = 1_000;

const producerKeys = curveKeyPair();
const consumerKeys = curveKeyPair();
const strangerKeys = curveKeyPair();

/** Starts a consumer that records the sequences it handles. */
async function consumer<S extends ServerZmq | ServerZmqOnDemand>(server: S): Promise<{ server: S; handled: number[] }> {
  const handled: number[] = [];
  opened.add(server).addHandler(FRAMES, async (frame: Frame) => void handled.push(frame.sequence), true);
  await new Promise<void>((resolve, reject) => server.listen((error) => (error ? reject(error) : resolve())));
  return { server, handled };
}

const subscriber = (endpoint: string, curve?: CurveOptions) => consumer(new ServerZmq({ endpoint, codecs: { [FRAMES]: frameCodec }, curve }));
const onDemandConsumer = (endpoint: string, curve?: CurveOptions) =>
  consumer(new ServerZmqOnDemand({ endpoint, codecs: { [FRAMES]: frameCodec }, requestRepeatMs: 100, curve }));

/** Publishes frames every 20 ms for `ms`. */
async function publishFor(client: ClientZmq, ms: number): Promise<void> {
  for (let sequence = 0, end = Date.now() + ms; Date.now() < end; sequence++) {
    await emitted(client, FRAMES, testFrame('cam', sequence));
    await sleep(20);
  }
}

describe('CURVE keys', () => {
  it('derives the public key ZeroMQ pairs with a secret key', () => {
    for (let pair = 0; pair < 20; pair++) {
      const { publicKey, secretKey } = curveKeyPair();
      expect(curvePublicKey(secretKey)).toBe(publicKey);
    }
  });

  it('tells Z85 keys from text that is not one', () => {
    expect(isZ85Key(producerKeys.publicKey)).toBe(true);
    expect(isZ85Key(producerKeys.publicKey.slice(1))).toBe(false);
    expect(isZ85Key(`${producerKeys.publicKey.slice(1)}~`)).toBe(false);
    expect(isZ85Key('#'.repeat(40))).toBe(false); // beyond 32 bits per 5 characters
    expect(() => curvePublicKey('not a key')).toThrow('40 characters of Z85');
  });
});

describe('CURVE on PUB/SUB (ClientZmq -> ServerZmq)', () => {
  const publisher = (endpoint: string, clientKeys?: string[]) =>
    opened.add(new ClientZmq({ endpoint, codecs: { [FRAMES]: frameCodec }, curve: { secretKey: producerKeys.secretKey, clientKeys } }));

  it('delivers to a subscriber that knows the publisher key and is listed, encrypted', async () => {
    const endpoint = await freeTcpEndpoint();
    const client = publisher(endpoint, [consumerKeys.publicKey]);
    await client.connect();
    const { handled } = await subscriber(endpoint, { secretKey: consumerKeys.secretKey, serverKey: producerKeys.publicKey });

    let sequence = 0;
    await publishUntil('an encrypted frame', () => emitted(client, FRAMES, testFrame('cam', sequence++)), () => handled.length > 0);

    expect(client.unwrap<Publisher>().securityMechanism).toBe('curve');
    expect(client.stats().refusedPeers).toBe(0);
  });

  it('gives a subscriber with the wrong server key nothing: its handshake fails', async () => {
    const endpoint = await freeTcpEndpoint();
    const client = publisher(endpoint);
    await client.connect();
    let failedHandshakes = 0;
    client.on('handshake:error:protocol', () => failedHandshakes++);
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const { handled } = await subscriber(endpoint, { secretKey: consumerKeys.secretKey, serverKey: strangerKeys.publicKey });

    await publishFor(client, NOTHING_WINDOW_MS);
    await waitUntil(() => failedHandshakes > 0, 'a failed handshake at the publisher');

    expect(handled).toEqual([]);
    // Logged once per run of failures at each end, however often ZeroMQ retries.
    const handshakeWarnings = warn.mock.calls.filter(([message]) => String(message).startsWith(`Handshake with ${endpoint} failed`));
    expect(handshakeWarnings).toHaveLength(2);
    warn.mockRestore();
  });

  it('gives a plain subscriber nothing', async () => {
    const endpoint = await freeTcpEndpoint();
    const client = publisher(endpoint);
    await client.connect();
    const { handled } = await subscriber(endpoint);

    await publishFor(client, NOTHING_WINDOW_MS);

    expect(handled).toEqual([]);
  });

  it('refuses, counts and logs a subscriber whose key is not listed, and gives it nothing', async () => {
    const endpoint = await freeTcpEndpoint();
    const client = publisher(endpoint, [consumerKeys.publicKey]);
    await client.connect();
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const { handled } = await subscriber(endpoint, { secretKey: strangerKeys.secretKey, serverKey: producerKeys.publicKey });

    await publishFor(client, NOTHING_WINDOW_MS);
    await waitUntil(() => client.stats().refusedPeers > 0, 'the refusal');

    expect(handled).toEqual([]);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining(`its public key ${strangerKeys.publicKey} is not among the allowed client keys`));
    warn.mockRestore();
  });
});

describe('CURVE on demand (ClientZmqOnDemand -> ServerZmqOnDemand)', () => {
  const producer = (endpoint: string, clientKeys?: string[]) =>
    opened.add(new ClientZmqOnDemand({ endpoint, codecs: { [FRAMES]: frameCodec }, curve: { secretKey: producerKeys.secretKey, clientKeys } }));

  it('delivers what a listed consumer asks for, encrypted', async () => {
    const endpoint = await freeTcpEndpoint();
    const client = producer(endpoint, [consumerKeys.publicKey]);
    await client.connect();
    const { handled } = await onDemandConsumer(endpoint, { secretKey: consumerKeys.secretKey, serverKey: producerKeys.publicKey });

    await client.whenWanted(FRAMES);
    await emitted(client, FRAMES, testFrame('cam', 7));
    await waitUntil(() => handled.length > 0, 'the frame asked for');

    expect(handled).toEqual([7]);
    expect(client.unwrap<Router>().securityMechanism).toBe('curve');
  });

  it('never hears from a consumer with the wrong server key', async () => {
    const endpoint = await freeTcpEndpoint();
    const client = producer(endpoint);
    await client.connect();
    let failedHandshakes = 0;
    client.on('handshake:error:protocol', () => failedHandshakes++);
    const { server, handled } = await onDemandConsumer(endpoint, { secretKey: consumerKeys.secretKey, serverKey: strangerKeys.publicKey });

    await waitUntil(() => failedHandshakes > 0 && server.stats().requests > 5, 'failed handshakes while the consumer keeps asking');
    await emitted(client, FRAMES, testFrame('cam', 1));
    await sleep(NOTHING_WINDOW_MS);

    expect(client.stats()).toMatchObject({ requests: 0, sent: 0 });
    expect(handled).toEqual([]);
  });

  it('refuses and counts a consumer whose key is not listed, while a listed one is served by the same process', async () => {
    const endpoint = await freeTcpEndpoint();
    const client = producer(endpoint, [consumerKeys.publicKey]);
    await client.connect();
    const stranger = await onDemandConsumer(endpoint, { secretKey: strangerKeys.secretKey, serverKey: producerKeys.publicKey });
    const listed = await onDemandConsumer(endpoint, { secretKey: consumerKeys.secretKey, serverKey: producerKeys.publicKey });

    await waitUntil(() => client.stats().refusedPeers > 0 && client.wanted(FRAMES), 'the refusal and the listed consumer asking');
    await emitted(client, FRAMES, testFrame('cam', 3));
    await waitUntil(() => listed.handled.length > 0, 'the listed consumer served');
    await sleep(NOTHING_WINDOW_MS / 2);

    expect(listed.handled).toEqual([3]);
    expect(stranger.handled).toEqual([]);
    expect(client.stats().consumers).toBe(1);
  });
});

describe('CURVE set-up', () => {
  it('refuses to connect without the server key, or with a key that is not Z85', async () => {
    const endpoint = await freeTcpEndpoint();
    await expect(onDemandConsumer(endpoint, { secretKey: consumerKeys.secretKey })).rejects.toThrow('needs the public key of the socket it connects to');
    await expect(onDemandConsumer(endpoint, { secretKey: consumerKeys.secretKey, serverKey: 'short' })).rejects.toThrow('CURVE keys are 40 characters of Z85, got "short"');
  });

  it('stops its ZAP handler once the last CURVE server socket closes', async () => {
    const client = opened.add(new ClientZmq({ endpoint: await freeTcpEndpoint(), curve: { secretKey: producerKeys.secretKey } }));
    await client.connect();
    const other = new Reply({ linger: 0 });
    await expect(other.bind('inproc://zeromq.zap.01')).rejects.toThrow();

    await client.close();
    // ZeroMQ releases the endpoint in its own thread after the handler's socket closes: bind again until it is free.
    await eventually(() => other.bind('inproc://zeromq.zap.01').then(() => true, () => undefined), 'the ZAP endpoint to be free again');
    other.close();
  });
});
