import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { foldElementwise } from './fold-elementwise';
import { constantNode, makeNode, OnnxGraph, type OnnxNode } from './onnx-model';
import { bytesField, stringField, varintField, writeMessage } from './protobuf-wire';

const MODELS = join(__dirname, '../../../../../models');

/** The model's first output for a fixed input that is not flat (a sine over the tensor), on one thread. */
async function runOnce(model: Uint8Array, dims: number[]): Promise<Float32Array> {
  const data = Float32Array.from({ length: dims.reduce((product, dim) => product * dim, 1) }, (_, i) => Math.sin(i * 0.37) * 0.8);
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
  try {
    const outputs = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', data, dims) });
    return outputs[session.outputNames[0]].data as Float32Array;
  } finally {
    await session.release();
  }
}

const maxDifference = (a: Float32Array, b: Float32Array) => a.reduce((most, value, i) => Math.max(most, Math.abs(value - b[i])), 0);
const opCount = (model: Uint8Array, opType: string) => OnnxGraph.read(model).nodes.filter((node) => node.opType === opType).length;

describe('foldElementwise on the shipped PaddleOCR models (real ONNX Runtime)', () => {
  it.each([
    ['ch_PP-OCRv4_rec_infer.onnx', [1, 3, 48, 320], 56, 28, 24],
    ['ch_PP-OCRv4_det_infer.onnx', [1, 3, 480, 640], 56, 24, 20],
    ['ch_pp_inf_dynamic.onnx', [1, 3, 320, 320], 0, 20, 0],
  ])('%s: folds the scales and biases around convolutions and rewrites the hard-swishes, and computes what the original does', async (file, dims, foldedIntoConv, hardSwishes, foldedBeforeConv) => {
    const original = readFileSync(join(MODELS, file));
    const folded = foldElementwise(original);
    expect(folded).toMatchObject({ foldedIntoConv, hardSwishes, foldedBeforeConv });
    // Each hard-swish: Add, Clip, Mul and Div become HardSigmoid and Mul (the models' SE blocks had HardSigmoids already).
    for (const [opType, change] of [['HardSigmoid', hardSwishes], ['Clip', -hardSwishes], ['Div', -hardSwishes]] as const) {
      expect(opCount(folded.model, opType)).toBe(opCount(original, opType) + change);
    }
    expect(opCount(folded.model, 'Mul') + opCount(folded.model, 'Add')).toBe(opCount(original, 'Mul') + opCount(original, 'Add') - foldedIntoConv - hardSwishes - foldedBeforeConv);
    const [expected, actual] = await Promise.all([runOnce(original, dims), runOnce(folded.model, dims)]);
    expect(actual).toHaveLength(expected.length);
    expect(maxDifference(actual, expected)).toBeLessThan(1e-5);
  }, 60_000);

  it('writes a model it read back byte for byte', () => {
    const original = readFileSync(join(MODELS, 'ch_PP-OCRv4_rec_infer.onnx'));
    expect(Buffer.from(OnnxGraph.read(original).write()).equals(original)).toBe(true);
  });
});

/** A float32 [1, 1, 2, 2] graph input or output. */
const valueInfo = (name: string, dims: number[]) => {
  const shape = writeMessage(dims.map((dim) => bytesField(1, writeMessage([varintField(1, dim)]))));
  const tensorType = writeMessage([varintField(1, 1), bytesField(2, shape)]);
  return writeMessage([stringField(1, name), bytesField(2, writeMessage([bytesField(1, tensorType)]))]);
};

/** A model of these nodes (opset 11) reading x [1, 1, 4, 4], its outputs each [1, 2, 4, 4]. */
function modelOf(nodes: OnnxNode[], outputs: string[]): Uint8Array {
  const graph = writeMessage([
    ...nodes.map((node) => bytesField(1, writeMessage([...node.inputs.map((input) => stringField(1, input)), ...node.outputs.map((output) => stringField(2, output)), ...node.fields]))),
    stringField(2, 'tiny'),
    bytesField(11, valueInfo('x', [1, 1, 4, 4])),
    ...outputs.map((name) => bytesField(12, valueInfo(name, [1, 2, 4, 4]))),
  ]);
  return writeMessage([varintField(1, 8), bytesField(7, graph), bytesField(8, writeMessage([varintField(2, 11)]))]);
}

