/**
 * Accounts, sessions and API tokens on the wire (issue #4). Secrets appear only in the answers that
 * create them (sign-in, refresh, token creation, password reset) and are never readable afterwards.
 */
import { Type, type Static } from 'typebox';
import { PERMISSIONS, ROLES, type Permission, type Role } from '../auth/principal';

export const RoleSchema = Type.Unsafe<Role>(Type.String({ enum: [...ROLES] }));
export const PermissionSchema = Type.Unsafe<Permission>(Type.String({ enum: [...PERMISSIONS] }));

export const UsernameSchema = Type.String({ pattern: '^[a-z0-9][a-z0-9_.-]{1,63}$', description: 'lower-case letters, digits, _ . -' });
/** Bounded: hashing a megabyte-long password is a denial of service. */
export const PasswordSchema = Type.String({ minLength: 1, maxLength: 200 });

export const ScopeSchema = Type.Object(
  {
    all: Type.Boolean(),
    prefixes: Type.Array(Type.String({ pattern: '^[0-9]{6,15}$' }), { maxItems: 500, uniqueItems: true, description: 'division (6/9/12 digits) or grid (15 digits) codes' }),
  },
  { additionalProperties: false },
);

export const SignInBodySchema = Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }), password: PasswordSchema }, { additionalProperties: false });
export const RefreshBodySchema = Type.Object({ refreshToken: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
export const ChangePasswordBodySchema = Type.Object({ currentPassword: PasswordSchema, newPassword: PasswordSchema }, { additionalProperties: false });

export const MeSchema = Type.Object({
  kind: Type.Union([Type.Literal('user'), Type.Literal('token')]),
  userId: Type.Integer(),
  username: Type.String(),
  roles: Type.Array(RoleSchema),
  permissions: Type.Array(PermissionSchema),
  scope: ScopeSchema,
  mustChangePassword: Type.Boolean(),
});
export type Me = Static<typeof MeSchema>;

export const SessionTokensSchema = Type.Object({
  tokenType: Type.Literal('Bearer'),
  accessToken: Type.String(),
  /** Seconds. */
  expiresIn: Type.Integer(),
  refreshToken: Type.String(),
  refreshExpiresIn: Type.Integer(),
  user: MeSchema,
});
export type SessionTokens = Static<typeof SessionTokensSchema>;

export const UserSchema = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  displayName: Type.String(),
  roles: Type.Array(RoleSchema),
  scope: ScopeSchema,
  disabled: Type.Boolean(),
  mustChangePassword: Type.Boolean(),
  lockedUntil: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
export type User = Static<typeof UserSchema>;
export const UserListSchema = Type.Object({ users: Type.Array(UserSchema) });

export const CreateUserBodySchema = Type.Object(
  {
    username: UsernameSchema,
    displayName: Type.Optional(Type.String({ maxLength: 100 })),
    /** Omitted: a random one-time password is generated, returned once, and must be changed at first sign-in. */
    password: Type.Optional(PasswordSchema),
    roles: Type.Array(RoleSchema, { uniqueItems: true, maxItems: ROLES.length }),
    scope: ScopeSchema,
  },
  { additionalProperties: false },
);
export type CreateUserBody = Static<typeof CreateUserBodySchema>;

export const UpdateUserBodySchema = Type.Object(
  {
    displayName: Type.Optional(Type.String({ maxLength: 100 })),
    roles: Type.Optional(Type.Array(RoleSchema, { uniqueItems: true, maxItems: ROLES.length })),
    scope: Type.Optional(ScopeSchema),
    /** Disabling revokes every session and API token of the user at once. */
    disabled: Type.Optional(Type.Boolean()),
    /** Clears a sign-in lockout. */
    unlock: Type.Optional(Type.Literal(true)),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateUserBody = Static<typeof UpdateUserBodySchema>;

export const CreatedUserSchema = Type.Object({ user: UserSchema, oneTimePassword: Type.Union([Type.String(), Type.Null()]) });
export const PasswordResetSchema = Type.Object({ oneTimePassword: Type.String() });

export const ApiTokenSchema = Type.Object({
  id: Type.Integer(),
  userId: Type.Integer(),
  name: Type.String(),
  tokenPrefix: Type.String({ description: 'first characters of the token, to tell tokens apart' }),
  roles: Type.Array(RoleSchema),
  scope: ScopeSchema,
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});
export type ApiToken = Static<typeof ApiTokenSchema>;
export const ApiTokenListSchema = Type.Object({ tokens: Type.Array(ApiTokenSchema) });

export const CreateApiTokenBodySchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    /** A subset of the creator's roles. */
    roles: Type.Array(RoleSchema, { minItems: 1, uniqueItems: true, maxItems: ROLES.length }),
    /** Inside the creator's scope; omitted = the creator's scope. */
    scope: Type.Optional(ScopeSchema),
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
  },
  { additionalProperties: false },
);
export type CreateApiTokenBody = Static<typeof CreateApiTokenBodySchema>;
export const CreatedApiTokenSchema = Type.Object({ token: Type.String({ description: 'shown once; store it now' }), apiToken: ApiTokenSchema });
