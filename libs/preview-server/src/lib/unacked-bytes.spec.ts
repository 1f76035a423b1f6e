import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { waitUntil } from '@iev/testing';
import { unackedBytes } from './unacked-bytes';

describe('unackedBytes', () => {
  it("reads what a connection's peer has not acknowledged, each socket its own, and nothing for one that is gone", async () => {
    const accepted: Socket[] = [];
    const server = createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    // One peer never reads (its window closes once its receive buffer is full), the other reads all.
    const stopped = connect(port, '127.0.0.1').pause();
    await waitUntil(() => accepted.length === 1, 'the first connection');
    const reading = connect(port, '127.0.0.1').on('data', () => undefined);
    await waitUntil(() => accepted.length === 2, 'the second connection');
    try {
      const chunk = Buffer.alloc(8 * 1024 * 1024);
      accepted.forEach((socket) => socket.write(chunk));
      await waitUntil(() => {
        const [ofStopped, ofReading] = unackedBytes(accepted);
        return ofStopped !== undefined && ofStopped > 100_000 && ofReading === 0;
      }, () => `the stopped peer's bytes held, the reading one's all taken: ${JSON.stringify(unackedBytes(accepted))}`);
      const [ofStopped] = unackedBytes(accepted);
      expect(ofStopped).toBeLessThanOrEqual(chunk.length);
      const gone = accepted[1];
      reading.destroy();
      await once(gone, 'close');
      expect(unackedBytes([gone])).toEqual([undefined]);
    } finally {
      [stopped, reading, ...accepted].forEach((socket) => socket.destroy());
      server.close();
    }
  });
});
