import http from 'node:http';
import type { FastifyInstance } from 'fastify';
import { waitFor } from '../../helpers/wait.js';

export interface ReadEvent {
  id?: string;
  event?: string;
  data: string;
}

/** An SSE response read over real HTTP, parsed as EventSource would. */
export interface OpenStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The body as received. */
  raw(): string;
  events: ReadEvent[];
  /** Comment lines (heartbeats) received. */
  comments: number;
  /** Resolves when the server ended the response (or the connection closed). */
  ended: Promise<void>;
  isEnded(): boolean;
  /** Waits until `n` events have arrived. */
  waitForEvents(n: number, timeoutMs?: number): Promise<void>;
  /** The client goes away. */
  close(): void;
  /** Stops reading (a slow client): the server's writes back up. */
  pause(): void;
}

export async function listen(app: FastifyInstance): Promise<string> {
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return address;
}

export function openStream(url: string, headers: Record<string, string> = {}): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      res.setEncoding('utf8');
      let body = '';
      let buffer = '';
      let ended = false;
      let current: Partial<ReadEvent> & { dataLines?: string[] } = {};
      const stream: OpenStream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        raw: () => body,
        events: [],
        comments: 0,
        ended: new Promise<void>((done) => {
          res.on('end', () => {
            ended = true;
            done();
          });
          res.on('close', () => {
            ended = true;
            done();
          });
        }),
        isEnded: () => ended,
        waitForEvents: (n, timeoutMs = 5000) =>
          waitFor(() => stream.events.length >= n, timeoutMs, `${n} events (have ${stream.events.length})`),
        close: () => request.destroy(),
        pause: () => res.pause(),
      };
      res.on('data', (chunk: string) => {
        body += chunk;
        buffer += chunk;
        let newline: number;
        while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
          if (line === '') {
            if (current.dataLines) {
              stream.events.push({
                id: current.id,
                event: current.event,
                data: current.dataLines.join('\n'),
              });
            }
            current = {};
          } else if (line.startsWith(':')) {
            stream.comments++;
          } else {
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            let value = colon < 0 ? '' : line.slice(colon + 1);
            if (value.startsWith(' ')) value = value.slice(1);
            if (field === 'data') (current.dataLines ??= []).push(value);
            else if (field === 'id') current.id = value;
            else if (field === 'event') current.event = value;
          }
        }
      });
      res.on('error', () => undefined);
      resolve(stream);
    });
    request.on('error', reject);
  });
}
