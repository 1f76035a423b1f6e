import { createServer, isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { endpointAddress } from './env';

/** A listen refused because the address is taken, said with the variable that chose it. */
export class AddressInUseError extends Error {
  override readonly name = 'AddressInUseError';
  readonly code = 'EADDRINUSE';
  constructor(variable: string, address: string) {
    super(`${variable}: ${address} is already in use; another instance may be running (stop it), or set ${variable} to a free port`);
  }
}

/** A listen refused because its host is no address of this machine (or no name it resolves), said with the variable that chose it. */
export class AddressNotHereError extends Error {
  override readonly name = 'AddressNotHereError';
  constructor(
    variable: string,
    address: string,
    readonly code: string,
  ) {
    super(`${variable}: cannot listen on ${address}: no address of this machine (${code}); give one of its addresses, 127.0.0.1, or 0.0.0.0 (:: for IPv6 too) for all`);
  }
}

/** The codes of a listen whose host is not this machine's: an address it does not have, a name that does not resolve (HTTP), an interface it lacks (ZeroMQ). */
const NOT_HERE = new Set(['EADDRNOTAVAIL', 'ENOTFOUND', 'EAI_AGAIN', 'ENODEV']);

/** Where a refused listen tried: an HTTP server's host and port, or a ZeroMQ bind's endpoint. */
function refusedAddress({ address, hostname, port }: { address?: string; hostname?: string; port?: number }): string {
  const host = address ?? hostname;
  if (port === undefined) return host ?? 'the address';
  return `${host && isIPv6(host) ? `[${host}]` : host}:${port}`;
}

/**
 * Awaits a listen (an HTTP server's, a ZeroMQ bind) on the address `variable` chose, its host chosen by
 * `hostVariable` (by default the same, as an endpoint holds both), and turns a refusal into an error naming the
 * setting to change: an address already taken (AddressInUseError: a second `npm start` is the likely cause), or a host
 * that is not this machine's (AddressNotHereError), where the bare EADDRNOTAVAIL or ENOTFOUND names no setting. A
 * ZeroMQ bind refused with another code is named taken when its address is (see tcpEndpointTaken). Other failures
 * pass through as they are.
 */
export async function listenAsConfigured<T>(variable: string, listening: Promise<T>, hostVariable = variable): Promise<T> {
  try {
    return await listening;
  } catch (error) {
    const refused = error as NodeJS.ErrnoException & { address?: string; hostname?: string; port?: number };
    if (refused?.code === 'EADDRINUSE') throw new AddressInUseError(variable, refusedAddress(refused));
    if (refused?.code && NOT_HERE.has(refused.code)) throw new AddressNotHereError(hostVariable, refusedAddress(refused), refused.code);
    if (refused?.address && (await tcpEndpointTaken(refused.address))) throw new AddressInUseError(variable, refused.address);
    throw error;
  }
}

/**
 * Whether a ZeroMQ TCP endpoint's address is taken, asked by listening on it. A refused ZeroMQ bind's code cannot be
 * trusted: libzmq reports the failure to the socket's monitor before zmq_bind returns, and that report may leave
 * errno at EAGAIN (when a millisecond has passed since the monitor's previous one, as for a thread preempted under load).
 */
async function tcpEndpointTaken(endpoint: string): Promise<boolean> {
  const address = endpointAddress(endpoint);
  if (!address || address.port === 0) return false;
  const host = address.host === '*' ? '0.0.0.0' : interfaceAddress(address.host);
  const probe = createServer();
  return new Promise((resolve) => {
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'EADDRINUSE'));
    probe.listen(address.port, host, () => probe.close(() => resolve(false)));
  });
}

/** ZeroMQ binds `tcp://eth0:5555` to the interface's address: its first IPv4 one (ZeroMQ's default), a name as it is. */
function interfaceAddress(host: string): string {
  const addresses = networkInterfaces()[host];
  return addresses?.find(({ family }) => family === 'IPv4')?.address ?? addresses?.[0]?.address ?? host;
}
