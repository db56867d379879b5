/** Audit log API (issue #4) for the auditor's view: the entries, newest first, and the chain check. */
import type { AuditPage, AuditQuery, AuditVerification } from '@contracts/audit';
import { authedJson, queryString } from './events';

export const listAudit = (token: string, query: Partial<AuditQuery>): Promise<AuditPage> => authedJson<AuditPage>(token, `/api/v1/audit${queryString(query)}`);

export const verifyAudit = (token: string): Promise<AuditVerification> => authedJson<AuditVerification>(token, '/api/v1/audit/verify');
