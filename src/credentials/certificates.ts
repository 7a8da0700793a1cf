import { createHash, createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';
import { ConfigError } from '../config/configError';

/** Where a certificate is configured: `File` (PEM or PFX/PKCS#12), `KeyFile` (PEM key beside a PEM certificate). */
export interface CertificateSettings {
  readonly File: string;
  readonly Password?: string | undefined;
  readonly KeyFile?: string | undefined;
}

/** The same settings with File and KeyFile taken relative to `folder` (the settings file's), as the reference does. */
export function certificateFilesIn<T extends CertificateSettings>(settings: T, folder: string): T {
  return {
    ...settings,
    File: path.resolve(folder, settings.File),
    ...(settings.KeyFile === undefined ? {} : { KeyFile: path.resolve(folder, settings.KeyFile) }),
  };
}

export interface LoadedCertificate {
  /** The certificate (first of the file) and any chain after it, PEM. */
  readonly certificatePem: string;
  readonly publicKey: KeyObject;
  /** PKCS#8 PEM; undefined when the file holds only the certificate (enough to encrypt, not to decrypt). */
  readonly privateKeyPem: string | undefined;
  readonly privateKey: KeyObject | undefined;
  /** First 8 bytes of SHA-256 over the public key (SubjectPublicKeyInfo): tells values of another key apart. */
  readonly keyId: Buffer;
  /** For messages: subject and SHA-256 fingerprint, never key material. */
  readonly description: string;
}

// PKCS#12 bag types (RFC 7292).
const CERT_BAG = '1.2.840.113549.1.12.10.1.3';
const SHROUDED_KEY_BAG = '1.2.840.113549.1.12.10.1.2';
const KEY_BAG = '1.2.840.113549.1.12.10.1.1';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g;

/**
 * Reads a certificate and, when present, its private key: PEM (certificate and key in one file, or `KeyFile`)
 * or PFX/PKCS#12 (parsed with node-forge: Node's crypto cannot open PKCS#12). `setting` names the section
 * (`EncryptionCertificate`) in errors; the password is never echoed.
 */
export function loadCertificate(settings: CertificateSettings, setting: string): LoadedCertificate {
  const problem = (field: string, reason: string) =>
    new ConfigError(setting, [`${setting}.${field}: ${reason}`]);
  const content = readCertificateFile(settings.File, (reason) => problem('File', reason));
  const text = content.toString('latin1');
  const parts = text.includes('-----BEGIN ')
    ? pemParts(text, settings, (field, reason) => problem(field, reason))
    : pfxParts(content, settings.Password, (reason) => problem('File', reason));
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(parts.certificatePem);
  } catch {
    throw problem('File', `the file ${settings.File} holds no readable X.509 certificate`);
  }
  const publicKey = certificate.publicKey;
  if (publicKey.asymmetricKeyType !== 'rsa') {
    throw problem(
      'File',
      `the certificate's key is ${publicKey.asymmetricKeyType ?? 'unknown'}; an RSA key is needed`,
    );
  }
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  if (parts.privateKey !== undefined) {
    const matching = createPublicKey(parts.privateKey).export({ type: 'spki', format: 'der' });
    if (!matching.equals(spki)) {
      throw problem(
        settings.KeyFile === undefined ? 'File' : 'KeyFile',
        'the private key does not belong to the certificate',
      );
    }
  }
  return {
    certificatePem: parts.certificatePem,
    publicKey,
    privateKey: parts.privateKey,
    privateKeyPem: parts.privateKey?.export({ type: 'pkcs8', format: 'pem' }).toString(),
    keyId: createHash('sha256').update(spki).digest().subarray(0, 8),
    description: `${certificate.subject.replace(/\n/g, ', ')} (SHA-256 ${certificate.fingerprint256})`,
  };
}

