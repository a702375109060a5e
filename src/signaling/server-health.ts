// The signaling server's HTTP side: `GET /health` and nothing else.
import type { IncomingMessage, ServerResponse } from 'node:http';

const HEALTH_PATH = '/health';

/** What `GET /health` reports. */
export interface HealthCounts {
  sockets: number;
  lobbies: number;
}

/** Answers one HTTP request: the counts on `GET /health`, 405 or 404 otherwise. */
export function answerHttp(request: IncomingMessage, response: ServerResponse, counts: () => HealthCounts): void {
  const path = (request.url ?? '').split('?', 1)[0];
  if (path !== HEALTH_PATH) {
    sendJson(response, 404, { error: 'not found' });
  } else if (request.method !== 'GET') {
    response.setHeader('allow', 'GET');
    sendJson(response, 405, { error: 'method not allowed' });
  } else {
    sendJson(response, 200, counts());
  }
}

function sendJson(response: ServerResponse, status: number, body: object): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
