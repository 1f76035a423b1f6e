import { constants, privateEncrypt } from 'node:crypto';
import { isIP } from 'node:net';
import { join } from 'node:path';
import forge from 'node-forge';
import type { Logger } from 'pino';
import { notAJsonObject, readStateFile, type StateFileKind, writeStateFile } from './state-file';

export interface EdgeCertificates {
  caPem: string;
  serverCertPem: string;
  serverKeyPem: string;
}

interface CachedCertificates extends EdgeCertificates {
  hostnames: string[];
  notAfter: string;
}

const CACHE_FILE = 'edge-ca.json';
const DAY_MS = 24 * 60 * 60 * 1000;

function newCertificate(publicKey: forge.pki.PublicKey, serial: string, days: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serial;
  cert.validity.notBefore = new Date(Date.now() - DAY_MS); // tolerate small clock skew
  cert.validity.notAfter = new Date(Date.now() + days * DAY_MS);
  return cert;
}

/** DER of a DigestInfo naming SHA-256, which the digest itself follows (RFC 8017, 9.2, note 1). */
const SHA256_DIGEST_INFO_PREFIX = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/**
 * `key` signing as forge's `sign` asks of it (RSASSA-PKCS1-v1_5 over the SHA-256 digest forge made) by Node's crypto:
 * forge's own RSA is JavaScript, its two signatures for a new CA 0.25 s in Node but 5 s and more in Jest's VM, which
 * every spec starting an emulator on a new state dir paid.
 */
function nativeSigner(key: forge.pki.rsa.PrivateKey): forge.pki.rsa.PrivateKey {
  const pem = forge.pki.privateKeyToPem(key);
  const sign = (md: forge.md.MessageDigest): forge.Bytes => {
    if (md.algorithm !== 'sha256') throw new Error(`nativeSigner signs SHA-256 digests, not ${md.algorithm}`);
    const digestInfo = Buffer.concat([SHA256_DIGEST_INFO_PREFIX, Buffer.from(md.digest().getBytes(), 'binary')]);
    return privateEncrypt({ key: pem, padding: constants.RSA_PKCS1_PADDING }, digestInfo).toString('binary');
  };
  return { ...key, sign };
}

function generate(hostnames: string[]): CachedCertificates {
  // forge uses Node's native RSA key generation when it is available: milliseconds, not seconds.
  const caKeys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const ca = newCertificate(caKeys.publicKey, '01', 365);
  const caSubject = [{ name: 'commonName', value: 'iev edge simulator CA' }];
  ca.setSubject(caSubject);
  ca.setIssuer(caSubject);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  const caSigner = nativeSigner(caKeys.privateKey);
  ca.sign(caSigner, forge.md.sha256.create());

  const serverKeys = forge.pki.rsa.generateKeyPair({ bits: 2048 });
  const server = newCertificate(serverKeys.publicKey, '02', 90);
  server.setSubject([{ name: 'commonName', value: hostnames[0] }]);
  server.setIssuer(caSubject);
  server.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    // type 7 = IP address, 2 = DNS name: TLS checks the name the client dialled against these.
    { name: 'subjectAltName', altNames: hostnames.map((name) => (isIP(name) ? { type: 7, ip: name } : { type: 2, value: name })) },
  ]);
  server.sign(caSigner, forge.md.sha256.create());

  return {
    caPem: forge.pki.certificateToPem(ca),
    serverCertPem: forge.pki.certificateToPem(server),
    serverKeyPem: forge.pki.privateKeyToPem(serverKeys.privateKey),
    hostnames,
    notAfter: server.validity.notAfter.toISOString(),
  };
}

/** What is wrong with a parsed edge-ca.json as certificates this wrote; undefined where nothing is. */
function certificatesProblem(parsed: unknown): string | undefined {
  const notObject = notAJsonObject(parsed);
  if (notObject) return notObject;
  const cached = parsed as Partial<Record<keyof CachedCertificates, unknown>>;
  for (const field of ['caPem', 'serverCertPem'] as const) {
    if (!isPem(cached[field], forge.pki.certificateFromPem)) return `${field} is no PEM certificate`;
  }
  if (!isPem(cached.serverKeyPem, forge.pki.privateKeyFromPem)) return 'serverKeyPem is no PEM private key';
  if (!Array.isArray(cached.hostnames) || !cached.hostnames.every((name) => typeof name === 'string')) return 'hostnames is no list of names';
  if (typeof cached.notAfter !== 'string' || Number.isNaN(Date.parse(cached.notAfter))) return 'notAfter is no date';
  return undefined;
}

function isPem(value: unknown, parse: (pem: string) => unknown): boolean {
  try {
    return typeof value === 'string' && Boolean(parse(value));
  } catch {
    return false;
  }
}

/** edge-ca.json as readStateFile reads it: a new CA is made where it cannot be read. */
const CERTIFICATES: StateFileKind = {
  what: 'the edge CA and server certificate',
  problemOf: certificatesProblem,
  consequence: 'a new CA is made, so a module that trusts the old one (an earlier ca.pem) fails TLS to edgeHub until it is restarted with the new one',
};

/**
 * A root CA and a server certificate for `hostnames` signed by it, cached in `stateDir` so restarts are fast. A
 * cache for other hostnames (a container's host name is new with each container), or one expiring within a week,
 * is replaced, and said (on `logger`), as the CA goes with it; one that cannot be read is moved aside and said, not
 * replaced unseen. One file written by rename, so two emulators sharing a state dir never read a CA and a server
 * certificate from different generations.
 */
export function loadOrCreateCertificates(stateDir: string, hostnames: string[], logger?: Logger): EdgeCertificates {
  const file = join(stateDir, CACHE_FILE);
  const wanted = [...new Set(hostnames)].sort();
  const cached = readStateFile<CachedCertificates>(file, CERTIFICATES, logger);
  if (cached !== undefined) {
    const otherHosts = JSON.stringify([...new Set(cached.hostnames)].sort()) !== JSON.stringify(wanted);
    const expiring = Date.parse(cached.notAfter) - Date.now() <= 7 * DAY_MS;
    if (!otherHosts && !expiring) return cached;
    const why = otherHosts ? `is for ${cached.hostnames.join(', ')}, not ${wanted.join(', ')}` : `expires ${cached.notAfter}`;
    logger?.warn({ file }, `${file} ${why}: ${CERTIFICATES.consequence}`);
  }
  const generated = generate(hostnames);
  writeStateFile(file, generated);
  return generated;
}
