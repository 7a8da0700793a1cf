export { waitFor } from '../../scripts/harness/waitFor';
