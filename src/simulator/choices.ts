import type { TableName } from '../servicenow/tables';

/** Choice labels, returned as display values (`sysparm_display_value=true|all`) and by the admin ticket list. */

type Labels = Readonly<Record<string, string>>;

const INCIDENT_STATE: Labels = {
  '1': 'New',
  '2': 'In Progress',
  '3': 'On Hold',
  '6': 'Resolved',
  '7': 'Closed',
  '8': 'Canceled',
};
const CATALOG_STATE: Labels = {
  '-5': 'Pending',
  '1': 'Open',
  '2': 'Work in Progress',
  '3': 'Closed Complete',
  '4': 'Closed Incomplete',
  '7': 'Closed Skipped',
};
const SEVERITY: Labels = { '1': '1 - High', '2': '2 - Medium', '3': '3 - Low' };
const TASK_CHOICES: Readonly<Record<string, Labels>> = {
  impact: SEVERITY,
  urgency: SEVERITY,
  priority: {
    '1': '1 - Critical',
    '2': '2 - High',
    '3': '3 - Moderate',
    '4': '4 - Low',
    '5': '5 - Planning',
  },
  approval: {
    'not requested': 'Not Yet Requested',
    requested: 'Requested',
    approved: 'Approved',
    rejected: 'Rejected',
  },
};

const CHOICES: Partial<Record<TableName, Readonly<Record<string, Labels>>>> = {
  incident: { ...TASK_CHOICES, state: INCIDENT_STATE },
  sc_request: {
    ...TASK_CHOICES,
    state: CATALOG_STATE,
    request_state: {
      requested: 'Requested',
      in_process: 'In Process',
      closed_complete: 'Closed Complete',
      closed_incomplete: 'Closed Incomplete',
      closed_cancelled: 'Closed Cancelled',
      closed_rejected: 'Closed Rejected',
      closed_skipped: 'Closed Skipped',
    },
  },
  sc_req_item: { ...TASK_CHOICES, state: CATALOG_STATE },
  sc_task: { ...TASK_CHOICES, state: CATALOG_STATE },
};

/** The label of a choice value; the value itself for fields without choices or values without a label. */
export function choiceLabel(table: TableName, field: string, value: string): string {
  return CHOICES[table]?.[field]?.[value] ?? value;
}
