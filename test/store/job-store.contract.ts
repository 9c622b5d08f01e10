import type { JobStore } from '../../src/store/job-store.ts';
import { describeAuditLogContract } from './roles/audit-log.contract.ts';
import { describeBatchRecordsContract } from './roles/batch-records.contract.ts';
import { describeJobListingContract } from './roles/job-listing.contract.ts';
import { describeDedupContract } from './roles/dedup.contract.ts';
import { describeJobRecordsContract } from './roles/job-records.contract.ts';
import { describeRunHistoryContract } from './roles/run-history.contract.ts';
import { describeScalingLogContract } from './roles/scaling-log.contract.ts';
import { describeScheduleRecordsContract } from './roles/schedule-records.contract.ts';

/**
 * The behaviour every JobStore must have, role by role (src/store/roles/; one suite each in
 * ./roles/). Dead-letter writes and retention are in ./lifecycle.contract.ts. `makeStore` must
 * return a fresh, empty store each call; each suite closes it after each test.
 */
export function describeJobStoreContract(name: string, makeStore: () => Promise<JobStore>): void {
  describeJobRecordsContract(name, makeStore);
  describeDedupContract(name, makeStore);
  describeJobListingContract(name, makeStore);
  describeRunHistoryContract(name, makeStore);
  describeBatchRecordsContract(name, makeStore);
  describeScalingLogContract(name, makeStore);
  describeAuditLogContract(name, makeStore);
  describeScheduleRecordsContract(name, makeStore);
}
