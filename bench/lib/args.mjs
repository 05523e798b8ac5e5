// The bench scripts' numeric options: a bad value stops the script with an error naming the option and the value.

/** `args[name]` as an integer ≥ 1. */
export function positiveInt(args, name) {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, not ${args[name]}`);
  return n;
}

/** `args[name]` as an integer ≥ 0. */
export function nonNegativeInt(args, name) {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, not ${args[name]}`);
  return n;
}
