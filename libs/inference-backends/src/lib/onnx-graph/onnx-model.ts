import { bytesField, float32Field, float32Value, packedVarints, readMessage, stringField, stringValue, varintField, varintValue, writeMessage, type WireField } from './protobuf-wire';

/** Field numbers from onnx.proto (ONNX's own schema) that the graph view reads or writes. */
const MODEL = { graph: 7 } as const;
const GRAPH = { node: 1, initializer: 5, input: 11, output: 12 } as const;
const NODE = { input: 1, output: 2, opType: 4, attribute: 5 } as const;
const ATTRIBUTE = { name: 1, f: 2, s: 4, t: 5, g: 6, ints: 8, graphs: 11, type: 20 } as const;
const ATTRIBUTE_FLOAT = 1;
const TENSOR = { dims: 1, dataType: 2, floatData: 4, name: 8, rawData: 9 } as const;
const TENSOR_FLOAT = 1;
const VALUE_INFO = { name: 1, type: 2 } as const;
const TYPE = { tensorType: 1 } as const;
const TENSOR_TYPE = { elemType: 1, shape: 2 } as const;
const SHAPE = { dim: 1 } as const;
const DIMENSION = { value: 1 } as const;
/** From a value's type down to its shape: type, tensor_type, shape. */
const SHAPE_PATH = [VALUE_INFO.type, TYPE.tensorType, TENSOR_TYPE.shape];

/** A float32 constant: a Constant node's value or an initializer. */
export interface FloatTensor {
  dims: number[];
  data: Float32Array;
}

/**
 * A graph input as the file declares it. `elementType` is onnx.proto's TensorProto.DataType (1: float32), absent for
 * an input that is no tensor; `dims` has undefined where the file leaves a dimension open (dim_param, or nothing), and
 * is itself absent where the file gives no shape.
 */
export interface OnnxInput {
  name: string;
  elementType?: number;
  dims?: Array<number | undefined>;
}

/** A node of the graph; `fields` are the ones it was read with (name, domain, attributes, ...), inputs and outputs aside. */
export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  fields: WireField[];
}

/**
 * An ONNX model's main graph as a list of nodes that can be rewritten, and its constants (Constant nodes and
 * initializers) as float tensors. Everything else in the file (opsets, inputs, shapes, metadata) is written back as
 * it was read.
 */
export class OnnxGraph {
  private constructor(
    private readonly modelFields: WireField[],
    private readonly graphFields: WireField[],
    public nodes: OnnxNode[],
    private readonly initializers: Map<string, { field: WireField; tensor?: FloatTensor }>,
    /** The graph's outputs and inputs: values that must keep their names. */
    readonly boundary: ReadonlySet<string>,
  ) {}

  static read(model: Uint8Array): OnnxGraph {
    const modelFields = readMessage(model);
    const graphFields = readMessage(graphOf(modelFields).payload);
    const nodes: OnnxNode[] = [];
    const initializers = new Map<string, { field: WireField; tensor?: FloatTensor }>();
    const boundary = new Set<string>();
    for (const field of graphFields) {
      if (field.number === GRAPH.node) nodes.push(readNode(field.payload));
      else if (field.number === GRAPH.initializer) {
        const tensorFields = readMessage(field.payload);
        const name = tensorFields.find(({ number }) => number === TENSOR.name);
        if (name) initializers.set(stringValue(name), { field, tensor: readFloatTensor(tensorFields) });
      } else if (field.number === GRAPH.output || field.number === GRAPH.input) {
        const name = valueName(field);
        if (name !== undefined) boundary.add(name);
      }
    }
    return new OnnxGraph(modelFields, graphFields, nodes, initializers, boundary);
  }

  /** The float32 constant a value is, if it is one (a Constant node's output or an initializer). */
  constant(name: string): FloatTensor | undefined {
    const initializer = this.initializers.get(name);
    if (initializer) return initializer.tensor;
    const producer = this.nodes.find((node) => node.opType === 'Constant' && node.outputs[0] === name);
    const tensor = producer && attributeFields(producer, 'value')?.find(({ number }) => number === ATTRIBUTE.t);
    return tensor && readFloatTensor(readMessage(tensor.payload));
  }

  /**
   * Whether a node holds a graph of its own (If's branches, Loop's and Scan's bodies): those read the main graph's
   * values by name without listing them as inputs, which consumers() cannot see.
   */
  hasSubgraphs(): boolean {
    return this.nodes.some((node) =>
      node.fields.some((field) => field.number === NODE.attribute && readMessage(field.payload).some(({ number }) => number === ATTRIBUTE.g || number === ATTRIBUTE.graphs)),
    );
  }

  /** The nodes that read each value, and null for a graph output. */
  consumers(): Map<string, Array<OnnxNode | null>> {
    const consumers = new Map<string, Array<OnnxNode | null>>();
    const add = (name: string, node: OnnxNode | null) => consumers.set(name, [...(consumers.get(name) ?? []), node]);
    for (const node of this.nodes) for (const input of node.inputs) add(input, node);
    for (const name of this.boundary) add(name, null);
    return consumers;
  }

