import { isIPv6 } from 'node:net';

/** A listen refused because the address is taken, said with the variable that chose it. */
export class AddressInUseError extends Error {
  override readonly name = 'AddressInUseError';
  readonly code = 'EADDRINUSE';
  constructor(variable: string, address: string) {
    super(`${variable}: ${address} is already in use; another instance may be running (stop it), or set ${variable} to a free port`);
  }
}

/** Where a refused listen tried: an HTTP server's host and port, or a ZeroMQ bind's endpoint. */
function refusedAddress({ address, port }: { address?: string; port?: number }): string {
  if (port === undefined) return address ?? 'the address';
  return `${address && isIPv6(address) ? `[${address}]` : address}:${port}`;
}

/**
 * Awaits a listen (an HTTP server's, a ZeroMQ bind) on the address `variable` chose, and turns a refusal because the
 * address is taken into an AddressInUseError naming the variable: the bare EADDRINUSE says neither which setting to
 * change nor that a second `npm start` is the likely cause. Other failures pass through as they are.
 */
export async function listenAsConfigured<T>(variable: string, listening: Promise<T>): Promise<T> {
  try {
    return await listening;
  } catch (error) {
    const refused = error as NodeJS.ErrnoException & { address?: string; port?: number };
    if (refused?.code !== 'EADDRINUSE') throw error;
    throw new AddressInUseError(variable, refusedAddress(refused));
  }
}
