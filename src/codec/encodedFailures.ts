import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Loaded by path (`failureConverterPath`), in the workflow sandbox too: failure messages and stack traces move
 * into an encoded payload, which the payload codec then seals, since Temporal stores them in clear otherwise.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
