import { randomInt, randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, unlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRunning } from './processes';

/** A closed range of TCP/UDP port numbers. */
export interface PortRange {
  low: number;
  high: number;
}

/** Where Linux says which local ports it gives outgoing connections and listen(0). */
const EPHEMERAL_RANGE_FILE = '/proc/sys/net/ipv4/ip_local_port_range';
/** Below this lie the ports services are usually set to (this project's own 5555, 8080 and 9101 among them). */
const LOWEST_PICKED_PORT = 20_000;
/** Without /proc: below Linux's ephemeral range (from 32768) and macOS's and Windows' (from 49152). */
const FALLBACK_RANGES: readonly PortRange[] = [{ low: LOWEST_PICKED_PORT, high: 32_767 }];
/** Picks tried before giving up: the ranges hold thousands of ports, so running out means something is wrong. */
const MAX_PICKS = 200;

/**
 * The kernel's ephemeral port range: where every outgoing connection (a ZeroMQ connect, an HTTP request) takes its
 * local port, so a port picked there may be taken by one before the server that was to have it binds it.
 */
function ephemeralPortRange(): PortRange | undefined {
  let text: string;
  try {
    text = readFileSync(EPHEMERAL_RANGE_FILE, 'utf8');
  } catch {
    return undefined;
  }
  const [low, high] = text.trim().split(/\s+/).map(Number);
  if (!Number.isInteger(low) || !Number.isInteger(high)) throw new Error(`${EPHEMERAL_RANGE_FILE} says "${text.trim()}", not two port numbers`);
  return { low, high };
}

/**
 * The ports from LOWEST_PICKED_PORT up outside the ephemeral range (the kernel's, by default), fixed ones where the range
 * cannot be read, and all of them from LOWEST_PICKED_PORT up where it leaves none outside.
 */
export function pickablePortRanges(ephemeral = ephemeralPortRange()): PortRange[] {
  if (ephemeral === undefined) return [...FALLBACK_RANGES];
  const ranges = [
    { low: LOWEST_PICKED_PORT, high: ephemeral.low - 1 },
    { low: Math.max(LOWEST_PICKED_PORT, ephemeral.high + 1), high: 65_535 },
  ].filter(({ low, high }) => low <= high);
  // A host that gives every port to outgoing connections (1024-65535) leaves none outside: the claims and the bind
  // check still keep two pickers apart, only an outgoing connection may take a port first.
  return ranges.length > 0 ? ranges : [{ low: LOWEST_PICKED_PORT, high: 65_535 }];
}

/**
 * A port on which nothing listens (TCP, on any address) or is bound (UDP), and that no other caller of freePort
 * has been given while its process lives, for a server a test or the bench starts a moment later (or a client that
 * connects first). It lies outside the kernel's ephemeral range where the range leaves ports outside (pickablePortRanges),
 * so no outgoing connection takes it meanwhile.
 */
export function freePort(): Promise<number> {
  return freePortIn(pickablePortRanges());
}

/** freePort, from the given ranges. */
export function freePortIn(ranges: readonly PortRange[]): Promise<number> {
  return freeRunIn(ranges, 1);
}

/**
 * freePort for an RTP receiver, which binds two ports: an even one, returned, and the next (RTCP's), both free and
 * claimed.
 */
export function freeRtpPort(ranges: readonly PortRange[] = pickablePortRanges()): Promise<number> {
  return freeRunIn(ranges, 2);
}

/** The first of `length` ports side by side, aligned to `length`, all in the ranges, free and claimed. */
async function freeRunIn(ranges: readonly PortRange[], length: number): Promise<number> {
  const count = ranges.reduce((sum, { low, high }) => sum + high - low + 1, 0);
  for (let pick = 0; pick < MAX_PICKS; pick++) {
    const picked = nthPort(ranges, randomInt(count));
    const run = Array.from({ length }, (_, k) => picked - (picked % length) + k);
    if (!run.every((port) => ranges.some(({ low, high }) => port >= low && port <= high))) continue;
    const claims: string[] = [];
    const letGo = () => Promise.all(claims.map((claim) => unlink(claim)));
    try {
      for (const port of run) {
        const claim = await claimPort(port);
        if (claim === undefined) break;
        claims.push(claim);
      }
      if (claims.length === length && (await everyFree(run))) return run[0];
    } catch (error) {
      await letGo();
      throw error;
    }
    await letGo();
  }
  throw new Error(`no free ${length > 1 ? `run of ${length} ports` : 'port'} in ${MAX_PICKS} picks from ${ranges.map(({ low, high }) => `${low}-${high}`).join(', ')}`);
}

