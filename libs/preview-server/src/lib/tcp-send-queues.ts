import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { endianness } from 'node:os';
import type { Socket } from 'node:net';

/** IPv4 connections are listed in one, IPv6 ones (IPv4-mapped included: a listen on ::) in the other. */
export type KernelTcpTable = '/proc/net/tcp' | '/proc/net/tcp6';

/**
 * Whether the kernel's TCP tables can be read (Linux): Node cannot ask a socket how much of what it wrote is still
 * held by the kernel, unsent or unacknowledged, and that is where a slow link's backlog waits (up to tcp_wmem's
 * maximum, 4 MB by default), out of sight of `writableNeedDrain`.
 */
export const KERNEL_SEND_QUEUES_READABLE = (() => {
  try {
    readFileSync('/proc/net/tcp');
    return true;
  } catch {
    return false;
  }
})();

/**
 * The bytes the kernel holds of each established connection of the table, in this network namespace (sent and not
 * yet acknowledged, or not sent: `tx_queue`), keyed as `sendQueueKey` keys a socket. One read answers for all viewers;
 * the kernel walks its whole connection hash for it, whatever this namespace holds (~1 ms of CPU on a 2-core VM
 * with 262144 buckets; a small board's table is a fraction of that), so it is read only when needed.
 */
export function readKernelSendQueues(table: KernelTcpTable): Map<string, number> {
  const queues = new Map<string, number>();
  let text: string;
  try {
    text = readFileSync(table, 'latin1');
  } catch {
    return queues; // tcp6 is absent where IPv6 is compiled out, and so are its connections
  }
  // "  sl  local_address rem_address   st tx_queue:rx_queue ..."; the header line has no ':' in its second field.
  for (const line of text.split('\n')) {
    const [, local, remote, , txRx] = line.trim().split(/\s+/);
    if (!txRx?.includes(':') || !local?.includes(':')) continue;
    queues.set(`${local} ${remote}`, parseInt(txRx.slice(0, txRx.indexOf(':')), 16));
  }
  return queues;
}

/** Where the socket's connection is listed and its key there; undefined once it is closed. */
export function sendQueueKey(socket: Socket): { table: KernelTcpTable; key: string } | undefined {
  const { localAddress, localPort, remoteAddress, remotePort } = socket;
  if (!localAddress || !localPort || !remoteAddress || !remotePort) return undefined;
  return { table: isIPv4(localAddress) ? '/proc/net/tcp' : '/proc/net/tcp6', key: `${tableAddress(localAddress, localPort)} ${tableAddress(remoteAddress, remotePort)}` };
}

/** An address as the tables print it: each 32-bit word of it in hex, in the machine's byte order, then the port. */
function tableAddress(address: string, port: number): string {
  const bytes = isIPv4(address) ? Buffer.from(address.split('.').map(Number)) : ipv6Bytes(address);
  let words = '';
  for (let offset = 0; offset < bytes.length; offset += 4) {
    const word = endianness() === 'LE' ? bytes.readUInt32LE(offset) : bytes.readUInt32BE(offset);
    words += word.toString(16).toUpperCase().padStart(8, '0');
  }
  return `${words}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The 16 bytes of an IPv6 address as Node prints it ('::', an IPv4 tail as in ::ffff:127.0.0.1, a %zone). */
function ipv6Bytes(address: string): Buffer {
  let text = address.split('%')[0];
  const ipv4Tail = text.match(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (ipv4Tail) {
    const [a, b, c, d] = ipv4Tail.slice(1).map(Number);
    text = `${text.slice(0, ipv4Tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const known = [...groups(head), ...groups(tail)].length;
  const all = tail === undefined ? groups(head) : [...groups(head), ...Array<string>(8 - known).fill('0'), ...groups(tail)];
  const bytes = Buffer.alloc(16);
  all.forEach((group, index) => bytes.writeUInt16BE(parseInt(group, 16), index * 2));
  return bytes;
}
