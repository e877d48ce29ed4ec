import { Type } from 'typebox';
import { MAX_PASSWORD_LENGTH } from './passwords.js';

export const Username = Type.String({
  minLength: 1,
  maxLength: 150,
  pattern: '^[\\w.@+-]+$',
  'x-error':
    'Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.',
});
export const Email = Type.String({ minLength: 1, maxLength: 254, format: 'email' });
export const Password = Type.String({ minLength: 1, maxLength: MAX_PASSWORD_LENGTH });
const Name = Type.String({ maxLength: 150 });
const Phone = Type.String({
  maxLength: 20,
  pattern: '^[0-9+()\\-. ]*$',
  'x-error': 'Enter a valid phone number.',
});

export const RegisterBody = Type.Object(
  {
    username: Username,
    email: Email,
    password: Password,
    first_name: Type.String({ minLength: 1, maxLength: 150 }),
    last_name: Type.String({ minLength: 1, maxLength: 150 }),
    phone: Type.Optional(Phone),
  },
  { additionalProperties: false, description: 'Any other field (e.g. `is_staff`) is ignored.' },
);

export const EmailBody = Type.Object({ email: Email }, { additionalProperties: false });

export const LoginBody = Type.Object(
  {
    username: Type.Optional(
      Type.String({ minLength: 1, maxLength: 254, description: 'Username or e-mail address.' }),
    ),
    email: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
    password: Password,
  },
  {
    additionalProperties: false,
    description: 'Give `username` (a username or an e-mail address) or `email`.',
  },
);

export const RefreshBody = Type.Object(
  { refresh: Type.String({ minLength: 1, maxLength: 2000 }) },
  { additionalProperties: false },
);

export const TokenPairBody = Type.Object({ access: Type.String(), refresh: Type.String() });

export const ResetConfirmBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 200 }), new_password: Password },
  { additionalProperties: false },
);

export const ChangePasswordBody = Type.Object(
  { current_password: Password, new_password: Password },
  { additionalProperties: false },
);

export const ProfilePatch = Type.Object(
  {
    username: Type.Optional(Username),
    first_name: Type.Optional(Name),
    last_name: Type.Optional(Name),
    phone: Type.Optional(Phone),
    email: Type.Optional(Type.String({ description: 'Not changeable here: a 400 says so.' })),
  },
  { additionalProperties: false, description: 'Any other field (e.g. `is_staff`) is ignored.' },
);

export const StaffPatch = Type.Object(
  {
    username: Type.Optional(Username),
    first_name: Type.Optional(Name),
    last_name: Type.Optional(Name),
    phone: Type.Optional(Phone),
    is_active: Type.Optional(
      Type.Boolean({ description: 'false deactivates the account and ends its sessions.' }),
    ),
    is_verified: Type.Optional(Type.Boolean()),
    is_staff: Type.Optional(Type.Boolean({ description: 'Superusers only.' })),
  },
  { additionalProperties: false },
);

const Timestamp = Type.String({ format: 'date-time' });

export const SelfUser = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  email: Type.String(),
  first_name: Type.String(),
  last_name: Type.String(),
  phone: Type.String(),
  is_verified: Type.Boolean(),
  is_active: Type.Boolean(),
  is_staff: Type.Boolean(),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const StaffUser = Type.Object({
  ...SelfUser.properties,
  is_superuser: Type.Boolean(),
  verification_email_attempts: Type.Integer(),
  verification_email_last_attempt: Type.Union([Timestamp, Type.Null()]),
  verification_email_last_success: Type.Union([Timestamp, Type.Null()]),
});

/** `/api/users/<id>/`: staff get every field, a user looking at themselves their own view. */
export const UserDetail = Type.Object({
  ...SelfUser.properties,
  is_superuser: Type.Optional(Type.Boolean()),
  verification_email_attempts: Type.Optional(Type.Integer()),
  verification_email_last_attempt: Type.Optional(Type.Union([Timestamp, Type.Null()])),
  verification_email_last_success: Type.Optional(Type.Union([Timestamp, Type.Null()])),
});
