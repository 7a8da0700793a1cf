/** Everything written to stderr (the worker's log lines: the SDK's DefaultLogger writes there) until `stop`. */
export function captureStderr(): { text: () => string; stop: () => void } {
  const chunks: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  const forward = original as (...args: unknown[]) => boolean;
  process.stderr.write = (chunk: string | Uint8Array, ...rest: unknown[]) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return forward(chunk, ...rest);
  };
  return {
    text: () => chunks.join(''),
    stop: () => {
      process.stderr.write = original;
    },
  };
}
