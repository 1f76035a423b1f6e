/**
 * The WHERE part of a route: a subset of IoT Hub's routing query language, enough for the conditions routes
 * usually hold. Supported: comparisons (= != <> < > <= >=), AND / OR / NOT, parentheses, string ('text'),
 * number, true / false / null literals; application properties by name; system properties `$contentType`,
 * `$contentEncoding`, `$connectionDeviceId`, `$connectionModuleId`, `$outputName`, `$messageId`, `$correlationId`,
 * `$userId`; `$body.a.b` when the message is JSON (contentType application/json, contentEncoding utf-8, as IoT Hub
 * requires); functions IS_DEFINED, IS_STRING, IS_NUMBER, IS_BOOL, IS_NULL, LOWER, UPPER, LENGTH, CONTAINS,
 * STARTS_WITH, ENDS_WITH. Anything else is rejected when the route is parsed, so a route never silently misroutes.
 * As in IoT Hub, a comparison with an undefined value is false; unlike it, a numeric string compares as a number
 * against a number (application properties are always strings on MQTT).
 */
export interface ConditionInput {
  properties: Record<string, string>;
  system: Record<string, string | undefined>;
  body: () => unknown;
}

type Value = string | number | boolean | null | undefined | object;
type Node = (input: ConditionInput) => Value;

const FUNCTIONS: Record<string, { arity: number; apply: (...args: Value[]) => Value }> = {
  IS_DEFINED: { arity: 1, apply: (v) => v !== undefined },
  IS_STRING: { arity: 1, apply: (v) => typeof v === 'string' },
  IS_NUMBER: { arity: 1, apply: (v) => typeof v === 'number' },
  IS_BOOL: { arity: 1, apply: (v) => typeof v === 'boolean' },
  IS_NULL: { arity: 1, apply: (v) => v === null },
  LOWER: { arity: 1, apply: (v) => (typeof v === 'string' ? v.toLowerCase() : undefined) },
  UPPER: { arity: 1, apply: (v) => (typeof v === 'string' ? v.toUpperCase() : undefined) },
  LENGTH: { arity: 1, apply: (v) => (typeof v === 'string' ? v.length : undefined) },
  CONTAINS: { arity: 2, apply: (a, b) => (typeof a === 'string' && typeof b === 'string' ? a.includes(b) : undefined) },
  STARTS_WITH: { arity: 2, apply: (a, b) => (typeof a === 'string' && typeof b === 'string' ? a.startsWith(b) : undefined) },
  ENDS_WITH: { arity: 2, apply: (a, b) => (typeof a === 'string' && typeof b === 'string' ? a.endsWith(b) : undefined) },
};

const SYSTEM_PROPERTIES = new Set([
  '$contentType', '$contentEncoding', '$connectionDeviceId', '$connectionModuleId', '$outputName', '$messageId', '$correlationId', '$userId',
]);

type Token = { kind: 'string' | 'number' | 'name' | 'op' | 'punct'; text: string; at: number };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const pattern = /\s+|'((?:[^']|'')*)'|(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|([A-Za-z_$][\w$.-]*)|(<>|!=|<=|>=|=|<|>)|([(),])/y;
  while (pattern.lastIndex < source.length) {
    const at = pattern.lastIndex;
    const match = pattern.exec(source);
    if (!match) throw new Error(`unexpected '${source.slice(at, at + 10)}' at position ${at + 1}`);
    if (match[1] !== undefined) tokens.push({ kind: 'string', text: match[1].replace(/''/g, "'"), at });
    else if (match[2] !== undefined) tokens.push({ kind: 'number', text: match[2], at });
    else if (match[3] !== undefined) tokens.push({ kind: 'name', text: match[3], at });
    else if (match[4] !== undefined) tokens.push({ kind: 'op', text: match[4], at });
    else if (match[5] !== undefined) tokens.push({ kind: 'punct', text: match[5], at });
  }
  return tokens;
}

function compare(op: string, a: Value, b: Value): boolean | undefined {
  if (a === undefined || b === undefined) return undefined;
  // Application properties are strings on the wire: let `temperature > 25` compare numbers.
  if (typeof a === 'number' && typeof b === 'string' && b.trim() !== '' && !Number.isNaN(Number(b))) b = Number(b);
  if (typeof b === 'number' && typeof a === 'string' && a.trim() !== '' && !Number.isNaN(Number(a))) a = Number(a);
  switch (op) {
    case '=':
      return a === b;
    case '!=':
    case '<>':
      return a !== b;
  }
  if (typeof a !== typeof b || (typeof a !== 'number' && typeof a !== 'string')) return undefined;
  const [x, y] = [a as number | string, b as number | string];
  return op === '<' ? x < y : op === '>' ? x > y : op === '<=' ? x <= y : x >= y;
}

