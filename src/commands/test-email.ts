import type { Mailer } from '../platform/mail/mailer.js';
import { errorMessage } from '../platform/errors/describe.js';
import { renderEmail } from '../platform/mail/template.js';
import { CommandError, type Output } from './output.js';

/** Sends one e-mail with HTML and text parts and says where it went. */
export async function testEmail(mailer: Mailer, out: Output, to: string, shopName: string): Promise<void> {
  const message = renderEmail(
    to,
    {
      subject: `${shopName} test e-mail`,
      heading: 'It works',
      paragraphs: [
        `This is a test message from ${shopName}.`,
        'If you can read it, outgoing e-mail is configured correctly.',
      ],
    },
    shopName,
  );
  try {
    const sent = await mailer.send(message);
    out.line(`Sent to ${to} via ${sent.destination} (message id ${sent.messageId}).`);
  } catch (err) {
    throw new CommandError(`Sending to ${to} via ${mailer.description} failed: ${errorMessage(err)}`);
  }
}
