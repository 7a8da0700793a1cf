import { installQuietRuntime } from '../../scripts/harness/temporalServers';

installQuietRuntime();

export {
  createDevServerEnv,
  createTimeSkippingEnv,
  workflowBundle,
} from '../../scripts/harness/temporalServers';
