/**
 * A local certificate authority for the HTTPS apiserver: one CA (ECDSA P-256, SHA-256, ~10 years) and
 * one server certificate it signs (~1 year), kept as PEM files in a folder and reused across runs.
 * kubectl (Go's crypto/x509) trusts the CA through `certificate-authority-data` in a kubeconfig.
 */
import {
  createPrivateKey,
  type KeyObject,
  X509Certificate as NodeX509Certificate,
  webcrypto,
} from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type * as X509 from '@peculiar/x509';
import 'reflect-metadata';

export interface LocalCertificates {
  /** PEM of the CA certificate: what clients trust. */
  caCert: string;
  /** PEM of the server certificate, signed by the CA. */
  serverCert: string;
  /** PEM (PKCS#8) of the server's private key. */
  serverKey: string;
}

/** Everything the CA and server certificates are made with. */
const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;
const CA_LIFETIME_DAYS = 3650;
const SERVER_LIFETIME_DAYS = 365;
/** A certificate expiring within this is replaced. */
const RENEW_BEFORE_DAYS = 30;
/** notBefore is backdated a little so a client whose clock is slightly behind still accepts it. */
const BACKDATE_MS = 60 * 60 * 1000;

const files = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  serverCert: 'server.crt',
  serverKey: 'server.key',
} as const;

const subtle = webcrypto.subtle;

type X509Library = typeof X509;
let library: Promise<X509Library> | undefined;

/**
 * `@peculiar/x509`, loaded on first use (only `npm start` makes certificates). Through tsyringe it needs
 * the Reflect metadata API, which `reflect-metadata` installs when this module is imported.
 */
function x509Library(): Promise<X509Library> {
  library ??= (async () => {
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto);
    return x509;
  })();
  return library;
}

/**
 * The CA and server certificate in `dir`, created on first use. A CA that is unreadable or expires within
 * 30 days is replaced (and with it the server certificate); a server certificate is replaced when it
 * expires within 30 days, was not signed by the CA, does not match its key, or does not name every one of
 * `hosts` (IP addresses as IP SANs, anything else as DNS SANs). 127.0.0.1 and localhost are always named.
 * Keys are written with mode 0600.
 */
export async function loadOrCreateCertificates(
  dir: string,
  hosts: string[] = ['127.0.0.1', 'localhost'],
): Promise<LocalCertificates> {
  const names = sanNames(hosts);
  const x509 = await x509Library();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const now = new Date();

  let ca = await loadCa(x509, dir, now);
  const caIsNew = !ca;
  if (!ca) {
    ca = await createCa(x509, now);
    await writePrivate(join(dir, files.caKey), ca.keyPem);
    await writePublic(join(dir, files.caCert), ca.certPem);
  }

  if (!caIsNew) {
    const existing = await loadServer(dir, ca.cert, names, now);
    if (existing) return { caCert: ca.certPem, ...existing };
  }

  const server = await createServerCertificate(x509, ca, names, now);
  await writePrivate(join(dir, files.serverKey), server.serverKey);
  await writePublic(join(dir, files.serverCert), server.serverCert);
  return { caCert: ca.certPem, ...server };
}

interface Ca {
  certPem: string;
  keyPem: string;
  cert: NodeX509Certificate;
  signingKey: webcrypto.CryptoKey;
  /** For the server certificate's issuer and authority key identifier. */
  x509: X509.X509Certificate;
}

interface SanName {
  type: 'ip' | 'dns';
  value: string;
}

