export { selfCheckWorkflow } from './selfCheck';
export { provisioningWorkflow } from './provisioning/workflow';
export { exportWorkflow } from './export/workflow';
export { passwordResetWorkflow } from './passwordReset/workflow';
export { ticketSweepWorkflow } from './sweep/workflow';
