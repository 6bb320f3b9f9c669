/**
 * An error a person can act on: its message says what is wrong and what to do. The CLI prints it as one line
 * (no stack) and the bot shows it privately to whoever caused it; anything else is a bug, logged with its stack.
 */
export class UserFacingError extends Error {
  override name = 'UserFacingError';
}
