import { renderEmail } from '../../platform/mail/template.js';
import type { User } from './tables.js';

const greeting = (user: User) => `Hello ${user.firstName || user.username},`;

export function verificationEmail(user: User, link: string, shopName: string) {
  return renderEmail(
    user.email,
    {
      subject: 'Verify your e-mail address',
      heading: 'Confirm your e-mail address',
      paragraphs: [greeting(user), 'Thanks for signing up. Please confirm that this is your e-mail address.'],
      action: { label: 'Verify e-mail', url: link },
      footnote: 'The link is valid for 24 hours. If you did not sign up, ignore this message.',
    },
    shopName,
  );
}

export function passwordResetEmail(user: User, link: string, token: string, shopName: string) {
  return renderEmail(
    user.email,
    {
      subject: 'Reset your password',
      heading: 'Reset your password',
      paragraphs: [
        greeting(user),
        'Someone (hopefully you) asked to reset the password of your account.',
        `Your reset token: ${token}`,
      ],
      action: { label: 'Choose a new password', url: link },
      footnote:
        'The token is valid for 1 hour and works once. If you did not ask for this, ignore this message.',
    },
    shopName,
  );
}
