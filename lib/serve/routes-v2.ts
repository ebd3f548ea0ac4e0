/**
 * The Open Inference Protocol (KServe v2) over REST: health, server and model metadata, model
 * readiness, and inference on JSON FP32 tensors. Requests shaped as KServe's and Triton's HTTP
 * clients send them (with JSON data, not Triton's binary extension) work unchanged.
 */
import type { FastifyInstance } from 'fastify';
import { ParameterError } from '../errors.js';
import { QueueFullError } from './batcher.js';
import { allModelsReady, beforeDeadline, deadlineSignal, modelFor, type ServeContext } from './context.js';
import { ServeError } from './errors.js';
import type { ServedModel } from './served-model.js';

interface InferTensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

interface InferBody {
  id?: string;
  inputs: InferTensor[];
  outputs?: { name: string }[];
}

/** Only the structure: the tensor's contents are checked by hand, faster than ajv on 150k numbers. */
const INFER_SCHEMA = {
  type: 'object',
  required: ['inputs'],
  properties: {
    id: { type: 'string', maxLength: 256 },
    parameters: { type: 'object' },
    inputs: {
      type: 'array',
      minItems: 1,
      maxItems: 16,
      items: {
        type: 'object',
        required: ['name', 'shape', 'datatype', 'data'],
        properties: {
          name: { type: 'string', maxLength: 256 },
          shape: { type: 'array', maxItems: 8, items: { type: 'integer', minimum: 0 } },
          datatype: { type: 'string', maxLength: 16 },
          parameters: { type: 'object' },
          data: { type: 'array' },
        },
      },
    },
    outputs: {
      type: 'array',
      maxItems: 16,
      items: { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 256 }, parameters: { type: 'object' } } },
    },
  },
} as const;

const NAME_PARAMS = { type: 'object', properties: { name: { type: 'string', maxLength: 256 } }, required: ['name'] } as const;

export function registerV2Routes(app: FastifyInstance, context: ServeContext): void {

  app.get('/v2/health/live', async () => ({ live: true }));
  app.get('/v2/health/ready', async (_request, reply) => {
    const ready = allModelsReady(context);
    return reply.code(ready ? 200 : 503).send({ ready });
  });
  app.get('/v2', async () => ({ name: 'convnode', version: context.version, extensions: [] }));

  app.get<{ Params: { name: string } }>('/v2/models/:name', { schema: { params: NAME_PARAMS } }, async (request) => {
    const model = modelFor(context, request.params.name, false);
    return { name: model.name, versions: ['1'], platform: 'onnx', inputs: model.inputs, outputs: model.outputs };
  });

  app.get<{ Params: { name: string } }>('/v2/models/:name/ready', { schema: { params: NAME_PARAMS } }, async (request, reply) => {
    const model = modelFor(context, request.params.name, false);
    const ready = model.ready && !context.draining;
    return reply.code(ready ? 200 : 503).send({ name: model.name, ready });
  });

  app.post<{ Params: { name: string }; Body: InferBody }>(
    '/v2/models/:name/infer',
    {
      schema: { params: NAME_PARAMS, body: INFER_SCHEMA },
      // Only JSON reaches this route: 415 before a byte of another type's body is read.
      onRequest: async (request) => {
        if (!/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? '')) {
          throw new ServeError(415, 'UNSUPPORTED_MEDIA_TYPE', 'infer takes application/json (KServe v2 JSON tensors)');
        }
      },
    },
    async (request) => {
      const model = modelFor(context, request.params.name);
      const { rows, data } = readInput(request.body, model);
      const wanted = requestedOutputs(request.body, model);
      const deadline = deadlineSignal(request.startedAt, model.config.deadlineMs);
      try {
        const { result } = await beforeDeadline(submit(model, { rows, data }, deadline.signal), deadline.signal);
        const outputs = wanted.map((name) => {
          const tensor = result[name];
          return { name, datatype: 'FP32', shape: [...tensor.shape], data: Array.from(tensor.data) };
        });
        return { model_name: model.name, model_version: '1', ...(request.body.id === undefined ? {} : { id: request.body.id }), outputs };
      } finally {
        deadline.clear();
      }
    },
  );
}

/** Queues rows on a model, turning the batcher's refusals into answers. */
export async function submit(model: ServedModel, request: { rows: number; data: Float32Array }, signal: AbortSignal) {
  try {
    return await model.submit(request, signal);
  } catch (error) {
    if (error instanceof QueueFullError) {
      throw new ServeError(503, 'QUEUE_FULL', `model '${model.name}' has ${error.maxQueue} requests waiting; retry shortly`, { 'retry-after': '1' });
    }
    if (error instanceof ParameterError) throw new ServeError(400, 'BAD_REQUEST', error.message);
    throw error;
  }
}

/** The one input tensor, checked field by field against the model's input; errors name the field. */
function readInput(body: InferBody, model: ServedModel): { rows: number; data: Float32Array } {
  const [spec] = model.inputs;
  if (body.inputs.length !== 1) throw invalid('inputs', `must hold exactly one tensor (this model has one input, '${spec.name}'), got ${body.inputs.length}`);
  const input = body.inputs[0];
  if (input.name !== spec.name) throw invalid('inputs[0].name', `must be '${spec.name}', this model's input`);
  if (input.datatype !== 'FP32') throw invalid('inputs[0].datatype', `must be 'FP32' (the only datatype this server takes)`);
  const [, ...chw] = spec.shape;
  const { shape } = input;
  const maxBatch = model.config.maxBatch;
  if (shape.length !== spec.shape.length || shape[0] < 1 || shape[0] > maxBatch || chw.some((d, i) => shape[i + 1] !== d)) {
    throw invalid('inputs[0].shape', `must be [n, ${chw.join(', ')}] with n from 1 to ${maxBatch}, got [${shape.join(', ')}]`);
  }
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  const written = flattenInto(input.data, data, 0, 0);
  if (written !== size) throw invalid('inputs[0].data', `must hold ${size} numbers for shape [${shape.join(', ')}], got ${written}`);
  return { rows: shape[0], data };
}

/** Copies a row-major array (flat, or nested as some clients send it) into `out`; returns the count. */
function flattenInto(values: readonly unknown[], out: Float32Array, at: number, depth: number): number {
  if (depth > 8) throw invalid('inputs[0].data', 'is nested deeper than the shape');
  let n = at;
  for (const v of values) {
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw invalid('inputs[0].data', `holds a value that is not a finite number at index ${n}`);
      if (n < out.length) out[n] = v;
      n++;
    } else if (Array.isArray(v)) {
      n = flattenInto(v, out, n, depth + 1);
    } else {
      throw invalid('inputs[0].data', `must hold only numbers (FP32), found a ${v === null ? 'null' : typeof v} at index ${n}`);
    }
  }
  return n;
}

function requestedOutputs(body: InferBody, model: ServedModel): string[] {
  const names = model.outputs.map((o) => o.name);
  if (body.outputs === undefined || body.outputs.length === 0) return names;
  return body.outputs.map((o, i) => {
    if (!names.includes(o.name)) throw invalid(`outputs[${i}].name`, `must be one of this model's outputs: ${names.join(', ')}`);
    return o.name;
  });
}

function invalid(field: string, rule: string): ServeError {
  return new ServeError(400, 'INVALID_TENSOR', `${field} ${rule}`);
}