  /** The model with the nodes as they are now; constants nothing reads any more are left out. */
  write(): Uint8Array {
    const read = new Set(this.nodes.flatMap((node) => node.inputs));
    for (const name of this.boundary) read.add(name);
    const nodes = this.nodes.filter((node) => node.opType !== 'Constant' || node.outputs.some((output) => read.has(output)));
    const unread = new Set([...this.initializers].filter(([name]) => !read.has(name)).map(([, { field }]) => field));
    const graphFields: WireField[] = [];
    for (const field of this.graphFields) {
      if (field.number === GRAPH.node) {
        // The nodes go where the first of them was, in their (topological) order.
        if (graphFields.some(({ number }) => number === GRAPH.node)) continue;
        graphFields.push(...nodes.map((node) => bytesField(GRAPH.node, writeNode(node))));
      } else if (!unread.has(field)) graphFields.push(field);
    }
    const graph = writeMessage(graphFields);
    return writeMessage(this.modelFields.map((field) => (field.number === MODEL.graph ? bytesField(MODEL.graph, graph) : field)));
  }
}

/**
 * The inputs a model is run with, in the file's order: the graph's inputs less the initializers that older exports
 * list among them (ONNX Runtime does not count those as inputs either). Reads no node.
 */
export function readGraphInputs(model: Uint8Array): OnnxInput[] {
  const graphFields = readMessage(graphOf(readMessage(model)).payload);
  const initializers = new Set(graphFields.filter(({ number }) => number === GRAPH.initializer).map(tensorName));
  return graphFields.flatMap((field) => {
    const name = field.number === GRAPH.input ? valueName(field) : undefined;
    return name === undefined || initializers.has(name) ? [] : [readInput(name, readMessage(field.payload))];
  });
}

/**
 * The model with its first input's dimensions fixed (dim_value) where `dims` has a number, and as they were where it
 * has none: a static-shape export made of a dynamic one.
 */
export function withFixedInputDims(model: Uint8Array, dims: ReadonlyArray<number | undefined>): Uint8Array {
  const first = readGraphInputs(model)[0];
  if (!first?.dims) throw new RangeError('the model has no input with a shape to fix');
  const fixDims = (shape: WireField[]) => {
    let index = 0;
    return shape.map((field) => {
      if (field.number !== SHAPE.dim) return field;
      const size = dims[index++];
      return size === undefined ? field : bytesField(SHAPE.dim, writeMessage([varintField(DIMENSION.value, size)]));
    });
  };
  return editNested(model, [MODEL.graph], (graphFields) =>
    graphFields.map((field) => (field.number === GRAPH.input && valueName(field) === first.name ? bytesField(GRAPH.input, editNested(field.payload, SHAPE_PATH, fixDims)) : field)),
  );
}

/** A node that computes `opType` of `inputs` into `outputs`, with float attributes. */
export function makeNode(opType: string, inputs: string[], outputs: string[], floatAttributes: Record<string, number> = {}): OnnxNode {
  const fields = [
    stringField(NODE.opType, opType),
    ...Object.entries(floatAttributes).map(([name, value]) =>
      bytesField(NODE.attribute, writeMessage([stringField(ATTRIBUTE.name, name), float32Field(ATTRIBUTE.f, value), varintField(ATTRIBUTE.type, ATTRIBUTE_FLOAT)])),
    ),
  ];
  return { opType, inputs, outputs, fields };
}

/** A Constant node whose output is `name`, holding `tensor`. */
export function constantNode(name: string, tensor: FloatTensor): OnnxNode {
  const value = writeMessage([
    ...tensor.dims.map((dim) => varintField(TENSOR.dims, dim)),
    varintField(TENSOR.dataType, TENSOR_FLOAT),
    bytesField(TENSOR.rawData, new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength)),
  ]);
  const attribute = writeMessage([stringField(ATTRIBUTE.name, 'value'), bytesField(ATTRIBUTE.t, value), varintField(ATTRIBUTE.type, 4)]);
  return { opType: 'Constant', inputs: [], outputs: [name], fields: [stringField(NODE.opType, 'Constant'), bytesField(NODE.attribute, attribute)] };
}

/** A float attribute of a node (Clip's min and max before opset 11). */
export function floatAttribute(node: OnnxNode, name: string): number | undefined {
  const value = attributeFields(node, name)?.find(({ number }) => number === ATTRIBUTE.f);
  return value && float32Value(value);
}

/** An integer-list attribute of a node (a Conv's pads), non-negative values only. */
export function intsAttribute(node: OnnxNode, name: string): number[] | undefined {
  const fields = attributeFields(node, name);
  return fields && packedVarints(fields.filter(({ number }) => number === ATTRIBUTE.ints));
}

/** A string attribute of a node (a Conv's auto_pad). */
export function stringAttribute(node: OnnxNode, name: string): string | undefined {
  const value = attributeFields(node, name)?.find(({ number }) => number === ATTRIBUTE.s);
  return value && stringValue(value);
}

