// CA, serving certificate, bearer token and kubeconfig, all kept in the data dir and reused.
import { generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type Forge from 'node-forge';
import type { Config } from '../config.ts';

export interface TlsMaterial { caPem: string; certPem: string; keyPem: string; token: string }

function writeSecretFile(path: string, content: string): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, path);
}

function newKey(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function serial(): string {
  const b = randomBytes(16); b[0] &= 0x7f;
  return b.toString('hex');
}

/**
 * Signs with node's native RSA instead of forge's JavaScript one (seconds when V8 runs in
 * lite mode, as production does): forge builds the structure, crypto.sign signs its bytes.
 */
function signCert(forge: typeof Forge, cert: Forge.pki.Certificate, keyPem: string): void {
  const oid = forge.pki.oids.sha256WithRSAEncryption;
  cert.signatureOid = oid;
  cert.siginfo.algorithmOid = oid;
  const tbs = (forge.pki as unknown as { getTBSCertificate(c: Forge.pki.Certificate): Forge.asn1.Asn1 }).getTBSCertificate(cert);
  (cert as unknown as { tbsCertificate: unknown }).tbsCertificate = tbs;
  const der = Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary');
  cert.signature = sign('sha256', der, keyPem).toString('binary');
}

function makeCa(forge: typeof Forge): { certPem: string; keyPem: string } {
  const k = newKey();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(k.publicPem);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 10 * 365 * 86400_000);
  const attrs = [{ name: 'commonName', value: 'k2d-ca' }];
  cert.setSubject(attrs); cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  signCert(forge, cert, k.privatePem);
  return { certPem: forge.pki.certificateToPem(cert), keyPem: k.privatePem };
}

function makeServing(forge: typeof Forge, ca: { certPem: string; keyPem: string }, names: string[]): { certPem: string; keyPem: string } {
  const k = newKey();
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(k.publicPem);
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 5 * 365 * 86400_000);
  cert.setSubject([{ name: 'commonName', value: 'k2d' }]);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = names.map((n) => (isIP(n) ? { type: 7, ip: n } : { type: 2, value: n }));
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
  ]);
  signCert(forge, cert, ca.keyPem);
  return { certPem: forge.pki.certificateToPem(cert), keyPem: k.privatePem };
}

/** Names the serving certificate must carry; a change (new advertise address) re-issues it. */
export function servingNames(cfg: Config): string[] {
  const names = new Set(['127.0.0.1', 'localhost', cfg.hostname, cfg.advertiseAddr, 'kubernetes', 'kubernetes.default',
    'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local']);
  if (cfg.address !== '0.0.0.0' && cfg.address !== '::') names.add(cfg.address);
  return [...names].filter(Boolean).sort();
}

function certCovers(certPem: string, names: string[]): boolean {
  try {
    const c = new X509Certificate(certPem);
    if (new Date(c.validTo).getTime() < Date.now() + 30 * 86400_000) return false;
    const san = c.subjectAltName ?? '';
    return names.every((n) => san.includes(isIP(n) ? `IP Address:${n}` : `DNS:${n}`));
  } catch {
    return false;
  }
}

// node-forge is only needed the first time (or when the names change): load it then.
const loadForge = async () => ((await import('node-forge')) as unknown as { default: typeof Forge }).default;

export async function loadOrCreateTls(cfg: Config): Promise<TlsMaterial> {
  mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  const p = (f: string) => join(cfg.dataDir, f);
  let ca: { certPem: string; keyPem: string };
  if (existsSync(p('ca.crt')) && existsSync(p('ca.key'))) {
    ca = { certPem: readFileSync(p('ca.crt'), 'utf8'), keyPem: readFileSync(p('ca.key'), 'utf8') };
  } else {
    ca = makeCa(await loadForge());
    writeSecretFile(p('ca.key'), ca.keyPem);
    writeSecretFile(p('ca.crt'), ca.certPem);
  }
  const names = servingNames(cfg);
  let serving: { certPem: string; keyPem: string };
  if (existsSync(p('server.crt')) && existsSync(p('server.key')) && certCovers(readFileSync(p('server.crt'), 'utf8'), names)) {
    serving = { certPem: readFileSync(p('server.crt'), 'utf8'), keyPem: readFileSync(p('server.key'), 'utf8') };
  } else {
    serving = makeServing(await loadForge(), ca, names);
    writeSecretFile(p('server.key'), serving.keyPem);
    writeSecretFile(p('server.crt'), serving.certPem);
  }
  let token = cfg.token;
  if (!token) {
    if (existsSync(p('token'))) token = readFileSync(p('token'), 'utf8').trim();
    if (!token) {
      token = randomBytes(32).toString('base64url');
      writeSecretFile(p('token'), token + '\n');
    }
  }
  return { caPem: ca.certPem, certPem: serving.certPem, keyPem: serving.keyPem, token };
}

export function kubeconfigText(cfg: Config, tls: TlsMaterial): string {
  const host = cfg.advertiseAddr.includes(':') ? `[${cfg.advertiseAddr}]` : cfg.advertiseAddr;
  const ca = Buffer.from(tls.caPem).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: k2d',
    '  cluster:',
    `    server: https://${host}:${cfg.port}`,
    `    certificate-authority-data: ${ca}`,
    'users:',
    '- name: k2d',
    '  user:',
    `    token: ${tls.token}`,
    'contexts:',
    '- name: k2d',
    '  context:',
    '    cluster: k2d',
    '    user: k2d',
    '    namespace: default',
    'current-context: k2d',
    '',
  ].join('\n');
}

export function writeKubeconfig(cfg: Config, tls: TlsMaterial): string {
  const path = join(cfg.dataDir, 'kubeconfig');
  const text = kubeconfigText(cfg, tls);
  if (!existsSync(path) || readFileSync(path, 'utf8') !== text) writeSecretFile(path, text);
  return path;
}
