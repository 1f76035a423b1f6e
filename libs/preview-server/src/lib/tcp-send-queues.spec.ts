import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { waitUntil } from '@iev/testing';
import { KERNEL_SEND_QUEUES_READABLE, readKernelSendQueues, sendQueueKey } from './tcp-send-queues';

const onLinux = KERNEL_SEND_QUEUES_READABLE ? it : it.skip;

describe('the kernel send queues', () => {
  // A listen on :: takes IPv4 too: its connections are in tcp6 with the IPv4-mapped address Node prints.
  for (const [listenHost, connectHost] of [['127.0.0.1', '127.0.0.1'], ['::', '127.0.0.1'], ['::1', '::1']]) {
    onLinux(`finds what a connection from ${connectHost} to ${listenHost} holds unread`, async () => {
      const server = createServer();
      try {
        await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, listenHost, resolve));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL' || (error as NodeJS.ErrnoException).code === 'EAFNOSUPPORT') return; // no IPv6 here
        throw error;
      }
      // The client never reads: what the server writes stays in the kernel, unacknowledged once the client's window closes.
      const client = connect((server.address() as AddressInfo).port, connectHost);
      let accepted: Socket | undefined;
      try {
        [accepted] = (await once(server, 'connection')) as [Socket];
        accepted.on('error', () => undefined); // reset as the client goes
        const connection = sendQueueKey(accepted);
        const held = () => connection && readKernelSendQueues(connection.table).get(connection.key);
        expect(held()).toBe(0);
        accepted.write(Buffer.alloc(8 * 1024 * 1024));
        await waitUntil(() => (held() ?? 0) > 100_000, () => `bytes held for ${JSON.stringify(connection)}: ${held()}`);
      } finally {
        client.destroy();
        accepted?.destroy();
        server.close();
      }
    });
  }
});
