import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { Deps } from '../../platform/deps.js';
import { requireUser, signedIn, staffElseNotFound, staffOnly } from '../../platform/auth.js';
import { badRequest, notFound } from '../../platform/errors/http-errors.js';
import { validationErrorsToFields } from '../../platform/errors/validation.js';
import { DetailMessage, errors } from '../../platform/http/schemas.js';
import { listQuerySchema, pageSchema } from '../../platform/list/index.js';
import {
  listUsers,
  updateProfile,
  updateUserAsStaff,
  userListSpec,
  userVisibleTo,
} from './administration.js';
import { changePassword, confirmPasswordReset, requestPasswordReset } from './password-reset.js';
import { register, resendVerification, verifyEmail } from './registration.js';
import {
  ChangePasswordBody,
  EmailBody,
  LoginBody,
  ProfilePatch,
  RefreshBody,
  RegisterBody,
  ResetConfirmBody,
  SelfUser,
  StaffPatch,
  StaffUser,
  TokenPairBody,
  UserDetail,
} from './schemas.js';
import { logout, obtainTokens, refreshSession } from './sessions.js';
import { findUserById, selfView, staffView } from './users.js';

const authThrottle = { throttle: { scope: 'auth', perIp: true } };
const usersThrottle = { throttle: { scope: 'users' } };
const bearer = [{ bearerAuth: [] }];

const RESEND_MESSAGE = 'If an account with this e-mail is awaiting verification, a new link has been sent.';
const RESET_MESSAGE = 'If an active account with this e-mail exists, a password reset e-mail has been sent.';