async function everyFree(ports: number[]): Promise<boolean> {
  for (const port of ports) if (!(await isFree(port))) return false;
  return true;
}

function nthPort(ranges: readonly PortRange[], n: number): number {
  for (const { low, high } of ranges) {
    if (n <= high - low) return low + n;
    n -= high - low + 1;
  }
  throw new RangeError(`port index ${n} is past the ranges`);
}

/**
 * Claims are files in one folder, `<port>-<pid>-<uuid>`. A caller writes its own file first, then reads the folder:
 * another live process's file for the port (or another claim of its own) means the port is taken, and it backs off.
 * Of two callers racing for a port, whoever reads second sees the other's file, so at most one keeps it (both may back
 * off, and pick again). Whoever reads the folder removes the files of dead processes, whatever their port: a name is
 * never written twice, so that never removes a live claim, and the folder holds little more than the live ones. A
 * claim lasts as long as its process: the server it was for may stop and start again on it. Per user, as only its
 * owner may remove a file in a folder of its own.
 */
// By uid, not user name: a CI container may run as a uid with no passwd entry, where os.userInfo() throws.
const claimsDir = () => join(tmpdir(), `iev-ports-${process.getuid?.() ?? 'user'}`);

/** The path of this process's claim on `port`, or undefined when another live one holds it. */
async function claimPort(port: number): Promise<string | undefined> {
  const folder = claimsDir();
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const mine = join(folder, `${port}-${process.pid}-${randomUUID()}`);
  await writeFile(mine, '', { flag: 'wx' });
  try {
    if (!(await liveClaims(folder, mine)).has(port)) return mine;
  } catch (error) {
    await unlink(mine);
    throw error;
  }
  await unlink(mine);
  return undefined;
}

/** The ports live claims hold but `mine`; removes the claims of dead processes on the way. */
async function liveClaims(folder: string, mine?: string): Promise<Set<number>> {
  const running = new Map<number, boolean>();
  const ports = new Set<number>();
  for (const name of await readdir(folder)) {
    if (join(folder, name) === mine) continue;
    const [claimed, pid] = name.split('-').map(Number);
    if (!running.has(pid)) running.set(pid, isRunning(pid));
    if (!running.get(pid)) await unlink(join(folder, name)).catch(() => undefined); // another caller may remove it first
    else ports.add(claimed);
  }
  return ports;
}

/** The ports live processes (this one included) hold claims on: freePort gives none of them. */
export async function claimedPorts(): Promise<Set<number>> {
  const folder = claimsDir();
  await mkdir(folder, { recursive: true, mode: 0o700 });
  return liveClaims(folder);
}

/**
 * Whether a TCP server can listen on `port` on every address (IPv6 and IPv4, or IPv4 alone without IPv6) and on
 * 127.0.0.1, where the callers bind (on BSD and macOS a wildcard listen succeeds beside a listener on one address),
 * and a UDP socket bind it on every IPv4 one.
 */
async function isFree(port: number): Promise<boolean> {
  const tcp = await canListen(port, '::').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'EAFNOSUPPORT' || error.code === 'EADDRNOTAVAIL') return canListen(port, '0.0.0.0');
    throw error;
  });
  return tcp && (await canListen(port, '127.0.0.1')) && (await canBindUdp(port));
}

/** Listening on every address, it meets whoever holds the port on any one of them. Rejects where the host has no such address family. */
function canListen(port: number, host: string): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' || error.code === 'EACCES' ? resolve(false) : reject(error)));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

function canBindUdp(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' || error.code === 'EACCES' ? resolve(false) : reject(error)));
    socket.bind(port, '0.0.0.0', () => socket.close(() => resolve(true)));
  });
}
