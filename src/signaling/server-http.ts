// The signaling server's HTTP side: `GET /health`, `GET /metrics`, and nothing else.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What `GET /health` reports. */
export interface HealthCounts {
  sockets: number;
  lobbies: number;
}

/** A body and its content type, or a promise of them. */
export interface HttpAnswer {
  contentType: string;
  body: string;
}

/** The paths an HTTP port serves, each with what a GET of it answers. */
export type HttpRoutes = Map<string, () => HttpAnswer | Promise<HttpAnswer>>;

/** The answer of `GET /health`. */
export function healthAnswer(counts: HealthCounts): HttpAnswer {
  return { contentType: 'application/json', body: JSON.stringify(counts) };
}

/** Answers one HTTP request from `routes`: 404 for another path, 405 for another method. */
export function answerHttp(request: IncomingMessage, response: ServerResponse, routes: HttpRoutes, onError: (error: unknown) => void): void {
  const path = (request.url ?? '').split('?', 1)[0] ?? '';
  const route = routes.get(path);
  if (route === undefined) {
    sendJson(response, 404, { error: 'not found' });
  } else if (request.method !== 'GET') {
    response.setHeader('allow', 'GET');
    sendJson(response, 405, { error: 'method not allowed' });
  } else {
    Promise.resolve()
      .then(route)
      .then(
        ({ contentType, body }) => {
          response.writeHead(200, { 'content-type': contentType });
          response.end(body);
        },
        (error: unknown) => {
          onError(error);
          sendJson(response, 500, { error: 'internal server error' });
        },
      );
  }
}

function sendJson(response: ServerResponse, status: number, body: object): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
