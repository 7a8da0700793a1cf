/**
 * The provisioning contract: what the workflow, its activities, the client library, the CLI and Identity
 * Manager's own Temporal client agree on. Workflow code may import this module (and only this one, besides its
 * own folder): everything here is deterministic, with no Node built-ins and no I/O.
 */
export * from './provisioningActivities';
export * from './assignments';
export * from './limits';
export * from './messages';
export * from './names';
export * from './order';
export * from './provisioning';
export * from './searchAttributes';
export * from './states';
export * from './export';
export * from './tickets';
