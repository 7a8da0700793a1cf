/** A workflow input no retry can fix. */
export class InvalidExportInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidExportInputError';
  }
}