export function accountRoutes(app: FastifyInstance, deps: Deps): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post(
    '/api/register/',
    {
      config: authThrottle,
      schema: {
        tags: ['accounts'],
        summary: 'Create an account; a verification e-mail follows',
        body: RegisterBody,
        response: {
          201: Type.Object({ message: Type.String(), user: SelfUser }),
          ...errors(400, 429),
        },
      },
    },
    async (request, reply) => {
      const user = await register(deps, request.body);
      return reply.code(201).send({
        message: 'User created successfully. Please check your email for verification.',
        user: selfView(user),
      });
    },
  );

  r.get(
    '/api/verify-email/:token/',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Verify an e-mail address (the link in the verification e-mail)',
        params: Type.Object({ token: Type.String({ maxLength: 2000 }) }),
        response: { 200: DetailMessage, ...errors(400, 429) },
      },
    },
    async (request) => {
      await verifyEmail(deps, request.params.token);
      return { detail: 'Email verified successfully.' };
    },
  );

  r.post(
    '/api/resend-verification/',
    {
      config: authThrottle,
      schema: {
        tags: ['accounts'],
        summary: 'Send a new verification link (the answer is the same whether or not the account exists)',
        body: EmailBody,
        response: { 200: DetailMessage, ...errors(400, 429) },
      },
    },
    async (request) => {
      await resendVerification(deps, request.body.email);
      return { detail: RESEND_MESSAGE };
    },
  );

  r.post(
    '/api/auth/token/',
    {
      config: { ...authThrottle, noStore: true },
      // The schema cannot say "username or email"; the handler adds that to ajv's errors, so a
      // client learns of every missing field at once.
      attachValidation: true,
      schema: {
        tags: ['auth'],
        summary: 'Sign in: an access and a refresh token',
        body: LoginBody,
        response: { 200: TokenPairBody, ...errors(400, 401, 403, 429) },
      },
    },
    async (request) => {
      const invalid = (request.validationError as FastifyError | undefined)?.validation;
      const fieldErrors = invalid ? validationErrorsToFields(invalid) : {};
      const body: unknown = request.body;
      const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
      if (isObject && !('username' in body) && !('email' in body))
        fieldErrors.username ??= ['This field is required.'];
      if (Object.keys(fieldErrors).length > 0) throw badRequest(fieldErrors);
      const { username, email, password } = request.body;
      return username !== undefined
        ? obtainTokens(deps, { login: username }, password)
        : obtainTokens(deps, { email: email! }, password);
    },
  );

  r.post(
    '/api/auth/token/refresh/',
    {
      config: { noStore: true },
      schema: {
        tags: ['auth'],
        summary: 'Rotate a refresh token: a new pair; the old refresh token is used up',
        body: RefreshBody,
        response: { 200: TokenPairBody, ...errors(400, 401, 429) },
      },
    },
    async (request) => refreshSession(deps, request.body.refresh),
  );

  r.post(
    '/api/auth/logout/',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign out: the refresh token and every token rotated from the same sign-in stop working',
        body: RefreshBody,
        response: { 204: Type.Null(), ...errors(400, 401, 429) },
      },
    },
    async (request, reply) => {
      await logout(deps, request.body.refresh);
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/api/auth/password-reset/',
    {
      config: authThrottle,
      schema: {
        tags: ['auth'],
        summary: 'E-mail a password reset token (the answer is the same whether or not the account exists)',
        body: EmailBody,
        response: { 200: DetailMessage, ...errors(400, 429) },
      },
    },
    async (request) => {
      await requestPasswordReset(deps, request.body.email);
      return { detail: RESET_MESSAGE };
    },
  );

  r.post(
    '/api/auth/password-reset/confirm/',
    {
      config: authThrottle,
      schema: {
        tags: ['auth'],
        summary: 'Set a new password with a reset token; every session of the account ends',
        body: ResetConfirmBody,
        response: { 200: DetailMessage, ...errors(400, 429) },
      },
    },
    async (request) => {
      await confirmPasswordReset(deps, request.body.token, request.body.new_password);
      return { detail: 'Password has been reset.' };
    },
  );

  r.get(
    '/api/users/me/',
    {
      config: usersThrottle,
      preValidation: signedIn,
      schema: {
        tags: ['users'],
        summary: 'The signed-in user',
        security: bearer,
        response: { 200: SelfUser, ...errors(401, 429) },
      },
    },
    async (request) => selfView(await currentUser(requireUser(request).userId)),
  );

  r.patch(
    '/api/users/me/',
    {
      config: usersThrottle,
      preValidation: signedIn,
      schema: {
        tags: ['users'],
        summary: 'Edit the signed-in user’s profile',
        security: bearer,
        body: ProfilePatch,
        response: { 200: SelfUser, ...errors(400, 401, 429) },
      },
    },
    async (request) => {
      const user = await currentUser(requireUser(request).userId);
      if (request.body.email !== undefined) {
        throw badRequest({ email: ['The e-mail address cannot be changed here.'] });
      }
      return selfView(await updateProfile(deps, user, request.body));
    },
  );

  r.post(
    '/api/users/me/password/',
    {
      config: usersThrottle,
      preValidation: signedIn,
      schema: {
        tags: ['users'],
        summary: 'Change the password (needs the current one); every session ends, sign in again',
        security: bearer,
        body: ChangePasswordBody,
        response: { 200: DetailMessage, ...errors(400, 401, 429) },
      },
    },
    async (request) => {
      const { userId } = requireUser(request);
      await changePassword(deps, userId, request.body.current_password, request.body.new_password);
      return { detail: 'Password updated. Sign in again with the new password.' };
    },
  );

  r.get(
    '/api/users/',
    {
      config: usersThrottle,
      preValidation: staffOnly,
      schema: {
        tags: ['users'],
        summary: 'Every user (staff only)',
        security: bearer,
        querystring: listQuerySchema(userListSpec),
        response: { 200: pageSchema(StaffUser), ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) => listUsers(deps, request),
  );

  r.get(
    '/api/users/:id/',
    {
      config: usersThrottle,
      preValidation: signedIn,
      schema: {
        tags: ['users'],
        summary: 'One user (staff; a user may read their own)',
        security: bearer,
        params: Type.Object({ id: Type.String() }),
        response: { 200: UserDetail, ...errors(401, 404, 429) },
      },
    },
    async (request) => {
      const principal = requireUser(request);
      const user = await userVisibleTo(deps, principal, request.params.id);
      return principal.isStaff ? staffView(user) : selfView(user);
    },
  );

  r.patch(
    '/api/users/:id/',
    {
      config: usersThrottle,
      preValidation: staffElseNotFound,
      schema: {
        tags: ['users'],
        summary: 'Edit a user (staff only); deactivate with `is_active: false` — users are never deleted',
        security: bearer,
        params: Type.Object({ id: Type.String() }),
        body: StaffPatch,
        response: { 200: StaffUser, ...errors(400, 401, 403, 404, 429) },
      },
    },
    async (request) => {
      const principal = requireUser(request);
      const user = await userVisibleTo(deps, principal, request.params.id);
      return staffView(await updateUserAsStaff(deps, principal, user, request.body));
    },
  );

  async function currentUser(userId: number) {
    const user = await findUserById(deps.db, userId);
    if (!user) throw notFound();
    return user;
  }

  return Promise.resolve();
}
