/**
 * pino root logger. Secrets never reach a log line: `redact` removes passwords, tokens and
 * authorization headers wherever they appear in a logged object.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'credentials',
  '*.credentials',
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
];

export function createLogger(level: LevelWithSilent, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: 'firewatch' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? process.stdout,
  );
}

export type { Logger };
