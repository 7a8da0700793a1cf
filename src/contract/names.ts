/**
 * Workflow type names and the default task queue: part of the public contract, since Identity Manager's own
 * Temporal client starts workflows by these names.
 */
export const PROVISIONING_WORKFLOW_TYPE = 'provisioningWorkflow';
export const EXPORT_WORKFLOW_TYPE = 'exportWorkflow';
export const SELF_CHECK_WORKFLOW_TYPE = 'selfCheckWorkflow';
