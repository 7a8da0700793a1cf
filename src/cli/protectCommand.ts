import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ConfigError, resolveConfigPath } from '../config/load';
import { encryptionCertificateSchema } from '../config/schema';
import { readSettingsFile } from '../config/settingsFile';
import { certificateFilesIn, loadCertificate, type LoadedCertificate } from '../credentials/certificates';
import { encryptValue } from '../credentials/envelope';
import { environmentValues } from '../credentials/environment';
import { mergeLayers, treeLayer } from '../credentials/layers';
import { parseSettingPath, protectTree } from '../credentials/protect';
import { getPath } from '../credentials/settingsTree';
import { CliError } from './errors';

interface ProtectOptions {
  setting?: string;
  valueFile?: string;
  file?: string;
  out?: string;
  secretsOnly?: boolean;
  force?: boolean;
  certificate?: string;
  certificatePasswordFile?: string;
}

export function registerProtectCommand(program: Command): void {
  program
    .command('protect')
    .description(
      'encrypt settings for appsettings.encrypted.agent.json with a certificate (PEM or PFX): one value ' +
        '(--setting, value from stdin or --value-file, printed as enc:v1:...) or a whole file (--file, --out)',
    )
    .option(
      '--setting <path>',
      'the setting the value is for, e.g. Connections.Main.Password (values are bound to it)',
    )
    .option(
      '--value-file <file>',
      'read the value from this file instead of stdin (one trailing newline is dropped)',
    )
    .option('--file <settings>', 'encrypt every value of this settings file')
    .option('--out <file>', 'with --file: where to write the encrypted settings')
    .option(
      '--secrets-only',
      'with --file: encrypt only Password, ClientSecret, ApiKey and BearerToken values',
    )
    .option('--force', 'with --file: replace --out if it exists')
    .option(
      '--certificate <file>',
      "certificate to encrypt for (default: the settings' EncryptionCertificate.File)",
    )
    .option('--certificate-password-file <file>', 'password of a PFX --certificate, read from this file')
    .action(async (options: ProtectOptions, command: Command) => {
      if ((options.setting === undefined) === (options.file === undefined)) {
        throw new CliError(
          'Give either --setting <path> (one value) or --file <settings> --out <file> (a whole file).',
          2,
        );
      }
      const certificate = encryptionCertificate(options, command);
      if (options.setting !== undefined) {
        const setting = parseSettingPath(options.setting);
        if (setting === undefined)
          throw new CliError(
            `--setting: '${options.setting}' is not a setting path such as Connections.Main.Password`,
            2,
          );
        const value = stripNewline(
          options.valueFile === undefined ? await readStdin() : readText(options.valueFile, '--value-file'),
        );
        if (value === '') throw new CliError('The value is empty: nothing to encrypt.', 2);
        console.log(encryptValue(value, setting.join('.'), certificate));
        return;
      }
      protectFile(options, certificate);
    });
}

function protectFile(options: ProtectOptions, certificate: LoadedCertificate): void {
  const input = path.resolve(options.file ?? '');
  if (options.out === undefined)
    throw new CliError('--file needs --out <file> (e.g. appsettings.encrypted.agent.json).', 2);
  const output = path.resolve(options.out);
  if (output === input) throw new CliError('--out must not be the --file it encrypts.', 2);
  if (existsSync(output) && options.force !== true)
    throw new CliError(`${output} exists; add --force to replace it.`, 2);
  const result = protectTree(
    configured(() => readSettingsFile(input)),
    certificate,
    {
      secretsOnly: options.secretsOnly === true,
    },
  );
  writeFileSync(output, `${JSON.stringify(result.tree, null, 2)}\n`, { mode: 0o600 });
  console.log(`Encrypted ${result.encrypted.length} value(s) of ${input} into ${output}`);
  console.log(`  for certificate ${certificate.description}`);
  for (const setting of result.encrypted) console.log(`  encrypted  ${setting}`);
  for (const { setting, reason } of result.leftOut) console.log(`  left out   ${setting}: ${reason}`);
}

/** `--certificate`, else the settings' EncryptionCertificate (from the file and the environment only). */
function encryptionCertificate(options: ProtectOptions, command: Command): LoadedCertificate {
  if (options.certificate !== undefined) {
    const password =
      options.certificatePasswordFile === undefined
        ? undefined
        : stripNewline(readText(options.certificatePasswordFile, '--certificate-password-file'));
    return configured(() =>
      loadCertificate({ File: path.resolve(options.certificate ?? ''), Password: password }, '--certificate'),
    );
  }
  const { config } = command.optsWithGlobals<{ config?: string }>();
  const file = resolveConfigPath(config, process.env);
  const tree = configured(() =>
    mergeLayers([
      treeLayer(file === undefined ? {} : readSettingsFile(file), 'file'),
      { source: 'environment', secret: false, values: environmentValues(process.env) },
    ]),
  ).tree;
  const section = encryptionCertificateSchema.safeParse(getPath(tree, ['EncryptionCertificate']));
  if (!section.success) {
    throw new CliError(
      `No certificate: give --certificate <file>, or set EncryptionCertificate.File in ${file ?? 'the settings'}.`,
      2,
    );
  }
  // Relative to the settings file, as the worker reads it.
  const base = file === undefined ? process.cwd() : path.dirname(file);
  return configured(() => loadCertificate(certificateFilesIn(section.data, base), 'EncryptionCertificate'));
}

function configured<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 2);
    throw error;
  }
}

function readText(file: string, option: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`${option}: ${file} cannot be read (${(error as NodeJS.ErrnoException).code})`, 2);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

/** What `echo` or an editor adds; the value itself may end with other whitespace. */
function stripNewline(text: string): string {
  return text.replace(/\r?\n$/, '');
}
