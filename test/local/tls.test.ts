import { X509Certificate } from 'node:crypto';
import { copyFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateCertificates } from '../../shared/local/tls.js';

const folders: string[] = [];
async function freshFolder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lambernetes-tls-'));
  folders.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(folders.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('local certificate authority', () => {
  it('creates a CA and a server certificate it signs, for 127.0.0.1 and localhost, keys private', async () => {
    const dir = join(await freshFolder(), 'certs');
    const { caCert, serverCert, serverKey } = await loadOrCreateCertificates(dir);

    const ca = new X509Certificate(caCert);
    const server = new X509Certificate(serverCert);
    expect(ca.ca).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.checkHost('localhost', { subject: 'never' })).toBe('localhost');
    expect(server.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // extended key usage: serverAuth only
    expect(server.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(serverKey).toContain('BEGIN PRIVATE KEY');

    const dayMs = 24 * 60 * 60 * 1000;
    const lifetime = (cert: X509Certificate) => (Date.parse(cert.validTo) - Date.now()) / dayMs;
    expect(lifetime(ca)).toBeGreaterThan(3600);
    expect(lifetime(server)).toBeGreaterThan(360);
    expect(lifetime(server)).toBeLessThan(400);

    expect(await mode(join(dir, 'ca.key'))).toBe(0o600);
    expect(await mode(join(dir, 'server.key'))).toBe(0o600);
    await stat(join(dir, 'ca.crt'));
    await stat(join(dir, 'server.crt'));
  });

  it('reuses the certificates on later runs', async () => {
    const dir = await freshFolder();
    const first = await loadOrCreateCertificates(dir);
    const second = await loadOrCreateCertificates(dir);
    const third = await loadOrCreateCertificates(dir, ['localhost']);
    expect(second).toEqual(first);
    expect(third).toEqual(first);
  });

  it('reissues the server certificate, under the same CA, when it does not name every host', async () => {
    const dir = await freshFolder();
    const first = await loadOrCreateCertificates(dir);
    const wider = await loadOrCreateCertificates(dir, ['127.0.0.1', 'localhost', '::1', 'Kube.Example.test']);
    expect(wider.caCert).toBe(first.caCert);
    expect(wider.serverCert).not.toBe(first.serverCert);
    const server = new X509Certificate(wider.serverCert);
    expect(server.checkIP('::1')).toBeDefined();
    expect(server.checkHost('kube.example.test', { subject: 'never' })).toBeDefined();
    expect(server.checkIP('127.0.0.1')).toBeDefined();
    expect(server.checkHost('localhost', { subject: 'never' })).toBeDefined();
    // Now covered: kept.
    expect(await loadOrCreateCertificates(dir, ['[::1]', 'kube.example.test'])).toEqual(wider);
  });

  it('reissues a server certificate some other CA signed', async () => {
    const [mine, theirs] = [await freshFolder(), await freshFolder()];
    const original = await loadOrCreateCertificates(mine);
    await loadOrCreateCertificates(theirs);
    await copyFile(join(theirs, 'server.crt'), join(mine, 'server.crt'));
    await copyFile(join(theirs, 'server.key'), join(mine, 'server.key'));

    const reloaded = await loadOrCreateCertificates(mine);
    expect(reloaded.caCert).toBe(original.caCert);
    expect(new X509Certificate(reloaded.serverCert).checkIssued(new X509Certificate(original.caCert))).toBe(
      true,
    );
  });

  it('starts over with a new CA when the CA key is missing', async () => {
    const dir = await freshFolder();
    const original = await loadOrCreateCertificates(dir);
    await rm(join(dir, 'ca.key'));
    const renewed = await loadOrCreateCertificates(dir);
    expect(renewed.caCert).not.toBe(original.caCert);
    expect(renewed.serverCert).not.toBe(original.serverCert);
    expect(new X509Certificate(renewed.serverCert).checkIssued(new X509Certificate(renewed.caCert))).toBe(
      true,
    );
  });
});
