import type { SettingsLayer, SettingValue } from './layers';

/** Environment variables of the form SNOW_CONNECTOR__Connections__Main__Password override every other source. */
export const ENV_OVERRIDE_PREFIX = 'SNOW_CONNECTOR__';

/** The settings the environment gives, .NET style: `__` separates levels. TEMPORAL_TASK_QUEUE counts too. */
export function environmentValues(env: NodeJS.ProcessEnv): SettingValue[] {
  const values: SettingValue[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_OVERRIDE_PREFIX) || value === undefined) continue;
    const path = name.slice(ENV_OVERRIDE_PREFIX.length).split('__').filter(Boolean);
    if (path.length === 0) continue;
    values.push({ path, value, origin: `environment variable ${name}` });
  }
  const taskQueue = env.TEMPORAL_TASK_QUEUE;
  if (taskQueue) {
    values.push({
      path: ['TicketConnector', 'Temporal', 'TaskQueue'],
      value: taskQueue,
      origin: 'environment variable TEMPORAL_TASK_QUEUE',
    });
  }
  return values;
}

/** The environment's settings as a layer: applied last, over every other source. */
export function environmentLayer(env: NodeJS.ProcessEnv): SettingsLayer {
  return { source: 'environment overrides', secret: false, values: environmentValues(env) };
}
