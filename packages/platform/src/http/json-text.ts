import type { FastifyReply } from 'fastify';

/**
 * Sends JSON that is already text (e.g. serialized once and reused): with a JSON content type,
 * Fastify sends a string as is, without the route's serializer. The route's typed reply only knows
 * its schema's object shape, hence the plain FastifyReply here; the text must be that shape's JSON.
 */
export function sendJsonText(reply: FastifyReply, text: string): FastifyReply {
  return reply.type('application/json; charset=utf-8').send(text);
}