/** The fields of a node's attribute of that name, if it has one. */
function attributeFields(node: OnnxNode, name: string): WireField[] | undefined {
  const attribute = node.fields.find((field) => field.number === NODE.attribute && attributeName(field) === name);
  return attribute && readMessage(attribute.payload);
}

function graphOf(modelFields: readonly WireField[]): WireField {
  const graph = modelFields.find(({ number }) => number === MODEL.graph);
  if (!graph) throw new RangeError('not an ONNX model: it has no graph');
  return graph;
}

/** A ValueInfoProto's name (a graph input's or output's). */
function valueName(field: WireField): string | undefined {
  const name = readMessage(field.payload).find(({ number }) => number === VALUE_INFO.name);
  return name && stringValue(name);
}

/** A TensorProto's name (an initializer's). */
function tensorName(field: WireField): string | undefined {
  const name = readMessage(field.payload).find(({ number }) => number === TENSOR.name);
  return name && stringValue(name);
}

function readInput(name: string, valueInfo: WireField[]): OnnxInput {
  const tensorType = nestedFields(valueInfo, [VALUE_INFO.type, TYPE.tensorType]);
  if (!tensorType) return { name };
  const elemType = tensorType.find(({ number }) => number === TENSOR_TYPE.elemType);
  const shape = nestedFields(tensorType, [TENSOR_TYPE.shape]);
  const dims = shape
    ?.filter(({ number }) => number === SHAPE.dim)
    .map((dim) => {
      const value = readMessage(dim.payload).find(({ number }) => number === DIMENSION.value);
      const size = value && varintValue(value);
      // A negative dim_value (-1 in some exports) reads as a huge varint: open, as ONNX Runtime takes it.
      return size && Number.isSafeInteger(size) ? size : undefined;
    });
  return { name, ...(elemType && { elementType: varintValue(elemType) }), ...(dims && { dims }) };
}

/** The fields of the message nested along `path` (field numbers, outermost first), or undefined where one is missing. */
function nestedFields(fields: WireField[], path: readonly number[]): WireField[] | undefined {
  let at: WireField[] | undefined = fields;
  for (const number of path) {
    const field: WireField | undefined = at.find((candidate) => candidate.number === number);
    if (!field) return undefined;
    at = readMessage(field.payload);
  }
  return at;
}

/** `message` with the message nested along `path` (its first field of each number) replaced by `edit` of its fields. */
function editNested(message: Uint8Array, path: readonly number[], edit: (fields: WireField[]) => WireField[]): Uint8Array {
  const fields = readMessage(message);
  if (path.length === 0) return writeMessage(edit(fields));
  const [number, ...inner] = path;
  const index = fields.findIndex((field) => field.number === number);
  if (index < 0) throw new RangeError(`protobuf field ${number} is missing`);
  fields[index] = bytesField(number, editNested(fields[index].payload, inner, edit));
  return writeMessage(fields);
}

function readNode(bytes: Uint8Array): OnnxNode {
  const node: OnnxNode = { opType: '', inputs: [], outputs: [], fields: [] };
  for (const field of readMessage(bytes)) {
    if (field.number === NODE.input) node.inputs.push(stringValue(field));
    else if (field.number === NODE.output) node.outputs.push(stringValue(field));
    else {
      if (field.number === NODE.opType) node.opType = stringValue(field);
      node.fields.push(field);
    }
  }
  return node;
}

function writeNode(node: OnnxNode): Uint8Array {
  return writeMessage([...node.inputs.map((input) => stringField(NODE.input, input)), ...node.outputs.map((output) => stringField(NODE.output, output)), ...node.fields]);
}

function attributeName(field: WireField): string | undefined {
  const name = readMessage(field.payload).find(({ number }) => number === ATTRIBUTE.name);
  return name && stringValue(name);
}

/** A TensorProto's float32 contents (raw_data or float_data), or undefined for another type or external data. */
function readFloatTensor(fields: readonly WireField[]): FloatTensor | undefined {
  const dataType = fields.find(({ number }) => number === TENSOR.dataType);
  if (!dataType || varintValue(dataType) !== TENSOR_FLOAT) return undefined;
  const dims = packedVarints(fields.filter(({ number }) => number === TENSOR.dims));
  const count = dims.reduce((product, dim) => product * dim, 1);
  const raw = fields.find(({ number }) => number === TENSOR.rawData);
  const floats = fields.filter(({ number }) => number === TENSOR.floatData);
  let data: Float32Array;
  // A copy: the payload is a view of the file, at any byte offset (and a Buffer's slice() would not copy it).
  if (raw) data = new Float32Array(new Uint8Array(raw.payload).buffer);
  else if (floats.length > 0) data = Float32Array.from(floats.flatMap(packedFloats));
  else data = new Float32Array(0);
  return data.length === count ? { dims, data } : undefined;
}

/** A repeated float field's values, packed or one field each. */
function packedFloats(field: WireField): number[] {
  if (field.wireType === 5) return [float32Value(field)];
  const view = new DataView(field.payload.buffer, field.payload.byteOffset, field.payload.byteLength);
  return Array.from({ length: field.payload.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
}
