/** The flags detect and eval read. */
const READING_FLAGS = ['preset', 'json', 'model', 'threads', 'backend', 'recognition', 'min-text-score', 'rec-model', 'rec-dict', 'lookalikes', 'annotate', 'ignore-regions'];

/**
 * The flags each command reads, besides --help: one given to another (a bench flag to detect) would go unread. The
 * bench's --upstream and --batch runs are commands of their own: they read none of the pipeline bench's other flags
 * (--batch measures both presets' own models on the CPU), nor --batch of --upstream, which main takes first.
 */
const COMMAND_FLAGS: Record<string, readonly string[]> = {
  detect: READING_FLAGS,
  eval: READING_FLAGS,
  bench: ['preset', 'json', 'model', 'threads', 'backend', 'streams', 'seconds', 'cameras', 'video', 'preview', 'in-process'],
  'bench --upstream': ['upstream', 'json'],
  'bench --batch': ['batch', 'json', 'seconds', 'video', 'streams', 'threads'],
};

/**
 * Where a flag a command does not read has its way in, for one no other command reads either: the bench's inference
 * takes its regions from the environment as any inference does, and a flag would be a second way in.
 */
const ADVICE: Record<string, Record<string, string>> = {
  bench: { 'ignore-regions': 'set IGNORE_REGIONS (by SOURCE_ID: camera0, camera1, ... or "*"), which it hands on to the inference it runs' },
};

/**
 * Why `command` refuses a flag given on its command line that it does not read (`given`: the flags given, without
 * their dashes), naming the commands that read it; undefined where it reads them all, or is no command.
 */
export function unreadFlag(command: string, given: readonly string[]): string | undefined {
  const mode = command !== 'bench' ? command : given.includes('upstream') ? 'bench --upstream' : given.includes('batch') ? 'bench --batch' : command;
  const reads = COMMAND_FLAGS[mode];
  const flag = reads && given.find((name) => name !== 'help' && !reads.includes(name));
  if (flag === undefined) return undefined;
  // Another command's runs named by the command alone (detect --seconds: bench takes it), the bench's own by their flag.
  const readers = [...new Set(Object.keys(COMMAND_FLAGS).filter((other) => COMMAND_FLAGS[other].includes(flag)).map((other) => (other.startsWith(command) ? other : other.split(' ')[0])))];
  const where = ADVICE[command]?.[flag] ?? `${readers.join(' and ')} ${readers.length > 1 ? 'take' : 'takes'} it`;
  return `${mode} takes no --${flag}: ${where}`;
}
