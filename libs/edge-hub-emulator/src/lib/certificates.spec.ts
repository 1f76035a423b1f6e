import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadOrCreateCertificates } from './certificates';

describe('loadOrCreateCertificates', () => {
  it('makes a CA that signed itself and a server certificate for the host names, as TLS checks them', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'edge-ca-'));
    try {
      const { caPem, serverCertPem } = loadOrCreateCertificates(stateDir, ['localhost', '127.0.0.1']);
      const ca = new X509Certificate(caPem);
      const server = new X509Certificate(serverCertPem);

      expect(ca.ca && ca.verify(ca.publicKey)).toBe(true);
      expect(server.checkIssued(ca) && server.verify(ca.publicKey)).toBe(true);
      expect([server.checkHost('localhost'), server.checkIP('127.0.0.1')]).toEqual(['localhost', '127.0.0.1']);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe('loadOrCreateCertificates replacing a cache it can read', () => {
  let stateDir: string;
  let warnings: string[];
  let logger: pino.Logger;
  beforeEach(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'edge-ca-'));
    warnings = [];
    logger = pino({ level: 'warn' }, { write: (line: string) => warnings.push(JSON.parse(line).msg) });
  });
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

  const file = () => join(stateDir, 'edge-ca.json');
  const consequence = 'a new CA is made, so a module that trusts the old one (an earlier ca.pem) fails TLS to edgeHub until it is restarted with the new one';

  it('keeps a cache for the same host names, in any order, without a word', () => {
    const first = loadOrCreateCertificates(stateDir, ['localhost', '127.0.0.1'], logger);

    expect(loadOrCreateCertificates(stateDir, ['127.0.0.1', 'localhost'], logger).caPem).toBe(first.caPem);
    expect(warnings).toEqual([]);
  });

  it('says that a new host name (a new container) replaces the CA a module may still trust', () => {
    const first = loadOrCreateCertificates(stateDir, ['localhost', 'c0ffee'], logger);

    const second = loadOrCreateCertificates(stateDir, ['localhost', 'decade'], logger);

    expect(second.caPem).not.toBe(first.caPem);
    expect(warnings).toEqual([`${file()} is for localhost, c0ffee, not decade, localhost: ${consequence}`]);
  });

  it('says that renewal, a week before the server certificate expires, replaces the CA too', () => {
    loadOrCreateCertificates(stateDir, ['localhost'], logger);
    const notAfter = new Date(Date.now() + 6 * 24 * 60 * 60 * 1000).toISOString();
    writeFileSync(file(), JSON.stringify({ ...JSON.parse(readFileSync(file(), 'utf8')), notAfter }));

    loadOrCreateCertificates(stateDir, ['localhost'], logger);

    expect(warnings).toEqual([`${file()} expires ${notAfter}: ${consequence}`]);
  });
});
