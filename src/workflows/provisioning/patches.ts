/**
 * Changes to the commands this workflow issues, each behind `patched(id)` so that runs started by an older
 * release replay as they ran (test/histories/ holds histories of both sides). When no run of the old side can
 * be open any more, the check becomes `deprecatePatch(id)`, and later goes.
 */
export const Patches = {
  /** New runs check the order against the limits of src/contract/limits.ts, which the first release did not. */
  orderLimits: 'order-limits',
  /** Assignment records cannot be canceled midway and run one after the other: Transmitted never lands last. */
  recordsInOrder: 'records-in-order',
  /** A failure after the order was accepted records Errored with its reason before the workflow fails. */
  recordFailures: 'record-failures',
  /** A malformed ticketChanged notice (sysModCount not a count) is ignored instead of acted on. */
  validatedNotices: 'validated-notices',
  /** New runs refuse an assignment or workflow id of "." or "..", which no Identity Manager URL can address. */
  dotSegmentIds: 'dot-segment-ids',
  /**
   * New runs on a password task queue set the password an order carries instead of opening a ticket (the
   * marker is recorded on every queue, before the first command of a new run).
   */
  passwordOrders: 'password-orders',
  /** Each ticket check says what triggered it (the schedule or a notice), so safety polls can yield calls. */
  checkTriggers: 'check-triggers',
} as const;
