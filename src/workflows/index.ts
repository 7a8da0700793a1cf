export { selfCheckWorkflow } from './selfCheck';
export { provisioningWorkflow } from './provisioning/workflow';
