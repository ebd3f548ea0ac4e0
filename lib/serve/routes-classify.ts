/**
 * POST /v1/models/{name}/classify: images in, top-k labels out. The body is one raw image
 * (image/* or application/octet-stream) or a multipart form with several (one batch). Each image
 * is decoded and preprocessed on its own, before it joins a batch; an image that fails gets its
 * own error in the answer and the others are still classified.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { beforeDeadline, deadlineSignal, modelFor, type ServeContext } from './context.js';
import { decodeImage, type DecodedRow } from './decode.js';
import { ServeError, safeName, type ServeErrorCode } from './errors.js';
import { submit } from './routes-v2.js';
import type { ServedModel } from './served-model.js';

/** A raw image body: any image/* type, or bytes of no declared type. */
export const RAW_IMAGE_TYPE = /^(image\/[\w.+-]+|application\/octet-stream)\s*(;|$)/i;
const MULTIPART_TYPE = /^multipart\/form-data\s*;/i;

interface Upload {
  readonly name: string;
  readonly bytes: Buffer;
}

type ImageAnswer =
  | { name: string; top: { label: string; index: number; probability: number }[]; warnings?: readonly string[] }
  | { name: string; error: string; code: ServeErrorCode };

const QUERY = { type: 'object', properties: { top: { type: 'integer', minimum: 1, maximum: 1000 } }, additionalProperties: false } as const;
const PARAMS = { type: 'object', properties: { name: { type: 'string', maxLength: 256 } }, required: ['name'] } as const;

export function registerClassifyRoute(app: FastifyInstance, context: ServeContext): void {
  app.post<{ Params: { name: string }; Querystring: { top?: number } }>(
    '/v1/models/:name/classify',
    {
      schema: { params: PARAMS, querystring: QUERY },
      onRequest: async (request) => {
        const type = request.headers['content-type'] ?? '';
        if (!RAW_IMAGE_TYPE.test(type) && !MULTIPART_TYPE.test(type)) {
          throw new ServeError(415, 'UNSUPPORTED_MEDIA_TYPE', 'classify takes an image (image/*, application/octet-stream) or multipart/form-data with images');
        }
      },
    },
    async (request) => {
      const model = modelFor(context, request.params.name);
      const k = Math.min(request.query.top ?? model.config.topK, model.classCount);
      const deadline = deadlineSignal(request.startedAt, model.config.deadlineMs);
      try {
        const uploads = await readUploads(request, model, context.config.bodyLimit);
        const decoded = await beforeDeadline(
          Promise.allSettled(uploads.map((u) => decodeImage(u.bytes, u.name, model.classifier.image, model.config, deadline.signal))),
          deadline.signal,
        );
        // One raw image that does not decode is the whole request's failure: answer its status.
        if (!request.isMultipart() && decoded[0].status === 'rejected') throw decoded[0].reason;
        const good = decoded.flatMap((d) => (d.status === 'fulfilled' ? [d.value] : []));
        const { top, batchSize } = await classifyRows(model, good, k, deadline.signal);
        let next = 0;
        const results: ImageAnswer[] = decoded.map((d, i) => {
          const name = uploads[i].name;
          if (d.status === 'rejected') {
            const error = d.reason instanceof ServeError ? d.reason : new ServeError(400, 'INVALID_IMAGE', `image '${name}' cannot be decoded`);
            return { name, error: error.message, code: error.code };
          }
          const answer: ImageAnswer = { name, top: top[next++] };
          if (d.value.warnings.length > 0) answer.warnings = d.value.warnings;
          return answer;
        });
        return { model_name: model.name, batch_size: batchSize, results };
      } finally {
        deadline.clear();
      }
    },
  );
}

async function classifyRows(model: ServedModel, rows: readonly DecodedRow[], k: number, signal: AbortSignal) {
  if (rows.length === 0) return { top: [], batchSize: 0 };
  const data = rows.length === 1 ? rows[0].data : new Float32Array(rows.length * model.rowSize);
  if (rows.length > 1) rows.forEach((r, i) => data.set(r.data, i * model.rowSize));
  const { result, batchSize } = await beforeDeadline(submit(model, { rows: rows.length, data }, signal), signal);
  const top = model.top(result, k).map((ranked) => ranked.map((p) => ({ label: p.label, index: p.index, probability: p.probability })));
  return { top, batchSize };
}

/**
 * The raw body as one upload, or every file of a multipart form: at most the model's max batch,
 * and at most bodyLimit bytes together (fastify's body limit does not see a multipart stream).
 */
async function readUploads(request: FastifyRequest, model: ServedModel, bodyLimit: number): Promise<Upload[]> {
  if (!request.isMultipart()) {
    const bytes = request.body;
    if (!Buffer.isBuffer(bytes) || bytes.length === 0) throw new ServeError(400, 'INVALID_IMAGE', 'the request body is empty; send the image bytes');
    return [{ name: safeName(request.headers['x-filename'], 'image'), bytes }];
  }
  const uploads: Upload[] = [];
  let total = 0;
  for await (const part of request.parts()) {
    if (part.type !== 'file') continue; // form fields carry nothing we read
    if (uploads.length === model.config.maxBatch) {
      throw new ServeError(400, 'TOO_MANY_IMAGES', `model '${model.name}' takes at most ${model.config.maxBatch} images per request`);
    }
    const bytes = await part.toBuffer();
    total += bytes.length;
    if (total > bodyLimit) throw new ServeError(413, 'BODY_TOO_LARGE', 'the request body is larger than the server accepts');
    uploads.push({ name: safeName(part.filename, `image-${uploads.length}`), bytes });
  }
  if (uploads.length === 0) throw new ServeError(400, 'INVALID_IMAGE', 'the form holds no file; send each image as a file field');
  return uploads;
}
