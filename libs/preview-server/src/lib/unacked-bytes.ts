import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { endianness } from 'node:os';

/**
 * Bytes each socket has handed to the kernel that its peer has not acknowledged yet (Linux's `tx_queue` in
 * /proc/net/tcp and tcp6, sent or not), one read of each file for all of them; undefined where the kernel does not say
 * (no /proc: not Linux) or the connection is gone. A peer that stopped reading acknowledges nothing once its own
 * buffer is full, long before ours is: Node.js sees that only when both are.
 */
export function unackedBytes(sockets: readonly Socket[]): Array<number | undefined> {
  const queues = new Map<string, number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let table: string;
    try {
      table = readFileSync(file, 'latin1');
    } catch {
      continue; // no /proc, or no IPv6
    }
    for (const line of table.split('\n').slice(1)) {
      const [, local, remote, state, txRx] = line.trim().split(/\s+/);
      if (state !== ESTABLISHED || !txRx) continue;
      queues.set(`${procEndpoint(local)} ${procEndpoint(remote)}`, parseInt(txRx.split(':')[0], 16));
    }
  }
  return sockets.map((socket) => queues.get(`${endpoint(socket.localAddress, socket.localPort)} ${endpoint(socket.remoteAddress, socket.remotePort)}`));
}

const ESTABLISHED = '01';

/** A /proc/net/tcp address:port (hex, the address's 32-bit words in the host's byte order) as endpoint() writes it. */
function procEndpoint(hexEndpoint: string): string {
  const [hexAddress, hexPort] = hexEndpoint.split(':');
  const bytes = Buffer.from(hexAddress, 'hex');
  if (endianness() === 'LE') for (let word = 0; word < bytes.length; word += 4) bytes.subarray(word, word + 4).reverse();
  const address = bytes.length === 4 ? bytes.join('.') : (bytes.toString('hex').match(/.{4}/g) as string[]).join(':');
  return endpoint(address, parseInt(hexPort, 16));
}

/** One spelling of an address and port: IPv6 as a URL writes it (`::ffff:127.0.0.1` and `::ffff:7f00:1` are one). */
function endpoint(address: string | undefined, port: number | undefined): string {
  return `${address?.includes(':') ? new URL(`http://[${address}]/`).hostname : address}:${port}`;
}
