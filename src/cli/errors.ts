// A user error: printed to stderr without a stack trace, exit code 1. Anything else that escapes is a bug and is
// printed with its stack, exit code 2.

export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}