function lookup(value: unknown, path: string[]): Value {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || !(key in current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current as Value;
}

class Parser {
  private position = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Node {
    const node = this.or();
    const extra = this.tokens[this.position];
    if (extra) throw new Error(`unexpected '${extra.text}' at position ${extra.at + 1}`);
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.position];
  }

  private keyword(word: string): boolean {
    const token = this.peek();
    if (token?.kind === 'name' && token.text.toUpperCase() === word) {
      this.position++;
      return true;
    }
    return false;
  }

  private expect(text: string): void {
    const token = this.tokens[this.position++];
    if (token?.text !== text) throw new Error(`expected '${text}'${token ? ` at position ${token.at + 1}` : ' at the end'}`);
  }

  private or(): Node {
    let left = this.and();
    while (this.keyword('OR')) {
      const [a, b] = [left, this.and()];
      left = (input) => {
        const [x, y] = [a(input), b(input)];
        return x === true || y === true ? true : x === undefined || y === undefined ? undefined : false;
      };
    }
    return left;
  }

  private and(): Node {
    let left = this.not();
    while (this.keyword('AND')) {
      const [a, b] = [left, this.not()];
      left = (input) => {
        const [x, y] = [a(input), b(input)];
        return x === false || y === false ? false : x === undefined || y === undefined ? undefined : x === true && y === true;
      };
    }
    return left;
  }

  private not(): Node {
    if (this.keyword('NOT')) {
      const operand = this.not();
      return (input) => {
        const value = operand(input);
        return typeof value === 'boolean' ? !value : undefined;
      };
    }
    return this.comparison();
  }

  private comparison(): Node {
    const left = this.operand();
    const token = this.peek();
    if (token?.kind !== 'op') return left;
    this.position++;
    const right = this.operand();
    return (input) => compare(token.text, left(input), right(input));
  }

  private operand(): Node {
    const token = this.tokens[this.position++];
    if (!token) throw new Error('the condition ends too early');
    if (token.kind === 'string') return () => token.text;
    if (token.kind === 'number') return () => Number(token.text);
    if (token.text === '(') {
      const inner = this.or();
      this.expect(')');
      return inner;
    }
    if (token.kind !== 'name') throw new Error(`unexpected '${token.text}' at position ${token.at + 1}`);
    const upper = token.text.toUpperCase();
    if (upper === 'TRUE' || upper === 'FALSE') return () => upper === 'TRUE';
    if (upper === 'NULL') return () => null;
    if (this.peek()?.text === '(') return this.call(token);
    return this.reference(token);
  }

  private call(name: Token): Node {
    const fn = FUNCTIONS[name.text.toUpperCase()];
    if (!fn) throw new Error(`function ${name.text} is not supported by the simulator (supported: ${Object.keys(FUNCTIONS).join(', ')})`);
    this.expect('(');
    const args: Node[] = [];
    if (this.peek()?.text !== ')') {
      do args.push(this.or());
      while (this.peek()?.text === ',' && this.position++);
    }
    this.expect(')');
    if (args.length !== fn.arity) throw new Error(`${name.text} takes ${fn.arity} argument(s), got ${args.length}`);
    return (input) => fn.apply(...args.map((arg) => arg(input)));
  }

  private reference(token: Token): Node {
    const name = token.text;
    if (name.startsWith('$body')) {
      const path = name.split('.').slice(1);
      if (name !== '$body' && !name.startsWith('$body.')) throw new Error(`unknown reference ${name}`);
      return (input) => lookup(input.body(), path);
    }
    if (name.startsWith('$')) {
      if (!SYSTEM_PROPERTIES.has(name)) throw new Error(`system property ${name} is not supported by the simulator (supported: ${[...SYSTEM_PROPERTIES].join(', ')}, $body)`);
      return (input) => input.system[name];
    }
    return (input) => input.properties[name];
  }
}

/** Parses a WHERE condition; throws an Error saying what is wrong and where. */
export function parseCondition(source: string): (input: ConditionInput) => boolean {
  const node = new Parser(tokenize(source)).parse();
  return (input) => node(input) === true;
}
