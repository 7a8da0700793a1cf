/*
 * Business rule "snow-ticket connector: ticket changed", one on each table the connector opens tickets in:
 *
 *   Table:      Incident [incident]              (and a second rule, identical, on Request [sc_request])
 *   Active:     true
 *   Advanced:   true
 *   When:       async          (after the update is committed, on a scheduler worker: the user never waits)
 *   Update:     true           (Insert, Delete, Query: false; the connector opens the tickets itself)
 *   Filter conditions (When to run), all of:
 *     Correlation display  is  snow-ticket-connector
 *     and one of:  State changes  OR  Active changes
 *                  (on sc_request also  OR  Request state changes)
 *
 * The filter is evaluated when the record is saved, so "changes" sees the update that triggered the rule; only
 * the script runs later. Work notes, reassignments and other edits send nothing: only a change that can close or
 * cancel the ticket matters to the connector. Sending more is harmless (the connector re-reads the ticket and
 * ignores notices it does not need), sending less only delays the outcome until the connector's next sweep.
 *
 * In an async rule `previous` is not available: the script uses `current` only. The work is done by the Script
 * Include SnowTicketConnectorPush (ticket_changed_outbound.js), which checks the tag again and never throws.
 *
 * Plain ES5 for ServiceNow's Rhino engine: this file is not run, linted or compiled by the connector's build.
 */
(function executeRule(current /*, previous: null in async rules */) {
  new SnowTicketConnectorPush().notify(current);
})(current);
