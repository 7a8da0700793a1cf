import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ConfigError, resolveConfigPath } from '../config/load';
import { readSettingsFile } from '../config/settingsFile';
import { loadCertificate, type LoadedCertificate } from '../credentials/certificates';
import { encryptValue } from '../credentials/envelope';
import { environmentLayer } from '../credentials/environment';
import { treeLayer } from '../credentials/layers';
import { settingsCertificate } from '../credentials/resolve';
import { parseSettingPath, protectTree } from '../credentials/protect';
import { CliError } from './errors';
import { secretFromFile, secretFromStdin } from './secretInput';

/** A setting's value, not a file piped by mistake. */
const MAX_VALUE_BYTES = 64 * 1024;

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
      'with --file: encrypt only secrets (Password, ClientSecret, ApiKey, BearerToken, Token, Secret, payload keys)',
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
      const certificate = await encryptionCertificate(options, command);
      if (options.setting !== undefined) {
        const setting = parseSettingPath(options.setting);
        if (setting === undefined)
          throw new CliError(
            `--setting: '${options.setting}' is not a setting path such as Connections.Main.Password`,
            2,
          );
        const value =
          options.valueFile === undefined
            ? await secretFromStdin(MAX_VALUE_BYTES, 'The value')
            : await secretFromFile(options.valueFile, 'the --value-file');
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
async function encryptionCertificate(options: ProtectOptions, command: Command): Promise<LoadedCertificate> {
  if (options.certificate !== undefined) {
    const password =
      options.certificatePasswordFile === undefined
        ? undefined
        : await secretFromFile(options.certificatePasswordFile, 'the --certificate-password-file');
    return configured(() =>
      loadCertificate({ File: path.resolve(options.certificate ?? ''), Password: password }, '--certificate'),
    );
  }
  const { config } = command.optsWithGlobals<{ config?: string }>();
  const file = resolveConfigPath(config, process.env);
  // Relative to the settings file, as the worker reads it.
  const certificate = configured(() =>
    settingsCertificate(
      treeLayer(file === undefined ? {} : readSettingsFile(file), 'file'),
      environmentLayer(process.env),
      file === undefined ? process.cwd() : path.dirname(file),
      file ?? 'embedded defaults',
    ),
  );
  if (certificate === undefined) {
    throw new CliError(
      `No certificate: give --certificate <file>, or set EncryptionCertificate.File in ${file ?? 'the settings'}.`,
      2,
    );
  }
  return certificate;
}

function configured<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 2);
    throw error;
  }
}
