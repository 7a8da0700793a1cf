import { request, Agent } from 'node:https';
import path from 'node:path';
import { z } from 'zod';
import type { CyberArkSettings } from '../config/schema';
import { readSettingsFile } from '../config/settingsFile';
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
      const agent = new Agent({
        cert: certificate.certificatePem,
        key: certificate.privateKeyPem,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        keepAlive: true,
        maxSockets: 1,
      });
      const redactor = new SecretRedactor();
      redactor.set('certificate', settings.ClientCertificate.Password);
      const problems: string[] = [];
      const values: SettingValue[] = [];
      try {
        for (const { path: keys, object } of objects) {
          const setting = pathText(keys);
          const origin = `${name}, object ${object}`;
          const answer = await getAccount(settings, object, agent, options.timeoutMs ?? 30_000).catch(
            (error: unknown) => error as Error,
          );
          if (answer instanceof Error) {
            // The provider itself is out of reach: the other objects would fail the same way.
            problems.push(`${setting} (object ${object}): ${connectionFailure(answer)}`);
            break;
          }
          if (answer.status === 200) {
            const account = accountAnswer.safeParse(parseJson(answer.body));
            if (account.success) {
              values.push({ path: keys, value: account.data.Content, origin });
              redactor.set(`value:${setting}`, account.data.Content);
            } else {
              problems.push(`${setting} (object ${object}): the answer has no Content`);
            }
            continue;
          }
          const error = errorAnswer.safeParse(parseJson(answer.body));
          const code = error.success ? error.data.ErrorCode : undefined;
          const message = error.success ? peerText(error.data.ErrorMsg, redactor, 300) : undefined;
          problems.push(
            `${setting} (object ${object}): CyberArk answered HTTP ${answer.status}` +
              (code === undefined ? '' : ` ${code}`) +
              (message === undefined ? '' : `: ${message}`),
          );
        }
      } finally {
        agent.destroy();
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

function getAccount(
  settings: CyberArkSettings,
  object: string,
  agent: Agent,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  const url = new URL(`${settings.Server.replace(/\/+$/, '')}/AIMWebService/api/Accounts`);
  url.searchParams.set('AppID', settings.ApplicationId);
  url.searchParams.set('Safe', settings.Safe);
  if (settings.Folder !== undefined) url.searchParams.set('Folder', settings.Folder);
  url.searchParams.set('Object', object);
  return new Promise((resolve, reject) => {
    const call = request(
      url,
      { method: 'GET', agent, headers: { accept: 'application/json' }, timeout: timeoutMs },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) {
            response.destroy(new Error(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('error', reject);
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    call.on('timeout', () =>
      call.destroy(Object.assign(new Error('no answer in time'), { code: 'ETIMEDOUT' })),
    );
    call.on('error', reject);
    call.end();
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function connectionFailure(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
    return `the provider's server certificate is not trusted (${code})`;
  }
  if (code === 'ECONNRESET' || code === 'EPROTO' || /alert/i.test(error.message)) {
    return `the provider refused the TLS connection (${code ?? 'TLS alert'}); is the client certificate the one CyberArk expects?`;
  }
  return `the Central Credential Provider cannot be reached (${code ?? clipMessage(error.message)})`;
}

function clipMessage(message: string): string {
  return message.replace(/\s+/g, ' ').slice(0, 200);
}