function readCertificateFile(file: string, fail: (reason: string) => Error): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw fail(
      code === 'ENOENT' ? `the file ${file} does not exist` : `the file ${file} cannot be read (${code})`,
    );
  }
}

interface CertificateParts {
  certificatePem: string;
  privateKey: KeyObject | undefined;
}

function pemParts(
  text: string,
  settings: CertificateSettings,
  fail: (field: string, reason: string) => Error,
): CertificateParts {
  const blocks = [...text.matchAll(PEM_BLOCK)];
  const certificates = blocks.filter((block) => block[1] === 'CERTIFICATE').map((block) => block[0]);
  if (certificates.length === 0) throw fail('File', `the file ${settings.File} holds no PEM certificate`);
  let keyText = blocks.find((block) => block[1]?.endsWith('PRIVATE KEY'))?.[0];
  let keyField = 'File';
  if (settings.KeyFile !== undefined) {
    keyField = 'KeyFile';
    const keyFileText = readCertificateFile(settings.KeyFile, (reason) => fail('KeyFile', reason)).toString(
      'latin1',
    );
    keyText = [...keyFileText.matchAll(PEM_BLOCK)].find((block) => block[1]?.endsWith('PRIVATE KEY'))?.[0];
    if (keyText === undefined) throw fail('KeyFile', `the file ${settings.KeyFile} holds no PEM private key`);
  }
  let privateKey: KeyObject | undefined;
  if (keyText !== undefined) {
    try {
      privateKey = createPrivateKey({
        key: keyText,
        format: 'pem',
        ...(settings.Password === undefined ? {} : { passphrase: settings.Password }),
      });
    } catch {
      throw fail(
        keyField,
        keyText.includes('ENCRYPTED')
          ? 'the private key cannot be opened: Password is missing or wrong'
          : 'the private key cannot be read',
      );
    }
  }
  return { certificatePem: certificates.join('\n'), privateKey };
}

function pfxParts(
  content: Buffer,
  password: string | undefined,
  fail: (reason: string) => Error,
): CertificateParts {
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    const asn1 = forge.asn1.fromDer(forge.util.createBuffer(content.toString('binary')));
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, password ?? '');
  } catch (error) {
    // forge says "PKCS#12 MAC could not be verified. Invalid password?" for a wrong password.
    const wrongPassword = error instanceof Error && /password/i.test(error.message);
    throw fail(
      wrongPassword
        ? 'the PFX file cannot be opened: Password is missing or wrong'
        : 'the file is neither PEM nor a readable PFX (PKCS#12) file',
    );
  }
  const bags = (type: string): forge.pkcs12.Bag[] => p12.getBags({ bagType: type })[type] ?? [];
  const certificates = bags(CERT_BAG)
    .map((bag) => bag.cert)
    .filter((cert): cert is forge.pki.Certificate => cert !== undefined);
  const key = [...bags(SHROUDED_KEY_BAG), ...bags(KEY_BAG)]
    .map((bag) => bag.key)
    .find((candidate) => candidate !== undefined);
  if (certificates.length === 0) throw fail('the PFX file holds no certificate');
  // The certificate of the private key goes first, whatever order the bags come in.
  const ordered =
    key === undefined
      ? certificates
      : [
          ...certificates.filter((cert) => matchesKey(cert, key)),
          ...certificates.filter((cert) => !matchesKey(cert, key)),
        ];
  return {
    certificatePem: ordered.map((cert) => forge.pki.certificateToPem(cert)).join('\n'),
    privateKey: key === undefined ? undefined : createPrivateKey(forge.pki.privateKeyToPem(key)),
  };
}

function matchesKey(certificate: forge.pki.Certificate, key: forge.pki.PrivateKey): boolean {
  const publicKey = certificate.publicKey as forge.pki.rsa.PublicKey;
  const privateKey = key as forge.pki.rsa.PrivateKey;
  return publicKey.n !== undefined && privateKey.n !== undefined && publicKey.n.equals(privateKey.n);
}
