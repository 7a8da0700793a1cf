export { selfCheckWorkflow } from './selfCheck';
