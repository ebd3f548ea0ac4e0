/** `convnode summary`: the planner table (shapes, parameters, multiply-adds, receptive field, memory). */
import { formatSummary, summarize } from '../../layers/summary.js';
import { BUILTIN_MODEL_PATH } from '../../image/builtin.js';
import { nchwShape } from '../args.js';
import { UsageError, type CliIO, type Command, type ParsedArgs } from '../command.js';

async function run({ values, positionals }: ParsedArgs, io: CliIO): Promise<number> {
  const [target] = positionals;
  const input = nchwShape('input', values.input);
  let report: ReturnType<typeof summarize>;
  if (target === 'lenet5') {
    const shape = input ?? [1, 3, 32, 32];
    const { lenet5 } = await import('../../zoo/lenet5.js');
    report = summarize(lenet5({ inChannels: shape[1] }), shape);
  } else {
    const path = target === 'builtin' ? BUILTIN_MODEL_PATH : target;
    if (!path.toLowerCase().endsWith('.onnx')) {
      throw new UsageError(`the model must be 'lenet5', 'builtin' or a path ending in .onnx, got '${target}'`);
    }
    const { loadOnnx } = await import('../../onnx/index.js');
    const model = await loadOnnx(path);
    const shape = input ?? declaredInputShape(model);
    if (shape === undefined) {
      throw new UsageError(`'${target}' does not declare a fixed input size; give one with --input, e.g. --input 1x3x224x224`);
    }
    report = summarize(model, shape);
  }
  io.stdout.write(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : `${formatSummary(report)}\n`);
  return 0;
}

/** The model's declared input shape with a batch of 1, when every other dimension is a number. */
function declaredInputShape(model: { inputShapes: ReadonlyArray<readonly (number | string)[] | null> }): number[] | undefined {
  const declared = model.inputShapes[0];
  if (!declared || declared.length !== 4) return undefined;
  const rest = declared.slice(1);
  return rest.every((d) => typeof d === 'number' && d > 0) ? [1, ...(rest as number[])] : undefined;
}

export const summary: Command = {
  name: 'summary',
  summary: "Print the planner table of a model: the lecture's LeNet-5, the built-in model, or an .onnx file.",
  usage: 'summary <model.onnx|lenet5|builtin> [--input NxCxHxW]',
  minPositionals: 1,
  maxPositionals: 1,
  options: {
    input: { type: 'string', short: 'i', value: '<NxCxHxW>', help: 'input shape (default: lenet5 1x3x32x32, an .onnx its declared shape)' },
    json: { type: 'boolean', help: 'print the summary as JSON' },
  },
  examples: ['convnode summary lenet5', 'convnode summary lenet5 --input 8x1x32x32', 'convnode summary builtin', 'convnode summary resnet18.onnx --input 1x3x224x224'],
  run,
};
