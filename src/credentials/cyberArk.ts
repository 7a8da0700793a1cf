import path from 'node:path';
import { z } from 'zod';
import type { CyberArkSettings } from '../config/schema';
import { readSettingsFile } from '../config/settingsFile';
import { answerJson, Exchange, ExchangeError, type ExchangeAnswer } from '../http/exchange';
import { peerText } from '../http/peerText';
import { SecretRedactor } from '../http/redaction';
import { certificateFilesIn, loadCertificate } from './certificates';
import { CredentialStoreError } from './errors';
import type { SettingsSource, SettingValue } from './layers';
import { leaves, pathText } from './settingsTree';

export const DEFAULT_CYBERARK_FILE = 'appsettings.cyberark.agent.json';

/** A settings file naming more objects than this is a mistake; the reads stop rather than run on. */
const MAX_OBJECTS = 500;
const MAX_ANSWER_BYTES = 1024 * 1024;

export interface CyberArkSourceOptions {
  readonly settings: CyberArkSettings;
  /** The settings file, beside which `appsettings.cyberark.agent.json` is looked for. */
  readonly settingsFile: string | undefined;
  readonly cwd: string;
  /** Extra trusted CA certificates (PEM) for the provider's server certificate; tests pass their own CA. */
  readonly ca?: string;
  readonly timeoutMs?: number;
}

const accountAnswer = z.object({ Content: z.string() });
const errorAnswer = z.object({ ErrorCode: z.string().optional(), ErrorMsg: z.string().optional() });

/** Where the file naming the CyberArk object of each setting is. */
export function cyberArkSettingsFile(
  options: Pick<CyberArkSourceOptions, 'settings' | 'settingsFile' | 'cwd'>,
): string {
  const folder = options.settingsFile === undefined ? options.cwd : path.dirname(options.settingsFile);
  return path.resolve(folder, options.settings.SettingsFile ?? DEFAULT_CYBERARK_FILE);
}

/**
 * CyberArk's Central Credential Provider (REST `GetPassword`): `appsettings.cyberark.agent.json` mirrors the
 * settings, and each of its values names the object (account) in the safe whose password is that setting's value.
 * Each object is read with `GET {Server}/AIMWebService/api/Accounts?AppID=..&Safe=..&Object=..` over mutual TLS
 * (the client certificate authenticates the application).
 */
export function cyberArkSource(options: CyberArkSourceOptions): SettingsSource {
  const { settings } = options;
  const name = `CyberArk ${settings.Server} (safe ${settings.Safe})`;
  return {
    name,
    async read() {
      const mappingFile = cyberArkSettingsFile(options);
      const objects = objectsByPath(mappingFile, name);
      const folder = options.settingsFile === undefined ? options.cwd : path.dirname(options.settingsFile);
      const certificate = loadCertificate(
        certificateFilesIn(settings.ClientCertificate, folder),
        'CyberArk.ClientCertificate',
      );
      if (certificate.privateKeyPem === undefined) {
        throw new CredentialStoreError(name, ['CyberArk.ClientCertificate: the file holds no private key']);
      }
      const exchange = new Exchange({
        timeoutMs: options.timeoutMs ?? 30_000,
        maxResponseBytes: MAX_ANSWER_BYTES,
        keepAlive: true,
        tls: {
          cert: certificate.certificatePem,
          key: certificate.privateKeyPem,
          ...(options.ca === undefined ? {} : { ca: options.ca }),
        },
      });
      const redactor = new SecretRedactor();
      redactor.set('certificate', settings.ClientCertificate.Password);
      const problems: string[] = [];
      const values: SettingValue[] = [];
      try {
        for (const { path: keys, object } of objects) {
          const setting = pathText(keys);
          const origin = `${name}, object ${object}`;
          let answer: ExchangeAnswer;
          try {
            answer = await getAccount(settings, object, exchange);
          } catch (error) {
            if (!(error instanceof ExchangeError)) throw error;
            // The provider itself is out of reach: the other objects would fail the same way.
            problems.push(`${setting} (object ${object}): ${connectionFailure(error)}`);
            break;
          }
          if (answer.status === 200) {
            const account = accountAnswer.safeParse(answerJson(answer));
            if (account.success) {
              values.push({ path: keys, value: account.data.Content, origin });
              redactor.set(`value:${setting}`, account.data.Content);
            } else {
              problems.push(`${setting} (object ${object}): the answer has no Content`);
            }
            continue;
          }
          const error = errorAnswer.safeParse(answerJson(answer));
          const code = error.success ? error.data.ErrorCode : undefined;
          const message = error.success ? peerText(error.data.ErrorMsg, redactor, 300) : undefined;
          problems.push(
            `${setting} (object ${object}): CyberArk answered HTTP ${answer.status}` +
              (code === undefined ? '' : ` ${code}`) +
              (message === undefined ? '' : `: ${message}`),
          );
        }
      } finally {
        exchange.close();
      }
      if (problems.length > 0) throw new CredentialStoreError(name, problems);
      return { source: name, secret: true, values };
    },
  };
}

/** The settings file's leaves: each a CyberArk object name, checked for what the provider's URL cannot carry. */
function objectsByPath(file: string, store: string): { path: string[]; object: string }[] {
  const tree = readSettingsFile(file);
  const problems: string[] = [];
  const objects: { path: string[]; object: string }[] = [];
  for (const { path: keys, value } of leaves(tree)) {
    const setting = pathText(keys);
    if (typeof value !== 'string' || value.trim() === '') {
      problems.push(`${setting} in ${file}: must name a CyberArk object (a non-empty string)`);
    } else if (/[+&%]/.test(value)) {
      problems.push(
        `${setting} in ${file}: the Central Credential Provider cannot look up names with + & or %`,
      );
    } else {
      objects.push({ path: keys, object: value });
    }
  }
  if (objects.length > MAX_OBJECTS) problems.push(`${file}: names more than ${MAX_OBJECTS} objects`);
  if (problems.length > 0) throw new CredentialStoreError(store, problems);
  return objects;
}

function getAccount(settings: CyberArkSettings, object: string, exchange: Exchange): Promise<ExchangeAnswer> {
  return exchange.send({
    method: 'GET',
    url: `${settings.Server.replace(/\/+$/, '')}/AIMWebService/api/Accounts`,
    params: {
      AppID: settings.ApplicationId,
      Safe: settings.Safe,
      ...(settings.Folder !== undefined && { Folder: settings.Folder }),
      Object: object,
    },
    headers: { Accept: 'application/json' },
  });
}

/** Why the provider gave no answer, from error codes only (the TLS stack's codes name certificate problems). */
function connectionFailure(error: ExchangeError): string {
  const { failure } = error;
  if (failure.kind === 'timeout') return 'the Central Credential Provider did not answer in time';
  if (failure.kind === 'response-too-large') return `the answer is larger than ${MAX_ANSWER_BYTES} bytes`;
  const code = failure.kind === 'network' ? (failure.causeCode ?? failure.code) : undefined;
  if (code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
    return `the provider's server certificate is not trusted (${code})`;
  }
  if (code === 'ECONNRESET' || code === 'EPROTO' || (code !== undefined && /ALERT/.test(code))) {
    return `the provider refused the TLS connection (${code}); is the client certificate the one CyberArk expects?`;
  }
  return `the Central Credential Provider cannot be reached (${code ?? failure.kind})`;
}
