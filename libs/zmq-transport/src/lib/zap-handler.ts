import { inspect } from 'node:util';
import { Logger } from '@nestjs/common';
import { Reply } from 'zeromq';
import { z85Encode } from './curve-keys';

/** Where libzmq sends a socket's authentication requests (RFC 27), in the socket's own context. */
const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';

/** Who may connect to one CURVE server socket, and what it refused. */
interface Policy {
  /** Client public keys (Z85) allowed; undefined allows any client that completes the handshake. */
  allowed?: ReadonlySet<string>;
  refused(): void;
}

/**
 * The process's ZAP handler: libzmq asks it, per incoming CURVE connection, whether the client's public key may
 * connect. zeromq.js has none built in; this one answers for every CURVE server socket of the (global) context,
 * each under its own ZAP domain, and runs while at least one such socket is open.
 */
class ZapHandler {
  private readonly logger = new Logger('ZapHandler');
  private readonly policies = new Map<string, Policy>();
  private socket?: Promise<Reply>;
  private nextDomain = 0;

  /** Registers a policy; resolves, once the handler listens, to the domain to set on the socket and a release. */
  async register(policy: Policy): Promise<{ domain: string; release: () => void }> {
    const domain = `iev-${process.pid}-${this.nextDomain++}`;
    this.policies.set(domain, policy);
    try {
      await (this.socket ??= this.listen());
    } catch (error) {
      this.policies.delete(domain);
      throw error;
    }
    return { domain, release: () => this.release(domain) };
  }

  private release(domain: string): void {
    this.policies.delete(domain);
    if (this.policies.size > 0 || !this.socket) return;
    const socket = this.socket;
    this.socket = undefined;
    void socket.then((reply) => reply.close(), () => undefined);
  }

  private async listen(): Promise<Reply> {
    const reply = new Reply({ linger: 0 });
    try {
      await bindReleasedEndpoint(reply);
    } catch (error) {
      reply.close();
      this.socket = undefined;
      throw error;
    }
    this.serve(reply).catch((error: unknown) => this.logger.error(`ZAP handler stopped: ${inspect(error)}`));
    return reply;
  }

  private async serve(reply: Reply): Promise<void> {
    for await (const request of reply) await reply.send(this.answer(request));
  }

  /** RFC 27: [version, request id, domain, address, identity, mechanism, credentials...] -> [version, request id, status, text, user id, metadata]. */
  private answer([version, requestId, domain, address, , mechanism, credentials]: Buffer[]): Array<string | Buffer> {
    const respond = (status: '200' | '400' | '500', text: string, userId = '') => ['1.0', requestId ?? '', status, text, userId, ''];
    if (version?.toString() !== '1.0' || mechanism?.toString() !== 'CURVE' || credentials?.length !== 32) return respond('500', 'unsupported request');
    const policy = this.policies.get(domain.toString());
    const clientKey = z85Encode(credentials);
    if (!policy) return respond('400', 'unknown domain');
    if (policy.allowed && !policy.allowed.has(clientKey)) {
      this.logger.warn(`Refused a CURVE client from ${address.toString() || 'an unknown address'}: its public key ${clientKey} is not among the allowed client keys`);
      policy.refused();
      return respond('400', 'client key not allowed');
    }
    return respond('200', 'OK', clientKey);
  }
}

/**
 * Binds the ZAP endpoint. A handler closed a moment ago (its last CURVE socket closed) frees the endpoint in
 * ZeroMQ's own thread, so a new one may find it still in use for a few milliseconds: it tries again for up to a second.
 */
async function bindReleasedEndpoint(reply: Reply): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await reply.bind(ZAP_ENDPOINT);
    } catch (error) {
      if ((error as { code?: string }).code !== 'EADDRINUSE' || attempt >= 40) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

export const zapHandler = new ZapHandler();
