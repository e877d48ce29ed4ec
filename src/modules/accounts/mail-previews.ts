import type { Config } from '../../config.js';
import { passwordResetEmail, verificationEmail } from './emails.js';
import type { User } from './tables.js';

const sample = { email: 'ada@example.com', firstName: 'Ada', username: 'ada' } as User;

export const accountMailPreviews = (config: Config) => [
  {
    name: 'verification_email',
    message: verificationEmail(sample, `${config.siteUrl}/api/verify-email/sample-token/`, config.shopName),
  },
  {
    name: 'password_reset_email',
    message: passwordResetEmail(
      sample,
      `${config.siteUrl}/reset-password/?token=sample-token`,
      'sample-token',
      config.shopName,
    ),
  },
];