function sanNames(hosts: string[]): SanName[] {
  const seen = new Set<string>();
  const names: SanName[] = [];
  for (const raw of ['127.0.0.1', 'localhost', ...hosts]) {
    const host = raw.trim().replace(/^\[(.*)\]$/, '$1');
    if (!host) continue;
    const name: SanName = isIP(host)
      ? { type: 'ip', value: host }
      : { type: 'dns', value: host.toLowerCase() };
    const key = `${name.type}:${name.value}`;
    if (seen.has(key)) continue;
    seen.add(key);
    names.push(name);
  }
  return names;
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function parseCertificate(pem: string): NodeX509Certificate | undefined {
  try {
    return new NodeX509Certificate(pem);
  } catch {
    return undefined;
  }
}

function parsePrivateKey(pem: string): KeyObject | undefined {
  try {
    return createPrivateKey(pem);
  } catch {
    return undefined;
  }
}

function expiresSoon(cert: NodeX509Certificate, now: Date): boolean {
  const notAfter = new Date(cert.validTo).getTime();
  return !(notAfter - now.getTime() > RENEW_BEFORE_DAYS * DAY_MS);
}

async function loadCa(x509: X509Library, dir: string, now: Date): Promise<Ca | undefined> {
  const [certPem, keyPem] = await Promise.all([
    readIfPresent(join(dir, files.caCert)),
    readIfPresent(join(dir, files.caKey)),
  ]);
  if (!certPem || !keyPem) return undefined;
  const cert = parseCertificate(certPem);
  const key = parsePrivateKey(keyPem);
  if (!cert || !key || !cert.ca || !cert.checkPrivateKey(key) || expiresSoon(cert, now)) return undefined;
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    return undefined;
  const signingKey = await subtle.importKey(
    'pkcs8',
    key.export({ type: 'pkcs8', format: 'der' }),
    algorithm,
    false,
    ['sign'],
  );
  return { certPem, keyPem, cert, signingKey, x509: new x509.X509Certificate(certPem) };
}

async function loadServer(
  dir: string,
  caCert: NodeX509Certificate,
  names: SanName[],
  now: Date,
): Promise<Omit<LocalCertificates, 'caCert'> | undefined> {
  const [serverCert, serverKey] = await Promise.all([
    readIfPresent(join(dir, files.serverCert)),
    readIfPresent(join(dir, files.serverKey)),
  ]);
  if (!serverCert || !serverKey) return undefined;
  const cert = parseCertificate(serverCert);
  const key = parsePrivateKey(serverKey);
  if (!cert || !key || !cert.checkPrivateKey(key) || expiresSoon(cert, now)) return undefined;
  if (!cert.checkIssued(caCert) || !cert.verify(caCert.publicKey)) return undefined;
  const covered = names.every((name) =>
    name.type === 'ip'
      ? cert.checkIP(name.value) !== undefined
      : cert.checkHost(name.value, { subject: 'never', wildcards: false }) !== undefined,
  );
  return covered ? { serverCert, serverKey } : undefined;
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

async function privateKeyPem(x509: X509Library, key: webcrypto.CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

async function createCa(x509: X509Library, now: Date): Promise<Ca> {
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=lambernetes-ca@${Math.floor(now.getTime() / 1000)}`,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + CA_LIFETIME_DAYS * DAY_MS),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const certPem = certificate.toString('pem');
  return {
    certPem,
    keyPem: await privateKeyPem(x509, keys.privateKey),
    cert: new NodeX509Certificate(certPem),
    signingKey: keys.privateKey,
    x509: certificate,
  };
}

async function createServerCertificate(
  x509: X509Library,
  ca: Ca,
  names: SanName[],
  now: Date,
): Promise<Omit<LocalCertificates, 'caCert'>> {
  const keys = await generateKeys();
  const certificate = await x509.X509CertificateGenerator.create({
    subject: 'CN=lambernetes-apiserver',
    issuer: ca.x509.subject,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter: new Date(now.getTime() + SERVER_LIFETIME_DAYS * DAY_MS),
    signingAlgorithm: algorithm,
    publicKey: keys.publicKey,
    signingKey: ca.signingKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ...authorityKeyIdentifier(x509, ca.x509),
    ],
  });
  return { serverCert: certificate.toString('pem'), serverKey: await privateKeyPem(x509, keys.privateKey) };
}

/** Names the CA's subject key identifier, so a verifier picks the right issuer. */
function authorityKeyIdentifier(x509: X509Library, caCert: X509.X509Certificate): X509.Extension[] {
  const ski = caCert.getExtension(x509.SubjectKeyIdentifierExtension);
  return ski ? [new x509.AuthorityKeyIdentifierExtension(ski.keyId)] : [];
}

/** Writes through a temporary file and a rename, so a reader never sees half a file. */
async function writeAtomically(path: string, content: string, mode: number): Promise<void> {
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, content, { mode });
  await rename(temporary, path);
}

function writePrivate(path: string, pem: string): Promise<void> {
  return writeAtomically(path, pem, 0o600);
}

function writePublic(path: string, pem: string): Promise<void> {
  return writeAtomically(path, pem, 0o644);
}
