/** The audit log on the wire (issue #4): read-only, for auditors. */
import { Type, type Static } from 'typebox';
import { PG_INT_MAX } from './common';

export const AuditEntrySchema = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  actorKind: Type.Union([Type.Literal('user'), Type.Literal('token'), Type.Literal('anonymous'), Type.Literal('system')]),
  actorUserId: Type.Union([Type.Integer(), Type.Null()]),
  actorName: Type.Union([Type.String(), Type.Null()]),
  action: Type.String({ description: 'e.g. auth.sign_in, user.permissions_change, layout.publish, registry.unmask' }),
  outcome: Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')]),
  targetType: Type.Union([Type.String(), Type.Null()]),
  targetId: Type.Union([Type.String(), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
  prevHash: Type.String(),
  hash: Type.String(),
});
export type AuditEntry = Static<typeof AuditEntrySchema>;

export const AuditQuerySchema = Type.Object(
  {
    action: Type.Optional(Type.String({ pattern: '^[a-z_.]{1,100}$', description: 'exact action, or a prefix ending in "." (e.g. auth.)' })),
    actorUserId: Type.Optional(Type.Integer({ minimum: 1, maximum: PG_INT_MAX })),
    actorName: Type.Optional(Type.String({ maxLength: 64 })),
    targetType: Type.Optional(Type.String({ maxLength: 64 })),
    targetId: Type.Optional(Type.String({ maxLength: 200 })),
    outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')])),
    from: Type.Optional(Type.String({ format: 'date-time' })),
    to: Type.Optional(Type.String({ format: 'date-time' })),
    /** Paging: entries with a smaller id than this (the previous page's `nextBefore`). */
    before: Type.Optional(Type.Integer({ minimum: 1, maximum: 9007199254740991 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuerySchema>;

export const AuditPageSchema = Type.Object({ entries: Type.Array(AuditEntrySchema), nextBefore: Type.Union([Type.Integer(), Type.Null()]) });
export type AuditPage = Static<typeof AuditPageSchema>;

export const AuditVerificationSchema = Type.Object({
  ok: Type.Boolean(),
  checked: Type.Integer({ description: 'entries checked' }),
  headId: Type.Integer({ description: 'the id the chain head says is last' }),
  firstBroken: Type.Union([
    Type.Object({ id: Type.Integer(), reason: Type.Union([Type.Literal('hash_mismatch'), Type.Literal('prev_hash_mismatch'), Type.Literal('missing_entry'), Type.Literal('head_mismatch')]) }),
    Type.Null(),
  ]),
});
export type AuditVerification = Static<typeof AuditVerificationSchema>;
