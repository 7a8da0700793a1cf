/** The bare workflow's one activity: no I/O, so that its rate is the Temporal server's and the worker's alone. */
export function createBareActivities() {
  return {
    async bareStep(input: unknown): Promise<unknown> {
      return input;
    },
  };
}

export type BareActivities = ReturnType<typeof createBareActivities>;
