// The `@` shorthands of Vixie cron. `@reboot` is left out on purpose: a scheduler has no reboot to hook.
const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export const MACRO_NAMES: readonly string[] = Object.keys(MACROS);

/** The five-field expression a macro stands for (any case), or undefined for an unknown one. */
export function expandMacro(macro: string): string | undefined {
  return MACROS[macro.toLowerCase()];
}
