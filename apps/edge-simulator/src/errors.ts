/** A command line a person got wrong: the message and the usage are shown. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A problem a person can act on (port taken, no simulator running): the message alone is shown, no stack. */
export class SimulatorError extends Error {
  override readonly name = 'SimulatorError';
}
