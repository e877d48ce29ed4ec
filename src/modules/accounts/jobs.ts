import type { Deps } from '../../platform/deps.js';
import { defineJob } from '../../platform/jobs/registry.js';
import { SEND_PASSWORD_RESET_EMAIL, sendPasswordResetEmail } from './password-reset.js';
import { SEND_VERIFICATION_EMAIL, sendVerificationEmail } from './registration.js';

export const accountJobs = [
  defineJob<Deps, { user_id: number }>({
    name: SEND_VERIFICATION_EMAIL,
    description: 'E-mail a 24-hour verification link; records attempts and successes on the user',
    run: ({ user_id }, { deps }) => sendVerificationEmail(deps, user_id),
  }),
  defineJob<Deps, { user_id: number }>({
    name: SEND_PASSWORD_RESET_EMAIL,
    description: 'E-mail a single-use password reset token, valid 1 hour',
    run: ({ user_id }, { deps }) => sendPasswordResetEmail(deps, user_id),
  }),
];
