import { Command } from 'commander';
import { registerAuditCommands } from './auditCommands';
import { registerCodecServerCommand } from './codecServerCommand';
import { registerConfigCommands } from './configCommands';
import { registerExportCommands } from './exportCommands';
import { registerPasswordCommands } from './passwordCommands';
import { registerProtectCommand } from './protectCommand';
import { registerProvisioningCommands } from './provisioningCommands';
import { registerPushCommand } from './pushCommand';
import { registerSelfCheckCommand } from './selfCheckCommand';
import { registerServiceNowCommands } from './servicenowCommands';
import { registerSimulatorCommands } from './simulatorCommands';
import { CliError } from './errors';
import { version } from '../version';

function buildProgram(): Command {
  const program = new Command('snow-ticket')
    .description('ServiceNow ticket connector for identity governance, on Temporal')
    .version(version)
    .option(
      '-c, --config <file>',
      'settings file (default: $SNOW_CONNECTOR_CONFIG or ./appsettings.agent.json)',
    )
    .showHelpAfterError();
  registerConfigCommands(program);
  registerProtectCommand(program);
  registerSelfCheckCommand(program);
  registerServiceNowCommands(program);
  registerSimulatorCommands(program);
  registerProvisioningCommands(program);
  registerPasswordCommands(program);
  registerAuditCommands(program);
  registerExportCommands(program);
  registerCodecServerCommand(program);
  registerPushCommand(program);
  return program;
}

buildProgram()
  .parseAsync()
  .catch((error: unknown) => {
    // Our errors carry operator-ready messages; anything else is a bug and keeps its stack.
    console.error(error instanceof CliError ? error.message : error);
    process.exitCode = error instanceof CliError ? error.exitCode : 1;
  });
