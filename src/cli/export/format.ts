/** How the export commands write points in time. */

export function time(date: Date | undefined): string {
  return date === undefined
    ? ''
    : date
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z');
}