const scalar = (name: string, value: number) => constantNode(name, { dims: [], data: Float32Array.of(value) });

/**
 * x -> Conv (two 1x1 filters) -> y -> Mul by 3 -> z, and also y -> Relu -> r where `yReadTwice`, or an If whose
 * branch reads y from the main graph, unlisted among its inputs, where `ySubgraph`.
 */
function convThenScale(yReadTwice: boolean, ySubgraph = false): Uint8Array {
  const nodes = [
    constantNode('w', { dims: [2, 1, 1, 1], data: Float32Array.of(0.5, -2) }),
    makeNode('Conv', ['x', 'w'], ['y']),
    scalar('three', 3),
    makeNode('Mul', ['y', 'three'], ['z']),
    ...(yReadTwice ? [makeNode('Relu', ['y'], ['r'])] : []),
    ...(ySubgraph ? [ifReading('y')] : []),
  ];
  return modelOf(nodes, yReadTwice ? ['z', 'r'] : ['z']);
}

/** An If node whose then_branch (a GRAPH attribute) is Identity of the main graph's `name`. */
function ifReading(name: string): OnnxNode {
  const branch = writeMessage([bytesField(1, writeMessage([stringField(1, name), stringField(2, 'branch_out'), stringField(4, 'Identity')])), stringField(2, 'then')]);
  const node = makeNode('If', ['cond'], ['chosen']);
  node.fields.push(bytesField(5, writeMessage([stringField(1, 'then_branch'), bytesField(6, branch), varintField(20, 5)])));
  return node;
}

/** x * 2 + 1 -> Conv (two filters, 1x1, or 3x3 padded by 1 to keep the size) -> z. */
function affineThenConv(kernel: 1 | 3): Uint8Array {
  const weights = Float32Array.from({ length: 2 * kernel * kernel }, (_, i) => (i % 3) - 0.75);
  const conv = makeNode('Conv', ['shifted', 'w'], ['z']);
  if (kernel === 3) conv.fields.push(bytesField(5, writeMessage([stringField(1, 'pads'), ...[1, 1, 1, 1].map((pad) => varintField(8, pad)), varintField(20, 7)])));
  const nodes = [scalar('two', 2), makeNode('Mul', ['x', 'two'], ['scaled']), scalar('one', 1), makeNode('Add', ['scaled', 'one'], ['shifted']), constantNode('w', { dims: [2, 1, kernel, kernel], data: weights }), conv];
  return modelOf(nodes, ['z']);
}

describe('foldElementwise (hand-made graphs)', () => {
  it('folds a constant Mul into the convolution it alone reads, with the same result', async () => {
    const model = convThenScale(false);
    const folded = foldElementwise(model);
    expect(folded.foldedIntoConv).toBe(1);
    expect(opCount(folded.model, 'Mul')).toBe(0);
    expect(await runOnce(folded.model, [1, 1, 4, 4])).toEqual(await runOnce(model, [1, 1, 4, 4]));
  });

  it('leaves a convolution whose output another node reads too, and returns the model as it was', () => {
    const model = convThenScale(true);
    expect(foldElementwise(model)).toEqual({ model, foldedIntoConv: 0, hardSwishes: 0, foldedBeforeConv: 0 });
  });

  it('folds a constant scale and shift into the unpadded convolution that reads them, with the same result', async () => {
    const model = affineThenConv(1);
    const folded = foldElementwise(model);
    expect(folded.foldedBeforeConv).toBe(2);
    expect(opCount(folded.model, 'Mul') + opCount(folded.model, 'Add')).toBe(0);
    expect(maxDifference(await runOnce(folded.model, [1, 1, 4, 4]), await runOnce(model, [1, 1, 4, 4]))).toBeLessThan(1e-6);
  });

  it('leaves a model with a subgraph, which may read a value a fold would rename (here If reads y)', () => {
    const model = convThenScale(false, true);
    expect(foldElementwise(model)).toEqual({ model, foldedIntoConv: 0, hardSwishes: 0, foldedBeforeConv: 0 });
  });

  it('leaves a shift before a padded convolution, whose border outputs sum padding that never got it', () => {
    const model = affineThenConv(3);
    expect(foldElementwise(model)).toEqual({ model, foldedIntoConv: 0, hardSwishes: 0, foldedBeforeConv: 0 });
  });
});
